"""Reading one article's file: its front matter checked key by key, every problem a
:class:`~syndicate.errors.Diagnostic` at the key's line, and the :class:`Article`; and,
when a stage renders it, the article's body (:func:`read_body`)."""

from __future__ import annotations

import mimetypes
import os
import re
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..cache import digest, source_name
from ..config import Config
from ..errors import ContentError, Diagnostic
from ..language import language_tag
from ..nfc import nfc
from ..static import static_source
from .front_matter import Problem, split
from .markers import markers, unpublished
from .model import Article, BodySpan, Image
from .values import (
    MAX_CATEGORIES,
    MAX_SLUG,
    NOT_XML,
    as_text,
    cannot_carry,
    category_slug,
    decode,
    describe,
    make_slug,
    parse_categories,
    parse_date,
    quoted,
    suspect,
)

#: Front-matter keys syndicate reads; any other key is kept in ``Article.extra``.
KNOWN_KEYS = frozenset(
    {
        "title",
        "author",
        "authors",
        "date",
        "updated",
        "categories",
        "tags",
        "image",
        "summary",
        "description",
        "slug",
        "draft",
        "status",
        "published",
        "id",
        "lang",
    }
)

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_IMAGE_TYPES = {
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def _read_text(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result, str, bool]:
    """The bytes of an article's file, its status as it was before they were read, its
    text, and whether it may hold a character no feed can carry (a control character,
    U+FFFE or U+FFFF): looked for in the bytes, faster than in the text."""
    # The descriptor itself, not a file object: less work for each of many articles.
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        status = os.fstat(descriptor)
        size = status.st_size
        if size > max_bytes:
            raise Problem(
                1,
                f"file is {size:,} bytes, larger than the limit of {max_bytes:,} "
                "([content] max_bytes)",
            )
        data = os.read(descriptor, size + 1)  # one read, unless the file grew meanwhile
        if len(data) > size:
            data += b"".join(iter(partial(os.read, descriptor, 1 << 16), b""))
    finally:
        os.close(descriptor)
    if b"\x00" in data:
        raise Problem(1, "binary file, not Markdown text")
    try:
        text = decode(data)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Problem(
            line, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        ) from None
    if not text.strip():
        raise Problem(1, "empty file")
    return data, status, text, suspect(data)


def _segments(path: str) -> list[str]:
    """The names along a URL's path, as ``PurePosixPath(path).parts`` has them without the
    root: empty and "." segments dropped, ".." kept."""
    return [segment for segment in path.split("/") if segment not in ("", ".")]


def _suffix(segments: list[str]) -> str:
    """The last name's extension, as ``PurePosixPath.suffix`` gives it."""
    name = segments[-1] if segments else ""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def _resolve_image(raw: object, config: Config) -> tuple[Image | None, str | None]:
    """The published image and, for a local one that is missing, a warning."""
    if raw is None or raw == "":
        return None, None
    if not isinstance(raw, str):
        raise ValueError(f"must be a path or a URL, not {describe(raw)}")
    value = raw.strip()
    parts = urlsplit(value)
    segments = _segments(parts.path)
    suffix = _suffix(segments).lower()
    kind = _IMAGE_TYPES.get(suffix) or mimetypes.guess_type(parts.path)[0]
    if parts.scheme in ("http", "https") and parts.netloc:
        return Image(value, kind, None), None
    if parts.scheme or parts.netloc or "\\" in value or "\x00" in value:
        raise ValueError(f"{quoted(value)} must be an http(s) URL or a path under the site")
    if ".." in segments or not segments:
        raise ValueError(f'{quoted(value)} must stay inside the site (no "..")')
    relative = "/".join(segments)
    # The site's URL ends with "/", and quote() leaves no scheme, query or fragment in a
    # path: joining is adding.
    url = config.site.url + quote(relative)
    if parts.query:
        url += f"?{parts.query}"
    try:
        found = static_source(config.site.static, segments)
    except ValueError as problem:
        raise ValueError(f"{quoted(value)}: {problem}") from None
    if found is None:
        where = source_name(os.path.join(config.site.static, *segments), config.root)
        missing = f"image: {quoted(value)} is not in the static folder ({where})"
        return Image(url, kind, None), missing
    local, size = found
    return Image(url, kind, size, Path(local)), None


def read_article(path: Path, config: Config) -> tuple[Article | None, list[Diagnostic]]:
    """Read one article; the article is None when it has errors."""
    article, found, _ = read_source(path, config)
    return article, found


def read_body(article: Article) -> str:
    """The Markdown text after *article*'s front matter, read from its file (where
    :attr:`Article.body_span` says), which must still be as the loader read it: a
    :class:`~syndicate.errors.ContentError` when it went away or changed."""
    source, span = article.source, article.body_span
    try:
        data = source.read_bytes()
    except OSError as error:
        problem = f"cannot read: {error.strerror or error}; build again"
        raise ContentError("an article went away", [Diagnostic.error(source, 0, problem)]) from None
    if digest(data) != span.file_hash:
        problem = "changed while syndicate was building; build again"
        raise ContentError("an article changed", [Diagnostic.error(source, 0, problem)])
    return nfc(decode(data)[span.start : span.start + span.length])


def read_source(
    path: Path, config: Config
) -> tuple[Article | None, list[Diagnostic], tuple[bytes, os.stat_result] | None]:
    """An article, its diagnostics, and the bytes of its file with the file's status before
    they were read (None if it could not be read).  The article's body stays in the file
    (see :func:`read_body`)."""
    out: list[Diagnostic] = []
    read: tuple[bytes, os.stat_result] | None = None
    try:
        file_bytes, status, text, may_not_be_xml = _read_text(path, config.content.max_bytes)
        read = file_bytes, status
        fm = split(text)
        bad = NOT_XML.search(fm.body) if may_not_be_xml else None
        if bad:
            raise Problem(
                # The body starts with the line break that ends the closing "---".
                fm.body_line + fm.body.count("\n", 1, bad.start()),
                cannot_carry(bad.group()),
            )
    except Problem as problem:
        return None, [Diagnostic.error(path, problem.line, problem.message)], read
    except OSError as error:
        return None, [Diagnostic.error(path, 1, f"cannot read: {error.strerror or error}")], None
    data, lines = fm.data, fm.lines
    line = lines.get

    def fail(key: str, message: str) -> None:
        out.append(Diagnostic.error(path, line(key, 1), message))

    def warn(key: str, message: str) -> None:
        out.append(Diagnostic.warning(path, line(key, 1), message))

    for key, where in fm.repeated:
        out.append(Diagnostic.warning(path, where, f"{key}: given more than once; the last wins"))

    zone = config.site.timezone
    title = ""
    try:
        title = as_text(data.get("title"), "title") if "title" in data else ""
        if not title:
            fail("title", "title: missing or empty (every article needs a title)")
    except ValueError as problem:
        fail("title", str(problem))

    published: datetime | None = None
    if data.get("date") is None:
        fail("date", "date: missing (when was it published? e.g. date: 2025-08-18)")
    else:
        try:
            published = parse_date(data["date"], zone)
        except ValueError as problem:
            fail("date", f"date: {problem}")
    updated = published
    if data.get("updated") is not None:
        try:
            updated = parse_date(data["updated"], zone)
        except ValueError as problem:
            fail("updated", f"updated: {problem}")
        else:
            if published is not None and updated < published:
                warn("updated", "updated: earlier than date; the date is used")
                updated = published

    authors: tuple[str, ...] = ()
    for key in ("author", "authors"):
        value = data.get(key)
        if value is None:
            continue
        try:
            found = value if isinstance(value, list) else [value]
            authors += tuple(as_text(item, key) for item in found)
        except ValueError as problem:
            fail(key, str(problem))
    authors = tuple(dict.fromkeys(a for a in authors if a))
    if not authors:
        if config.site.author:
            authors = (config.site.author,)
        else:
            fail("author", "author: missing, and syndicate.toml sets no [site] author to use")

    categories: tuple[str, ...] = ()
    for key in ("categories", "tags"):
        try:
            categories += parse_categories(data.get(key))
        except ValueError as problem:
            fail(key, f"{key}: {problem}")
    if "categories" in data and "tags" in data:  # one list, duplicates across both dropped
        categories = parse_categories(list(categories))
    if len(categories) > MAX_CATEGORIES:
        fail(
            "categories",
            f"categories: {len(categories):,} of them; an article may have at most "
            f"{MAX_CATEGORIES}, each with its feeds",
        )
        categories = ()
    for name in categories:
        slug = category_slug(name)
        if not slug:
            warn(
                "categories",
                f"categories: {quoted(name)} has no letters or digits; it gets no feed",
            )
        elif len(slug) > MAX_SLUG:
            fail(
                "categories",
                f"categories: {quoted(name)} is too long to name its feeds' folder "
                f"(at most {MAX_SLUG} letters and digits)",
            )

    summary: str | None = None
    for key in ("summary", "description"):
        if data.get(key) is not None and summary is None:
            try:
                summary = as_text(data[key], key) or None
            except ValueError as problem:
                fail(key, str(problem))

    try:
        raw_slug = data.get("slug")
        if raw_slug is not None:
            slug = make_slug(as_text(raw_slug, "slug"))
        else:
            # On the path's text: in a worker, the path is text (see :mod:`.loader`).
            folder, name = os.path.split(path)
            stem = os.path.splitext(name)[0]
            if stem == "index" and folder != str(config.content.dir):  # a page bundle
                stem = os.path.basename(folder)
            slug = make_slug(nfc(stem))
    except ValueError as problem:
        slug = ""
        message = str(problem)
        fail("slug", message if message.startswith("slug:") else f"slug: {message}")

    draft = unpublished(data, fail, warn, line)

    given_id: str | None = None
    if data.get("id") is not None:
        try:
            given_id = as_text(data["id"], "id", normal=False)  # the id readers know, as written
            if not _URI.match(given_id):
                fail(
                    "id",
                    f"id: {quoted(given_id)} must be an absolute URI, such as "
                    '"urn:uuid:…" or "tag:example.org,2025:my-post"',
                )
        except ValueError as problem:
            fail("id", str(problem))

    image: Image | None = None
    try:
        image, missing = _resolve_image(data.get("image"), config)
        if missing:
            warn("image", missing)
    except ValueError as problem:
        fail("image", f"image: {problem}")

    lang: str | None = None
    if data.get("lang") is not None:
        try:
            lang = language_tag(as_text(data["lang"], "lang"))
        except ValueError as problem:
            message = str(problem)
            if data["lang"] is False:  # YAML 1.1 reads Norwegian's tag as a boolean
                message += ' (YAML reads no as false: write lang: "no" for Norwegian)'
            fail("lang", message if message.startswith("lang:") else f"lang: {message}")

    for key in sorted(set(data) - KNOWN_KEYS - set(markers(data))):
        warn(key, f'unknown front-matter key "{key}" (kept, not published)')

    if any(d.is_error for d in out) or published is None or updated is None:
        return None, out, read
    article = Article(
        source=path,
        slug=slug,
        title=title,
        date=published,
        updated=updated,
        authors=authors,
        categories=categories,
        summary=summary,
        image=image,
        draft=draft,
        id=given_id,
        # The body is the end of the text (the splitter cuts it after the closing "---").
        body_span=BodySpan(len(text) - len(fm.body), len(fm.body), digest(file_bytes)),
        body_line=fm.body_line,
        lines=dict(lines),
        extra={k: v for k, v in fm.data.items() if k not in KNOWN_KEYS},
        lang=lang,
    )
    return article, out, read
