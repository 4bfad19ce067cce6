"""What each output is made of: the keys under which the cache records bodies, feed
entries and output files (feeds, article pages, social files and cards), and the records
of the files a build wrote."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Set
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .. import __version__, markdown, templating
from ..content.model import Article
from . import BuildCache, digest, file_signature, portable, signature, source_name

if TYPE_CHECKING:
    from ..config import Config
    from ..feeds import FeedPlan
    from ..publication import Publication
    from ..social.card import CardInput


def body_key(article: Article, url: str, site_url: str, root: Path) -> str:
    """What an article's rendered body is made of, but for the links it resolves; its
    folder in the publication in *root* (where its relative links lead from)."""
    summary = "\x00none" if article.summary is None else article.summary
    folder = source_name(article.source.parent, root)
    engine = markdown.engine()
    # The file's hash, not the body itself: the body is read only if it must be rendered.
    made_of = article.body_span.file_hash
    return digest("body", engine, made_of, article.title, summary, folder, url, site_url)


def feed_key(plan: FeedPlan, config: Config, entry_keys: Mapping[str, str]) -> str:
    """What a feed's three files are made of; *entry_keys* has the key of each article's
    entry (:func:`entry_key`), by slug."""
    site = portable(config.site, config.root)
    parts = [site, repr(config.feeds), plan.folder, plan.title, plan.description]
    parts.append(plan.category or "\x00none")
    parts.extend(entry_keys[article.slug] for article in plan.articles)
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


#: Article fields a template may show; the body is in the body's key.
_SHOWN = tuple(f.name for f in fields(Article) if f.name != "body_span")
_SOURCE, _IMAGE = _SHOWN.index("source"), _SHOWN.index("image")


def article_key(article: Article, root: Path) -> str:
    """What of *article* but its body a page or a social file may show: every field, its
    files by their place in the publication in *root*."""
    values = [getattr(article, name) for name in _SHOWN]
    # A mapping's order is the file's, from the cache too: a template may show it.
    shown = [list(v.items()) if isinstance(v, Mapping) else v for v in values]
    # Its two paths by name, rather than portable() over every field: this runs for every
    # article of every build.
    shown[_SOURCE] = source_name(article.source, root)
    image = article.image
    if image is not None and image.source is not None:
        shown[_IMAGE] = (image.url, image.type, image.length, source_name(image.source, root))
    return digest("article", repr(shown))


#: The kinds of an article's own files (see :mod:`syndicate.article_files`).
FileKind = Literal["page", "meta", "social", "card"]

#: The templates an article's page and its ``<meta>`` snippet are rendered with.
PAGE_TEMPLATE, META_TEMPLATE = "site/article.html.j2", "social/meta.html.j2"


class ArticleKeys:
    """The key of each of an article's own files, from what the files of a build share."""

    def __init__(self, config: Config) -> None:
        site = portable(config.site, config.root)
        handle = config.social.platform("x").handle or "\x00none"
        self.root = config.root
        # A template, which may be the publication's own, could show a path: the files
        # rendered from one are made again in another folder.
        root = str(config.root)
        page = templating.template_key(config, PAGE_TEMPLATE)
        meta = templating.template_key(config, META_TEMPLATE)
        # The sign-up form posts to the list service: a page shows its address.
        service = config.subscribers.url if config.subscribers is not None else ""
        #: The shared part of the key of each kind of file but the card.
        self._shared = {
            "page": _shared_key("page", site, handle, root, page, service),
            "meta": _shared_key("meta", site, handle, root, meta),
            "social": digest("social", site, portable(config.social, config.root)),
        }
        self._cards = None
        if config.social.platforms:
            from ..social.card import CardKeys  # loads only for a build with cards

            self._cards = CardKeys(config.social.card, __version__)

    def files(
        self,
        article: Article,
        url: str,
        body: str,
        card: CardInput | None,
        kinds: Mapping[str, FileKind],
    ) -> dict[str, str | None]:
        """The key of each of the article's files *kinds* names, *body* being the key of
        its body (:func:`body_key`); None where a template cannot be read (rendering it
        will say why)."""
        shown = digest(article_key(article, self.root), body, url)
        found: dict[str, str | None] = {}
        for name, kind in kinds.items():
            if kind == "card":
                assert card is not None and self._cards is not None
                found[name] = digest("card", self._cards(card))
            else:
                shared = self._shared[kind]
                found[name] = None if shared is None else digest(shared, shown)
        return found


def _shared_key(kind: str, *parts: str | None) -> str | None:
    return None if None in parts else digest(kind, *(part or "" for part in parts))
