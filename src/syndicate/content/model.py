"""The article as syndicate reads it: :class:`Article`, its :class:`Image` and
:class:`BodySpan`.

Pure data, built once by the loader (:mod:`syndicate.content.reading`, or from the build
cache by :mod:`syndicate.content.records`) and never changed after: nothing here reads a
file.  The body stays in the article's file until a stage that renders it reads it with
:func:`syndicate.content.reading.read_body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Image:
    """An article's picture, as published."""

    url: str
    #: MIME type, from the file name; None when it cannot be told.
    type: str | None
    #: Size in bytes of a local file under ``static/``; None for remote images.
    length: int | None
    #: The local file under ``static/``; None for remote images and missing files.
    source: Path | None = None


class BodySpan(NamedTuple):
    """Where an article's body (the Markdown text after its front matter) is: a stretch
    of its file's text, and the hash of the file's bytes it was found in, which says
    whether the file still holds it (see :func:`~syndicate.content.reading.read_body`).

    A tuple, not a dataclass: it travels with every article between processes and
    through the build cache, and a tuple is the cheapest thing to send and to make."""

    #: Where the body starts in the file's text, in characters.
    start: int
    #: The body's length, in characters.
    length: int
    #: The hash of the file's bytes (:func:`~syndicate.cache.digest`).
    file_hash: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article as read from its file; built once and never changed."""

    source: Path
    slug: str
    title: str
    date: datetime
    updated: datetime
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    #: The front matter's summary (or description); None to derive one from the body.
    summary: str | None
    image: Image | None
    #: What keeps the article unpublished, as its front matter says it (``draft: true``,
    #: ``status: draft``, ``published: false``); None for an article to publish.
    draft: str | None
    #: The front matter's ``id``, which always wins over a generated one.
    id: str | None
    #: Where the Markdown text after the front matter is in the file: the body stays
    #: there until a stage that renders it reads it (:func:`~.reading.read_body`).
    body_span: BodySpan = field(compare=False)
    #: Line of the file where the body starts.
    body_line: int
    #: Line of each front-matter key.
    lines: Mapping[str, int] = field(compare=False)
    #: Front-matter keys syndicate does not know, kept as they were.
    extra: Mapping[str, Any] = field(compare=False)
    #: The front matter's ``lang`` (a BCP 47 tag, as :func:`~syndicate.language.language_tag`
    #: writes it); None: the article is in ``[site] language``.
    lang: str | None = None

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)
