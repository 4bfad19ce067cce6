"""Loading every article of a publication from its content folder, in parallel, each
one taken from the build cache when its file and reading settings are unchanged."""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from time import time_ns
from typing import Any, cast

from ..cache import BuildCache, Encoded, digest, source_name
from ..config import Config
from ..errors import Diagnostic
from ..static import leads_inside, leaving_links
from .model import Article
from .reading import read_source
from .records import (
    encode_record,
    from_record,
    reading_settings,
    stat_signature,
    with_path,
    without_path,
)


def article_paths(content_dir: Path, root: Path) -> Iterator[tuple[str, bool, str]]:
    """Every ``*.md`` below *content_dir*, in a stable order: its path as text, whether it
    is a symbolic link, and its :func:`source_name` below *root*; names starting with "."
    or "_" (editor files, Hugo's ``_index.md``) are skipped.  Text, not path objects: the
    helpers can start reading sooner (making a path object for every file takes time)."""
    folders = [str(content_dir)]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        prefix = "" if folder == str(root) else source_name(folder, root) + "/"
        below = []
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")):
                continue
            if entry.is_dir(follow_symlinks=False):  # as os.walk: links to folders are not entered
                below.append(entry.path)
            elif entry.is_dir():
                continue
            elif name.endswith(".md"):
                yield entry.path, entry.is_symlink(), prefix + name
        folders.extend(reversed(below))


def load_articles(
    config: Config,
    cache: BuildCache | None = None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[list[Article], list[Diagnostic]]:
    """Every article of the publication, with every problem found in any of them.

    With a *cache*, an article whose file, reading settings and static folder are
    unchanged since it was last read is taken from the cache instead of parsed again.
    The others are read by the build engine (:func:`~syndicate.engine.read_articles`);
    *meanwhile* is called once it has started, so that the caller prepares what comes
    next while they are read.
    """
    if not config.content.dir.is_dir():
        where = config.content.dir
        return [], [Diagnostic.error(where, 0, "the content folder does not exist")]
    from ..engine import read_articles  # the engine loads the stages, not the other way

    reading = Reading(config, BuildCache.disabled() if cache is None else cache)
    return read_articles(reading, meanwhile)


class Reading:
    """The articles of a content folder being read: every ``*.md`` file listed, those the
    cache holds unchanged taken from it, the others (:attr:`paths`) to read with
    :func:`read_article_file`, each result given to :meth:`take`; :meth:`finish` gives
    the articles with every problem found."""

    def __init__(self, config: Config, cache: BuildCache) -> None:
        self.config, self.cache = config, cache
        self.listed = [
            (text, name)
            for text, link, name in article_paths(config.content.dir, config.root)
            if not link or leads_inside(text, config.content.dir)
        ]
        self.diagnostics: list[Diagnostic] = []
        self.results: list[tuple[Article | None, list[Diagnostic]] | None]
        self.results = [None] * len(self.listed)
        settings = reading_settings(config)
        trusted = time_ns() - 2_000_000_000  # see stat_signature
        for index, (text, name) in enumerate(self.listed):
            self.results[index] = self._cached(text, name, settings, trusted)
        self.missing = [index for index, result in enumerate(self.results) if result is None]
        #: The files to read, as text, and what :func:`read_article_file` needs for each.
        self.paths = [self.listed[i][0] for i in self.missing]
        self.context = (config, (settings, trusted))
        self._paths: list[Path] = []

    def _cached(
        self, text: str, name: str, settings: str, trusted: int
    ) -> tuple[Article | None, list[Diagnostic]] | None:
        """The article in the file *text*, from the cache when it holds it unchanged."""
        config, cache = self.config, self.cache
        entry = cache.articles.get(name)
        if not isinstance(entry, dict) or entry.get("settings") != settings:
            return None  # read, hashed and parsed (its times looked at there)
        path = Path(text)
        try:
            status = os.stat(path)
        except OSError:
            return None
        signature = stat_signature(status, trusted)
        if signature is not None and entry.get("stat") == signature:
            found = from_record(entry, path, config.root)  # unchanged: not even read
            if found is not None:
                return found
        if status.st_size > config.content.max_bytes:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if entry.get("hash") != digest(data):
            return None
        found = from_record(entry, path, config.root)  # touched, not changed
        if found is not None and entry.get("stat") != signature:
            entry["stat"] = signature
            cache.changed_article(name)
        return found

    def meanwhile(self) -> None:
        """What is done while the files are read: the links that lead out of the content
        folder, and the path objects of the files read."""
        content = self.config.content.dir
        self.diagnostics.extend(leaving_links(content, "the content folder"))
        self._paths = [Path(text) for text in self.paths]

    def take(self, position: int, sent: _Sent) -> None:
        """What :func:`read_article_file` gave for the file at *position* of :attr:`paths`."""
        index = self.missing[position]
        article, found, record = _received(self._paths[position], sent)
        self.results[index] = (article, found)
        if record is not None:
            name = self.listed[index][1]
            self.cache.articles[name] = record
            self.cache.changed_article(name)
            self.cache.parsed += 1

    def finish(self) -> tuple[list[Article], list[Diagnostic]]:
        """Every article read, with every problem found; the cache forgets the files gone."""
        cache = self.cache
        present = {name for _, name in self.listed}
        gone = [name for name in cache.articles if name not in present]
        for name in gone:
            del cache.articles[name]
            cache.changed_article(name)
        articles: list[Article] = []
        diagnostics = self.diagnostics
        for result in self.results:
            assert result is not None
            article, found = result
            diagnostics.extend(found)
            if article is not None:
                articles.append(article)
        diagnostics.extend(_duplicate_slugs(articles, self.config.root))
        return articles, diagnostics


def _read_for_build(
    path: Path, config: Config, recording: tuple[str, int] | None
) -> tuple[Article | None, list[Diagnostic], Encoded | None]:
    """An article for a build: its body is left in the file, to be read if something
    renders it (cheaper than carrying every body between processes).  With
    *recording* (the digest of the settings reading depends on, and the time before
    which a file's times are trusted: see :func:`stat_signature`), what the build cache keeps
    of it too, written as JSON here, on a worker's core."""
    article, found, read = read_source(path, config)
    if recording is None or read is None:
        return article, found, None
    # The file's times from before its bytes were read: a later change changes them.
    data, status = read
    settings, trusted = recording
    content = article.body_span.file_hash if article is not None else digest(data)
    stat = stat_signature(status, trusted)
    return article, found, encode_record(settings, stat, content, article, found, config.root)


#: An article's fields, in the order ``Article()`` takes them.
_article_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(Article)))


#: What a worker sends back of an article it read: the article's fields and the
#: diagnostics' lines, severities and messages without the file's path, which the main
#: process has (a path is much of the cost of carrying an article between processes),
#: and the cache's record.
_Sent = tuple[tuple[Any, ...] | None, list[tuple[int, str, str]], Encoded | None]


def read_article_file(context: tuple[Config, tuple[str, int] | None], path: str) -> _Sent:
    """:func:`_read_for_build` in a worker (*context*: the config and what to record), its
    result made cheap to send (see :meth:`Reading.take`).  The path comes
    as text and stays text (a path object sent is rebuilt part by part, for each of
    thousands of files): the article and diagnostics made with it here are taken apart,
    without it, before they are sent."""
    config, recording = context
    article, found, record = _read_for_build(cast(Path, path), config, recording)
    fields = None if article is None else _article_fields(article)[1:]
    return fields, without_path(found), record


def _received(path: Path, sent: _Sent) -> tuple[Article | None, list[Diagnostic], Encoded | None]:
    """What :func:`read_article_file` sent, for the file at *path*, as it was read."""
    fields, found, record = sent
    article = None if fields is None else Article(path, *fields)
    return (
        article,
        with_path(path, found),
        record,
    )


def _duplicate_slugs(articles: list[Article], root: Path) -> Iterator[Diagnostic]:
    first: dict[str, Article] = {}
    for article in articles:
        other = first.setdefault(article.slug, article)
        if other is not article:
            yield Diagnostic.error(
                article.source,
                article.line("slug"),
                f'slug: "{article.slug}" is also the slug of '
                f"{source_name(other.source, root)}; "
                "give one of them another slug",
            )
