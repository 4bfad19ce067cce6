"""Each article's social files: ``social/<slug>.json`` (post texts and card metadata),
``social/<slug>.html`` (the ``<meta>`` snippet) and ``social/<slug>.png`` (the card).

Card images are the slow part, so one is rendered again only when what it shows
changes: ``.syndicate/cache/cards.json`` (git-ignored) remembers the key of each
card written, and a card whose key is unchanged keeps the bytes already in
``feeds/``.  Deleting the cache only costs time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import CardConfig, Config
from ..content import Article
from ..errors import Diagnostic, RenderError
from ..markdown import Rendered
from ..output import atomic_write, json_bytes
from ..workers import parallel_map
from .card import CardInput, card_key, render_card
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


def _render(card: CardInput, style: CardConfig) -> tuple[bytes, tuple[str, ...]]:
    data, layout = render_card(card, style)
    return data, tuple(layout.problems)


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
    todo: list[tuple[Article, CardInput]] = []
    for article in articles:
        url, summary = urls[article.slug], bodies[article.slug].summary
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
        files[f"social/{article.slug}.json"] = json_bytes(document)
        card = _card_input(config, article, dates[article.slug])
        key = card_key(card, style, __version__)
        keys[article.slug] = key
        existing = config.output_dir / card_path(article)
        if cache.get(article.slug) == key and existing.is_file():
            files[card_path(article)] = existing.read_bytes()
        else:
            todo.append((article, card))
    rendered = parallel_map(partial(_render, style=style), [card for _, card in todo])
    for (article, _), (data, problems) in zip(todo, rendered, strict=True):
        files[card_path(article)] = data
        for problem in problems:
            diagnostics.append(
                Diagnostic.warning(article.source, article.line("title"), f"card: {problem}")
            )
    return Social(files, tuple(diagnostics), len(todo), keys)


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
