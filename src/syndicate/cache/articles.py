"""The article records the build cache holds (``articles-00.json`` to
``articles-15.json``: see :mod:`syndicate.cache`): which articles it holds unchanged,
what a build keeps of those it reads, and which it forgets.  Reading an article
(:func:`~syndicate.content.reading.read_source`) knows none of it: the build engine has
:func:`read_and_record` run it on a worker's core, where the record is written too."""

from __future__ import annotations

import os
from pathlib import Path
from time import time_ns
from typing import cast

from ..config import Config
from ..content.loader import Sent, sendable
from ..content.model import Article
from ..content.reading import read_source
from ..content.records import encode_record, from_record, reading_settings, stat_signature
from ..errors import Diagnostic
from . import BuildCache, Encoded, digest

#: What a worker needs to write an article's record: the digest of the settings reading
#: depends on, and the time before which a file's times are trusted (see
#: :func:`~syndicate.content.records.stat_signature`).
Recording = tuple[str, int]


class ArticleRecords:
    """The articles *cache* holds for the publication of *config*, each by its source
    file's name (:func:`~syndicate.cache.source_name`)."""

    def __init__(self, cache: BuildCache, config: Config) -> None:
        self.cache, self.config = cache, config
        #: What :func:`read_and_record` needs besides a file's path; None for a cache
        #: that keeps nothing, for which no record is made (nor the settings walked).
        self.recording: Recording | None = None
        if cache.keeps:
            self.recording = (reading_settings(config), time_ns() - 2_000_000_000)

    def cached(self, text: str, name: str) -> tuple[Article | None, list[Diagnostic]] | None:
        """The article in the file *text*, from the cache when it holds it unchanged."""
        config, cache, recording = self.config, self.cache, self.recording
        entry = cache.articles.get(name)
        if recording is None or not isinstance(entry, dict):
            return None  # read, hashed and parsed (its times looked at there)
        settings, trusted = recording
        if entry.get("settings") != settings:
            return None
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

    def keep(self, name: str, record: Encoded) -> None:
        """Keep the record :func:`read_and_record` wrote of the article *name*."""
        self.cache.articles[name] = record
        self.cache.changed_article(name)
        self.cache.parsed += 1

    def forget_others(self, present: set[str]) -> None:
        """Forget the articles whose names are not in *present* (their files are gone)."""
        cache = self.cache
        gone = [name for name in cache.articles if name not in present]
        for name in gone:
            del cache.articles[name]
            cache.changed_article(name)


def read_and_record(
    context: tuple[Config, Recording | None], path: str
) -> tuple[Sent, Encoded | None]:
    """The article in the file *path*, as :func:`~syndicate.content.loader.sendable`
    makes it, and given what to record (*context*: the config and that), what the build
    cache keeps of it, written as JSON here, on a worker's core.  Its body is left in the
    file, to be read if something renders it (cheaper than carrying every body between
    processes).  The path comes as text and stays text (a path object sent is rebuilt
    part by part, for each of thousands of files)."""
    config, recording = context
    article, found, read = read_source(cast(Path, path), config)
    if recording is None or read is None:
        return sendable(article, found), None
    # The file's times from before its bytes were read: a later change changes them.
    data, status = read
    settings, trusted = recording
    content = article.body_span.file_hash if article is not None else digest(data)
    stat = stat_signature(status, trusted)
    record = encode_record(settings, stat, content, article, found, config.root)
    return sendable(article, found), record
