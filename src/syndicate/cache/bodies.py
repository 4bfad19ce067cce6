"""The rendered bodies the build cache holds (``bodies.json`` and the pack: see
:mod:`syndicate.cache`): which of them still hold for a build, and what a build keeps
of those it renders.  Rendering a body (:func:`syndicate.bodies.render_body`) knows
none of it: the build engine has :func:`render_and_record` run it on a worker's core,
where the body's key and record are made too."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Set
from pathlib import Path
from typing import Any

from ..bodies import Body, Context, Job, render_body
from ..content.model import Article
from . import BuildCache, body_record, source_name
from .keys import body_key

#: A body rendered (:data:`~syndicate.bodies.Body`), with its key and its record for
#: the cache's pack.
Recorded = tuple[Body, str, bytes]


def render_and_record(context: Context, job: Job) -> Recorded:
    """:func:`~syndicate.bodies.render_body`, with the body's key and its record for the
    cache's pack: all written on the core that renders it."""
    body = render_body(context, job)
    rendered = body[0]
    key = body_key(job.article, job.url, context.site_url, context.config.root)
    return body, key, body_record(key, rendered.html, rendered.summary)


class BodyRecords:
    """The bodies *cache* holds for a publication in *root*, each under the *key* of its
    article's body but for its links (see :func:`~syndicate.cache.keys.body_key`), and
    held only while the files its links named still lead where they did (*links*: each
    published article's permalink, by its source file)."""

    def __init__(
        self,
        cache: BuildCache,
        root: Path,
        key: Callable[[Article], str],
        links: Mapping[Any, str],
    ) -> None:
        self.cache, self.root, self.key, self.links = cache, root, key, links
        self._keys: dict[str, str | None] = {}

    def cached_key(self, article: Article) -> str | None:
        """The key of *article*'s body when the cache holds it and it is still right."""
        if article.slug not in self._keys:
            self._keys[article.slug] = self._cached_key(article)
        return self._keys[article.slug]

    def _cached_key(self, article: Article) -> str | None:
        entry = self.cache.bodies.get(article.slug)
        if not isinstance(entry, dict):
            return None
        key = self.key(article)
        if entry.get("key") != key:
            return None
        links = entry.get("links")
        if not isinstance(links, dict):
            return None
        # Each file a link named, from the publication's folder (see keep below).
        root = self.root
        if links and any(
            self.links.get(os.path.normpath(os.path.join(root, path))) != url
            for path, url in links.items()
        ):
            return None
        return key

    def stored(self, article: Article) -> tuple[str, str] | None:
        """The HTML and summary of *article*'s body as the cache holds it, when it still
        holds (HTML to sanitise again: the cache may have been written by anyone)."""
        key = self.cached_key(article)
        if key is None:
            return None
        found = self.cache.body(key, self.cache.bodies[article.slug].get("at"))
        if found is None:
            return None
        return found["html"], found["summary"]

    def keep(self, slug: str, recorded: Recorded) -> None:
        """Keep a body rendered for this build (see :func:`render_and_record`)."""
        (_, seen, _), key, record = recorded
        links = {source_name(path, self.root): url for path, url in seen.items()}
        self.cache.store_body(slug, key, record, links)
        # Its links were resolved with this build's: the key holds.
        self._keys[slug] = key
        self.cache.rendered += 1

    def forget_unpublished(self, published: Set[str]) -> None:
        """Forget the bodies of articles whose slugs are not in *published*."""
        gone = [slug for slug in self.cache.bodies if slug not in published]
        for slug in gone:
            del self.cache.bodies[slug]
        if gone:
            self.cache.changed("bodies")
