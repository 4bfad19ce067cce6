"""Each article's social files: ``social/<slug>.json`` (post texts and card metadata),
``social/<slug>.html`` (the ``<meta>`` snippet) and ``social/<slug>.png`` (the card).

Card images are the slow part, so one is rendered again only when what it shows
changes: ``.syndicate/cache/cards.json`` (git-ignored) remembers the key of each
card written, and a card whose key is unchanged keeps the bytes already in
``feeds/``.  Deleting the cache only costs time.

Each article's files are made apart from the others', on every core when there are
many: its post texts (fitting five platforms' counts takes a while) and its card.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from ..config import Config
from ..content import Article
from ..errors import Diagnostic, RenderError
from ..markdown import Rendered
from ..output import atomic_write, json_bytes
from ..workers import parallel_map, shared
from .card import CardInput, card_key, prepare, render_card
from .meta import card_metadata, card_path
from .text import compose

CACHE = ".syndicate/cache/cards.json"


@dataclass(frozen=True, slots=True)
class Social:
    files: dict[str, bytes]
    diagnostics: tuple[Diagnostic, ...]
    #: Cards rendered this time (the others were unchanged).
    rendered: int
    #: The key of every card, for :func:`save_keys` once the files are written.
    keys: dict[str, str]


def _posts(config: Config, article: Article, url: str, summary: str) -> dict[str, Any]:
    social = config.social
    posts: dict[str, Any] = {}
    for platform in social.platforms:
        settings = social.platform(platform)
        post = compose(
            platform,
            title=article.title,
            summary=summary,
            url=url,
            categories=article.categories,
            hashtags=social.hashtags,
            suffix=settings.suffix,
            limit=settings.limit,
        )
        posts[platform] = post.as_dict()
        if platform == "bluesky":
            posts[platform]["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": url,
                    "title": article.title,
                    "description": summary,
                    "thumb": card_path(article),
                },
            }
    return posts


def _card_input(config: Config, article: Article, date: str) -> CardInput:
    image = article.image.source if article.image is not None else None
    return CardInput(
        site=config.site.title,
        title=article.title,
        author=", ".join(article.authors),
        date=date,
        image=image,
    )


class _Job(NamedTuple):
    """One article's social files to make: its card only when it must be rendered."""

    article: Article
    url: str
    summary: str
    card: CardInput | None


class _Made(NamedTuple):
    document: bytes
    #: The card's PNG (None when it was not rendered) and what it could not draw.
    png: bytes | None
    problems: tuple[str, ...]


def _make(job: _Job) -> _Made:
    """``social/<slug>.json`` and, when asked, the card of one article.  Runs in a worker:
    the config comes from :func:`~syndicate.workers.shared`."""
    config: Config = shared()
    article, url, summary = job.article, job.url, job.summary
    try:
        posts = _posts(config, article, url, summary)
    except ValueError as error:
        raise RenderError(f"{article.source}: social posts: {error}") from None
    meta = card_metadata(config, article, url, summary)
    document = {
        "url": url,
        "posts": posts,
        "og": meta.og,
        "twitter": meta.twitter,
        "image": config.site.url + card_path(article),
    }
    if job.card is None:
        return _Made(json_bytes(document), None, ())
    png, layout = render_card(job.card, config.social.card)
    return _Made(json_bytes(document), png, layout.problems)


def social_files(
    config: Config,
    articles: Sequence[Article],
    urls: Mapping[str, str],
    bodies: Mapping[str, Rendered],
    dates: Mapping[str, str],
) -> Social:
    """The JSON and card image of every article in *articles*."""
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    style = config.social.card
    cache = _read_cache(config.root / CACHE)
    keys: dict[str, str] = {}
    jobs: list[_Job] = []
    for article in articles:
        card = _card_input(config, article, dates[article.slug])
        key = keys[article.slug] = card_key(card, style, __version__)
        existing = config.output_dir / card_path(article)
        unchanged = cache.get(article.slug) == key and existing.is_file()
        if unchanged:
            files[card_path(article)] = existing.read_bytes()
        url, summary = urls[article.slug], bodies[article.slug].summary
        jobs.append(_Job(_light(article), url, summary, None if unchanged else card))
    if any(job.card for job in jobs):
        prepare(style, config.site.title)  # loaded once, before the workers start
    made = parallel_map(_make, jobs, shared=config)
    rendered = 0
    for job, (document, png, problems) in zip(jobs, made, strict=True):
        article = job.article
        files[f"social/{article.slug}.json"] = document
        if png is not None:
            files[card_path(article)] = png
            rendered += 1
        for problem in problems:
            diagnostics.append(
                Diagnostic.warning(article.source, article.line("title"), f"card: {problem}")
            )
    return Social(files, tuple(diagnostics), rendered, keys)


def _light(article: Article) -> Article:
    """*article* without its Markdown text, which no social file shows: less to send to a
    worker."""
    return article if article.text is None else replace(article, text=None)


def save_keys(root: Path, keys: Mapping[str, str]) -> None:
    """Remember which card each PNG in feeds/ shows; called after the PNGs are written."""
    data = json.dumps(dict(keys), sort_keys=True).encode()
    path = root / CACHE
    with contextlib.suppress(OSError):  # the cache only saves time
        if not path.is_file() or path.read_bytes() != data:
            atomic_write(path, data)


def _read_cache(path: Path) -> dict[str, str]:
    """The card keys of the last build; empty when missing or damaged (never trusted blindly:
    a key only saves work when the PNG it names is still there)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)}
