"""What each output is made of: the keys under which the cache records bodies, feed
entries and output files, and the records of the files a build wrote."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING

from .. import markdown
from . import BuildCache, digest, file_signature, portable, signature, source_name

if TYPE_CHECKING:
    from ..bodies import Bodies
    from ..content.model import Article
    from ..feeds import FeedPlan
    from ..publication import Publication


def body_key(article: Article, url: str, site_url: str, root: Path) -> str:
    """What an article's rendered body is made of, but for the links it resolves; its
    folder in the publication in *root* (where its relative links lead from)."""
    summary = "\x00none" if article.summary is None else article.summary
    folder = source_name(article.source.parent, root)
    engine = markdown.engine()
    # The file's hash, not the body itself: the body is read only if it must be rendered.
    made_of = article.body_span.file_hash
    return digest("body", engine, made_of, article.title, summary, folder, url, site_url)


def feed_key(plan: FeedPlan, publication: Publication, bodies: Bodies) -> str | None:
    """What a feed's three files are made of; None when a body it shows must be rendered."""
    config = publication.config
    site = portable(config.site, config.root)
    parts = [site, repr(config.feeds), plan.folder, plan.title, plan.description]
    parts.append(plan.category or "\x00none")
    for article in plan.articles:
        key = bodies.entry_key(article)
        if key is None:
            return None
        parts.append(key)
    return digest("feed", *parts)


def entry_key(article: Article, publication: Publication, body: str) -> str:
    """What an article's entry in a feed is made of, *body* being its body's key."""
    image = article.image
    return digest(
        publication.ids[article.slug],
        publication.urls[article.slug],
        article.title,
        article.date.isoformat(),
        article.updated.isoformat(),
        "\x00".join(article.authors),
        "\x00".join(article.categories),
        "\x00none" if image is None else f"{image.url}\x00{image.type}\x00{image.length}",
        body,
        article.lang or "\x00none",
    )


def remember_outputs(
    cache: BuildCache,
    folder: Path,
    keys: Mapping[str, str],
    kept: Set[str] = frozenset(),
    hashes: Mapping[str, str] | None = None,
    statuses: Mapping[str, os.stat_result] | None = None,
    *,
    others: Iterable[str] = (),
) -> None:
    """Record what each output file on disk was made of, with its size, modification time
    and inode as written, and the SHA-256 of its bytes where *hashes* has it, so that the
    next build can keep it without rendering it.  A *kept* file keeps its record: it was
    not written (and the next build looks at it again before keeping it).  *statuses*
    are those of the files just written (:attr:`WriteResult.statuses`): the others are
    looked at on disk.  The *others* the build made, without a key, get an empty
    record: with them, the cache lists every file of the output folder it goes with
    (see :func:`_previous`)."""
    hashes = hashes or {}
    statuses = statuses or {}
    remembered = {}
    for name, key in keys.items():
        known = cache.outputs.get(name) if name in kept else None
        if isinstance(known, list) and known[:1] == [key]:
            remembered[name] = known
            continue
        status = statuses.get(name)
        found = file_signature(folder / name) if status is None else signature(status)
        if found is not None:
            remembered[name] = [key, *found, *([hashes[name]] if name in hashes else [])]
    for name in others:
        remembered.setdefault(name, [])
    if remembered != cache.outputs:
        cache.outputs = remembered
        cache.changed("outputs")

