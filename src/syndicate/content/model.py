"""The article as syndicate reads it: :class:`Article` and its :class:`Image`.

Built once by the loader (:mod:`syndicate.content.reading`, or from the build cache by
:mod:`syndicate.content.records`) and never changed after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cache import digest
from ..errors import ContentError, Diagnostic
from ..nfc import nfc
from .values import decode


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
    #: Markdown text after the front matter; None for an article from the build cache,
    #: whose text is read from its file when first needed (see :attr:`body`).
    text: str | None = field(compare=False)
    #: Line of the file where the body starts.
    body_line: int
    #: Line of each front-matter key.
    lines: Mapping[str, int] = field(compare=False)
    #: Front-matter keys syndicate does not know, kept as they were.
    extra: Mapping[str, Any] = field(compare=False)
    #: Where the body is in the file's text (start, length) and the hash of the file's
    #: bytes: set for an article read through the build cache.
    place: tuple[int, int, str] | None = field(default=None, compare=False)
    #: The front matter's ``lang`` (a BCP 47 tag, as :func:`~syndicate.language.language_tag`
    #: writes it); None: the article is in ``[site] language``.
    lang: str | None = None

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)

    @property
    def body(self) -> str:
        """Markdown text after the front matter."""
        if self.text is None:
            object.__setattr__(self, "text", _body_from(self.source, self.place))
        assert self.text is not None
        return self.text

    @property
    def fingerprint(self) -> str:
        """What the body is made of: the file's hash when known, else the text itself."""
        return self.place[2] if self.place is not None else self.body


def _body_from(source: Path, place: tuple[int, int, str] | None) -> str:
    """The body of a cached article, read from its file, which must not have changed."""
    try:
        data = source.read_bytes()
    except OSError as error:
        problem = f"cannot read: {error.strerror or error}; build again"
        raise ContentError("an article went away", [Diagnostic.error(source, 0, problem)]) from None
    if place is None or digest(data) != place[2]:
        problem = "changed while syndicate was building; build again"
        raise ContentError("an article changed", [Diagnostic.error(source, 0, problem)])
    start, length = place[0], place[1]
    return nfc(decode(data)[start : start + length])
