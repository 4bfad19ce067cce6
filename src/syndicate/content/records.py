"""What the build cache keeps of an article: its record (the article's fields, its
diagnostics, and the file's signature and hash), written as JSON and read back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..cache import Encoded, digest, encoded, portable, source_name
from ..config import Config
from ..errors import Diagnostic, Severity
from ..jsontext import json_string
from .model import Article, BodySpan, Image


def encode_record(
    settings: str,
    stat: list[int] | None,
    content: str,
    article: Article | None,
    found: list[Diagnostic],
    root: Path,
) -> Encoded:
    """The cache's record of an article read with the reading settings' digest
    *settings*, its file's :func:`stat_signature` *stat* and the hash of its bytes *content*;
    :func:`from_record` reads it back."""
    fast = _record_text(settings, stat, content, article, found, root)
    if fast is not None:
        return fast
    record = {"settings": settings, "stat": stat, "hash": content}
    return encoded({**record, **_to_record(article, found, root)})


def _record_text(
    settings: str,
    stat: list[int] | None,
    content: str,
    article: Article | None,
    found: list[Diagnostic],
    root: Path,
) -> Encoded | None:
    """The cache's record of an article as :func:`encoded` writes it (settings, stat and
    hash, then :func:`_to_record`'s), written here directly, which costs less than
    :func:`encoded` (a cold build writes one per article).  None for an article out of
    the usual (keys syndicate does not know, a date in no named or fixed zone), which
    :func:`encoded` writes."""
    text = json_string
    if article is not None and article.extra:
        return None
    zone = None if article is None else _zone_name(article.date)
    if article is not None and zone is None:
        return None
    shown = ",".join([f"[{d.line:d},{text(d.severity.value)},{text(d.message)}]" for d in found])
    head = (
        f'{{"settings":{text(settings)},"stat":{_int_list(stat)},"hash":{text(content)},'
        f'"diagnostics":[{shown}],"article":'
    )
    if article is None:
        return Encoded(head + "null}")
    assert zone is not None
    image = article.image
    if image is None:
        picture = "null"
    else:
        length = "null" if image.length is None else f"{image.length:d}"
        where = "null" if image.source is None else text(source_name(image.source, root))
        kind = "null" if image.type is None else text(image.type)
        picture = f"[{text(image.url)},{kind},{length},{where}]"
    lines = ",".join([f"{text(key)}:{line:d}" for key, line in article.lines.items()])
    return Encoded(
        f'{head}{{"slug":{text(article.slug)},"title":{text(article.title)},'
        f'"date":{text(article.date.isoformat())},"zone":{text(zone)},'
        f'"updated":{text(article.updated.isoformat())},'
        f'"authors":[{",".join(map(text, article.authors))}],'
        f'"categories":[{",".join(map(text, article.categories))}],'
        f'"summary":{"null" if article.summary is None else text(article.summary)},'
        f'"image":{picture},"draft":{"null" if article.draft is None else text(article.draft)},'
        f'"id":{"null" if article.id is None else text(article.id)},'
        f'"body":[{article.body_span.start:d},{article.body_span.length:d}],'
        f'"body_line":{article.body_line:d},'
        f'"lines":{{{lines}}},"extra":{{}},'
        f'"lang":{"null" if article.lang is None else text(article.lang)}}}}}'
    )


def _int_list(numbers: list[int] | None) -> str:
    return "null" if numbers is None else "[" + ",".join(map(str, numbers)) + "]"


def without_path(found: list[Diagnostic]) -> list[tuple[int, str, str]]:
    """Diagnostics of one file as (line, severity, message), as a worker sends them and
    the cache keeps them: the file is known."""
    return [(d.line, d.severity.value, d.message) for d in found]


def with_path(path: Path, found: Iterable[Sequence[Any]]) -> list[Diagnostic]:
    """What :func:`without_path` made, for the file at *path*; an unknown severity is a
    KeyError."""
    return [Diagnostic(path, line, _SEVERITY[kind], text) for line, kind, text in found]


_SEVERITY = {severity.value: severity for severity in Severity}


def stat_signature(status: os.stat_result, trusted: int) -> list[int] | None:
    """Size, modification and change times and inode of a file: while they stay the same,
    so do its bytes.  None for a file changed in the last two seconds, whose times may not
    yet tell one write from the next (git's "racy" files): it is hashed every time."""
    if status.st_mtime_ns >= trusted or status.st_ctime_ns >= trusted:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]


def reading_settings(config: Config) -> str:
    """The digest of what reading an article depends on besides its file: the site and
    content settings, folders by their place in the publication (see
    :func:`~syndicate.cache.source_name`), and the static folder's files."""
    site, content = portable(config.site, config.root), portable(config.content, config.root)
    return digest(site, content, _static_signature(config))


def _static_signature(config: Config) -> str:
    """What reading an article may depend on in the static folder: its files (by their
    place in it) and sizes (an article's image is looked up there)."""
    static = config.site.static
    listing = []
    for parent, dirs, names in os.walk(static):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(parent, name)
            try:
                size = os.stat(path).st_size
            except OSError:
                size = -1
            listing.append(f"{source_name(path, static)}\0{size}")
    return "\n".join(listing)


def _to_record(article: Article | None, found: list[Diagnostic], root: Path) -> dict[str, Any]:
    """An article and its diagnostics as JSON; the body as a place in the file's text, the
    image's file as a path from *root*, the publication's folder."""
    record: dict[str, Any] = {
        "diagnostics": without_path(found),
        "article": None,
    }
    if article is None:
        return record
    if article.extra:
        try:
            json.dumps(article.extra)
        except (TypeError, ValueError):
            return {"diagnostics": None}
    image = article.image
    record["article"] = {
        "slug": article.slug,
        "title": article.title,
        "date": article.date.isoformat(),
        "zone": _zone_name(article.date),
        "updated": article.updated.isoformat(),
        "authors": list(article.authors),
        "categories": list(article.categories),
        "summary": article.summary,
        "image": None
        if image is None
        else [
            image.url,
            image.type,
            image.length,
            None if image.source is None else source_name(image.source, root),
        ],
        "draft": article.draft,
        "id": article.id,
        "body": [article.body_span.start, article.body_span.length],
        "body_line": article.body_line,
        "lines": dict(article.lines),
        "extra": dict(article.extra),
        "lang": article.lang,
    }
    if record["article"]["zone"] is None:
        return {"diagnostics": None}
    return record


def _zone_name(moment: datetime) -> str | None:
    zone = moment.tzinfo
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    if zone is not None and zone.utcoffset(moment) is not None and isinstance(zone, timezone):
        return ""
    return None


def from_record(
    entry: Mapping[str, Any], path: Path, root: Path
) -> tuple[Article | None, list[Diagnostic]] | None:
    """The article and diagnostics an entry of the cache holds, for the publication in
    *root*; None when it cannot be used (the article is then read again)."""
    try:
        if entry["diagnostics"] is None:
            return None
        found = with_path(path, entry["diagnostics"])
        fields = entry["article"]
        if fields is None:
            return None, found
        start, length = fields["body"]
        zone: tzinfo | None = ZoneInfo(fields["zone"]) if fields["zone"] else None

        def moment(text: str) -> datetime:
            value = datetime.fromisoformat(text)
            return value.astimezone(zone) if zone is not None else value

        image = fields["image"]
        draft = fields["draft"]
        if draft is not None and not isinstance(draft, str):
            return None  # a record from before drafts said what keeps them out
        return Article(
            source=path,
            slug=fields["slug"],
            title=fields["title"],
            date=moment(fields["date"]),
            updated=moment(fields["updated"]),
            authors=tuple(fields["authors"]),
            categories=tuple(fields["categories"]),
            summary=fields["summary"],
            image=None
            if image is None
            else Image(image[0], image[1], image[2], None if image[3] is None else root / image[3]),
            draft=draft,
            id=fields["id"],
            body_span=BodySpan(int(start), int(length), str(entry["hash"])),
            body_line=fields["body_line"],
            lines=dict(fields["lines"]),
            extra=dict(fields["extra"]),
            lang=fields["lang"],
        ), found
    except (KeyError, TypeError, ValueError, IndexError, ZoneInfoNotFoundError):
        return None
