"""Loading articles: Markdown files with YAML or TOML front matter become :class:`Article`.

The loader is forgiving where real files vary (date styles, category lists,
BOMs, CRLF) and strict where a mistake would publish something wrong: every
problem becomes a :class:`Diagnostic` pointing at the file and the line of the
offending front-matter key, and all of them are reported together.  Text is put in
Unicode's composed form (NFC) as it is read: see :mod:`syndicate.nfc`.
"""

from __future__ import annotations

import json
import mimetypes
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timezone, tzinfo
from functools import lru_cache, partial
from pathlib import Path
from time import time_ns
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slugify import slugify

from . import simple_yaml, toml_front_matter
from .cache import BuildCache, Encoded, digest, encoded, portable, source_name
from .config import Config
from .errors import Diagnostic, Severity, show_path
from .jsontext import json_string
from .language import language_tag
from .nfc import nfc
from .static import leads_inside, leaving_links, static_source
from .workers import SharedWork

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

if TYPE_CHECKING:  # PyYAML loads when an article is parsed (not when all are cached)
    import yaml


@lru_cache(maxsize=1)
def _yaml() -> tuple[Any, type[yaml.SafeLoader], Any]:
    """PyYAML, its fastest safe loader, and python-frontmatter's splitter."""
    import frontmatter.default_handlers
    import yaml

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml, loader, frontmatter.default_handlers.YAMLHandler()


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

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Image, (self.url, self.type, self.length, self.source)


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

    def __reduce__(self) -> tuple[type[Article], tuple[object, ...]]:
        # Pickled (to and from worker processes) as its fields in order: several times
        # faster than a dataclass's own state methods, which look up the fields each time.
        return Article, _article_fields(self)

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


#: An article's fields, in the order ``Article()`` takes them.
_article_fields = operator.attrgetter(*(f.name for f in fields(Article)))


def _body_from(source: Path, place: tuple[int, int, str] | None) -> str:
    """The body of a cached article, read from its file, which must not have changed."""
    from .errors import ContentError

    try:
        data = source.read_bytes()
    except OSError as error:
        problem = f"cannot read: {error.strerror or error}; build again"
        raise ContentError("an article went away", [Diagnostic.error(source, 0, problem)]) from None
    if place is None or digest(data) != place[2]:
        problem = "changed while syndicate was building; build again"
        raise ContentError("an article changed", [Diagnostic.error(source, 0, problem)])
    start, length = place[0], place[1]
    return nfc(_decode(data)[start : start + length])


# --- the rules, each small and testable on its own --------------------------


def parse_date(value: object, zone: tzinfo) -> datetime:
    """An aware datetime from a YAML value: date, naive or aware datetime, or ISO 8601 text.

    A value without a zone is in *zone*.  Raises ValueError with a readable message.
    """
    if isinstance(value, time):  # TOML's time of day: read as YAML's text of one is
        value = value.isoformat()
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time(0))
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"cannot read {quoted(text)} as a date (use ISO 8601: 2025-08-18 "
                "or 2025-08-18T09:30:00+07:00)"
            ) from None
    else:
        raise ValueError(f"cannot read {_describe(value)} as a date")
    if result.tzinfo is None or result.utcoffset() is None:
        result = result.replace(tzinfo=zone)
    if not 1000 <= result.year <= 9998:
        raise ValueError(f"{result.year} is out of the range of years a feed can carry")
    return result


def parse_categories(value: object) -> tuple[str, ...]:
    """Categories from a comma-separated string or a list: trimmed, duplicates dropped
    case-insensitively keeping the first spelling and the order."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"must be a comma-separated text or a list, not {_describe(value)}")
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ValueError(f"each category must be text, not {_describe(item)}")
        name = check_characters(nfc(" ".join(str(item).split())), "categories")
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return tuple(result)


#: What ``status:`` may say (Ghost's and WordPress's statuses), and whether it publishes
#: the article (at its date: ``scheduled`` and ``future`` wait for it, as every article
#: does) or keeps it out.
STATUSES = {
    "draft": False,
    "private": False,
    "pending": False,
    "published": True,
    "publish": True,
    "scheduled": True,
    "future": True,
}
#: The keys that say whether an article is published, in any case (Hugo reads ``Draft``).
MARKERS = frozenset({"draft", "published", "status"})
_YES = frozenset({"true", "yes", "on", "y"})
_NO = frozenset({"false", "no", "off", "n"})


def _markers(data: Mapping[str, Any]) -> list[str]:
    """The keys of *data* that say whether the article is published, in their order."""
    return [key for key in data if isinstance(key, str) and key.casefold() in MARKERS]


def _flag(value: object) -> bool | None:
    """True or false, from YAML's or TOML's booleans or the same words as text; None for
    anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES or word in _NO:
            return word in _YES
    return None


def unpublished(
    data: Mapping[str, Any],
    fail: Callable[[str, str], None],
    warn: Callable[[str, str], None],
    line: Callable[[str, int], int],
) -> str | None:
    """What keeps an article with the front matter *data* unpublished (``status: draft``),
    or None.  Every way of saying it counts: ``draft: true``, ``published: false``, a
    ``status`` that keeps it out (:data:`STATUSES`); where they disagree, the one that
    keeps it out wins, with a warning.  A value that says neither, such as a status
    syndicate does not know, is an error: a draft must never go out because its marker
    was spelt another way.  *line* gives the line of a key; *fail* and *warn* take a key
    and a message."""
    said: list[tuple[str, bool, str]] = []  # key, whether it keeps the article out, as read
    for key in _markers(data):
        value = data[key]
        if key.casefold() == "status":
            word = value.strip().lower() if isinstance(value, str) else None
            if word not in STATUSES:
                fail(
                    key,
                    f"{key}: {_describe(value)} is not a status syndicate knows: draft, private "
                    "and pending keep an article out; published, publish, scheduled and future "
                    "publish it at its date",
                )
                continue
            said.append((key, not STATUSES[word], f"{key}: {word}"))
            continue
        flag = _flag(value)
        if flag is None:
            fail(key, f"{key}: must be true or false, not {_describe(value)}")
            continue
        keeps_out = flag if key.casefold() == "draft" else not flag
        said.append((key, keeps_out, f"{key}: {str(flag).lower()}"))
    out = [item for item in said if item[1]]
    if not out:
        return None
    key, _, marker = min(out, key=lambda item: line(item[0], 1))
    for other, keeps_out, shown in said:
        if not keeps_out:
            warn(
                other,
                f"{shown} disagrees with {marker} (line {line(key, 1)}); "
                "the article stays a draft",
            )
    return marker


#: The longest slug, of an article or a category: it names a folder or a file (with an
#: extension), and file systems allow 255 bytes for a name.
MAX_SLUG = 200
#: The most categories an article may have: each gets its own feeds.
MAX_CATEGORIES = 100
#: How much of a value a message quotes.
_QUOTED = 60


def quoted(text: str) -> str:
    """*text* in double quotes for a message, cut with "…" when long (a value may be
    megabytes)."""
    return f'"{text}"' if len(text) <= _QUOTED else f'"{text[: _QUOTED - 1]}…"'


#: Names Windows gives to devices: no file or folder may be called so (slugs are lowercase).
DEVICE_NAMES = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])")


#: A slug already: slugify() would give it back as it is (most file names).
_PLAIN_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def make_slug(raw: str) -> str:
    """A lowercase, URL-safe slug; raises ValueError for one that would leave its folder."""
    if "/" in raw or "\\" in raw or ".." in raw or "\x00" in raw:
        raise ValueError(
            f'{quoted(raw)} must not contain "/", "\\" or ".." (a slug names one folder)'
        )
    slug = raw if _PLAIN_SLUG.fullmatch(raw) else slugify(raw)
    if not slug:
        raise ValueError(f"{quoted(raw)} has no letters or digits to make an address from")
    if len(slug) > MAX_SLUG:
        raise ValueError(
            f"{quoted(raw)} makes a slug of {len(slug):,} characters, more than a folder's "
            f"name may have ({MAX_SLUG}); give a shorter slug"
        )
    if DEVICE_NAMES.fullmatch(slug):
        raise ValueError(
            f'"{slug}" names a device on Windows, where its folder could not be checked out; '
            "choose another slug"
        )
    return slug


@lru_cache(maxsize=4096)
def category_slug(name: str) -> str:
    """The folder name of a category's feeds (empty when the name has no letters or digits).

    A name Windows keeps for a device (``con``, ``nul``, ``com1``...) is followed by
    "-category", so that the folder can be checked out there: ``categories/con-category/``.
    """
    slug = slugify(name)
    return f"{slug}-category" if DEVICE_NAMES.fullmatch(slug) else slug


def make_summary(text: str, limit: int = 300) -> str:
    """*text* with its whitespace folded, cut at a word boundary to at most *limit* characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _describe(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, int | float):
        return f"the number {value}"
    return quoted(str(value))


#: Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE, U+FFFF):
#: no feed could carry them, so article text must not have them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_characters(text: str, key: str) -> str:
    """*text*, or a ValueError naming the first character no feed can carry."""
    found = NOT_XML.search(text)
    if found:
        raise ValueError(f"{key}: {_cannot_carry(found.group())}")
    return text


def _cannot_carry(character: str) -> str:
    return f"has the control character U+{ord(character):04X}, which no feed can carry; remove it"


def _text(value: object, key: str, *, normal: bool = True) -> str:
    """A front-matter value as text, its whitespace folded and, unless *normal* is false
    (an identifier, kept as written), in NFC."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{key}: must be text, not {_describe(value)}")
    text = " ".join(str(value).split())
    return check_characters(nfc(text) if normal else text, key)


# --- reading one file ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FrontMatter:
    data: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    #: Keys given more than once, with the line of the repeat (the last one wins).
    repeated: tuple[tuple[str, int], ...]


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _read_text(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result, str, bool]:
    """The bytes of an article's file, its status as it was before they were read, its
    text, and whether it may hold a character no feed can carry (a control character,
    U+FFFE or U+FFFF): looked for in the bytes, ten times faster than in the text."""
    # The descriptor itself, not a file object: 4 µs less for each of 10,000 articles.
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        status = os.fstat(descriptor)
        size = status.st_size
        if size > max_bytes:
            raise _Problem(
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
        raise _Problem(1, "binary file, not Markdown text")
    try:
        text = _decode(data)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _Problem(
            line, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        ) from None
    if not text.strip():
        raise _Problem(1, "empty file")
    return data, status, text, _suspect(data)


#: The bytes of the control characters NOT_XML matches (UTF-8 has no lone surrogates).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (0x09, 0x0A, 0x0D))


def _suspect(data: bytes) -> bool:
    """Whether UTF-8 *data* may hold a character :data:`NOT_XML` matches: looked for in
    the bytes, several times faster than in the text."""
    return (
        len(data.translate(None, _CONTROL_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
    )


def drop_not_xml(text: str) -> str:
    """*text* without the characters no feed can carry (:data:`NOT_XML`)."""
    try:
        if not _suspect(text.encode("utf-8")):
            return text
    except UnicodeEncodeError:  # a lone surrogate
        pass
    return NOT_XML.sub("", text)


#: What an error about a front matter that cannot be read says is read.
FORMATS = 'syndicate reads front matter between "---" lines (YAML) or "+++" lines (TOML)'
#: The line that opens and closes a TOML front matter (as Hugo and python-frontmatter have it).
_TOML_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
#: A first line as Pelican and MultiMarkdown write their headers: "Title: My post".
_HEADER_LINE = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,40}:(?:[ \t]|$)", re.MULTILINE)
_JSON_START = re.compile(r"\s*\{")


def _block_place(text: str, raw: str) -> tuple[int, int]:
    """The line before the front matter *raw* of *text* starts (its parser counts from
    there), and the line where the body starts."""
    offset = text.count("\n", 0, text.find(raw, 3)) if raw else 1
    return offset, offset + raw.count("\n") + 2


def _split_toml(text: str) -> _FrontMatter:
    parts = _TOML_BOUNDARY.split(text, 2)
    if len(parts) < 3:
        raise _Problem(1, f'front matter is not closed by a "+++" line; {FORMATS}')
    _, raw, body = parts
    offset, body_line = _block_place(text, raw)
    try:
        data, at = toml_front_matter.read(raw)
    except toml_front_matter.Problem as problem:
        raise _Problem(offset + problem.line, problem.message) from None
    lines = {key: offset + line for key, line in at.items()}
    return _FrontMatter(data, lines, body, body_line, ())


def _unreadable(text: str) -> str:
    """What to say of an article that starts with no front matter syndicate reads."""
    if _JSON_START.match(text):
        return (
            f"JSON front matter is not read; {FORMATS}: put the JSON object between two "
            '"---" lines (JSON is YAML)'
        )
    if _HEADER_LINE.match(text):
        return (
            'no front matter: "Key: value" lines without "---" lines (Pelican\'s headers) '
            f"are not read; {FORMATS}"
        )
    return f"no front matter: an article starts with its front matter; {FORMATS}"


def _split(text: str) -> _FrontMatter:
    if _TOML_BOUNDARY.match(text):
        return _split_toml(text)
    yaml, loader_class, splitter = _yaml()
    if not splitter.detect(text):
        raise _Problem(1, _unreadable(text))
    try:
        raw, body = splitter.split(text)
    except ValueError:
        raise _Problem(1, f'front matter is not closed by a "---" line; {FORMATS}') from None
    offset, body_line = _block_place(text, raw)
    simple = simple_yaml.read(raw)
    if simple is not None:
        data, at, again = simple
        lines = {key: offset + line for key, line in at.items()}
        repeated = tuple((key, offset + line) for key, line in again)
        return _FrontMatter(data, lines, body, body_line, repeated)
    loader = loader_class(raw)
    try:
        node = loader.get_single_node()
        if node is None:  # an empty block, or only comments
            return _FrontMatter({}, {}, body, body_line, ())
        _check_aliases(node, raw, offset)
        if not isinstance(node, yaml.MappingNode):
            value = loader.construct_document(node)
            if value is None:  # "~" or "null": nothing, like an empty block
                return _FrontMatter({}, {}, body, body_line, ())
            raise _Problem(
                offset + _line(raw, node.start_mark),
                f"front matter must be keys and values, not {_describe(value)}",
            )
        return _construct(loader, node, raw, offset, body, body_line)
    except yaml.reader.ReaderError as error:
        line = offset + raw.count("\n", 0, error.position) + 1
        raise _Problem(
            line, f"front matter has a control character U+{error.character:04X}"
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = offset + _line(raw, mark) if mark else 1
        problem = error.problem or error.context or "cannot be read"
        raise _Problem(line, f"front matter is not valid YAML: {problem}") from None
    except _Problem:
        raise
    except Exception as error:
        raise _Problem(offset + 1, f"front matter is not valid YAML: {error}") from None
    finally:
        loader.dispose()


#: How much YAML's aliases (``*name``, and ``<<`` merges) may add to a front matter, in
#: values and in characters of text, beyond what it writes out.  Each alias repeats what
#: its anchor holds, so nine lines of them can stand for a billion values, which would
#: cost their full size in every later step (the build cache's JSON among them).
MAX_ALIAS_VALUES = 10_000
MAX_ALIAS_CHARACTERS = 1_000_000


def _check_aliases(node: Any, raw: str, offset: int) -> None:
    """A :class:`_Problem` at the first key of the front matter *node* past which its
    aliases add more than :data:`MAX_ALIAS_VALUES` values or
    :data:`MAX_ALIAS_CHARACTERS` characters, or that holds an alias to itself.  Each
    node is looked at once, whatever the aliases would expand to."""
    yaml = _yaml()[0]
    sizes = _Sizes(yaml)
    pairs = node.value if isinstance(node, yaml.MappingNode) else [(None, node)]
    for key, value in pairs:
        mark = (key or value).start_mark
        line = offset + _line(raw, mark)
        name = f"{key.value}: " if isinstance(key, yaml.ScalarNode) else ""
        try:
            for part in (key, value):
                if part is not None:
                    sizes.add(part)
        except _Recursive:
            raise _Problem(line, f"{name}a YAML alias is used inside its own anchor") from None
        if sizes.added_values > MAX_ALIAS_VALUES or sizes.added_characters > MAX_ALIAS_CHARACTERS:
            raise _Problem(
                line,
                f"{name}YAML aliases repeat more than {MAX_ALIAS_VALUES:,} values or "
                f"{MAX_ALIAS_CHARACTERS:,} characters; write the values out",
            )


class _Recursive(Exception):
    """A YAML node that holds itself through an alias."""


class _Sizes:
    """The values and characters of YAML nodes with their aliases expanded, and how many
    more than the nodes themselves hold that is, over the nodes added so far."""

    #: The most a size is counted up to: the sizes stay small numbers.
    CAP = 1 << 40

    def __init__(self, yaml: Any) -> None:
        self.scalar, self.mapping = yaml.ScalarNode, yaml.MappingNode
        #: Each node met, by id: its values and characters, aliases expanded.
        self.known: dict[int, tuple[int, int]] = {}
        self.added_values = 0
        self.added_characters = 0

    def add(self, root: Any) -> None:
        """Count *root*: what its aliases repeat, and every node reached again through it."""
        known = self.known
        values = characters = 0  # of the nodes met here for the first time
        path: set[int] = set()  # the nodes entered and not yet left (all above this one)
        stack = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            key = id(node)
            if leaving:
                path.discard(key)
                children = self._children(node)
                own = len(node.value) if isinstance(node, self.scalar) else 0
                known[key] = (
                    min(1 + sum(known[id(child)][0] for child in children), self.CAP),
                    min(own + sum(known[id(child)][1] for child in children), self.CAP),
                )
                values, characters = values + 1, characters + own
            elif key in path:
                raise _Recursive
            elif key not in known:
                path.add(key)
                stack.append((node, True))
                stack.extend((child, False) for child in self._children(node))
        expanded_values, expanded_characters = known[id(root)]
        self.added_values += expanded_values - values
        self.added_characters += expanded_characters - characters

    def _children(self, node: Any) -> list[Any]:
        if isinstance(node, self.scalar):
            return []
        if isinstance(node, self.mapping):
            return [part for pair in node.value for part in pair]
        return list(node.value)


def _line(raw: str, mark: Any) -> int:
    """The line (1-based) of a YAML mark, counting only line feeds: YAML also breaks lines
    at U+2028 and U+0085, which an editor shows inside a line."""
    return raw.count("\n", 0, min(mark.index, len(raw))) + 1


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.MappingNode,
    raw: str,
    offset: int,
    body: str,
    body_line: int,
) -> _FrontMatter:
    """Build the values key by key, so that a value YAML cannot build (``2025-02-30``,
    ``!!timestamp soon``) is reported against its own key and line, as the text written."""
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    yaml = _yaml()[0]
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        line = offset + _line(raw, key_node.start_mark)
        try:
            key = loader.construct_object(key_node, deep=True)
        except Exception:
            key = key_node.value
        if isinstance(key, list | dict):
            raise _Problem(line, "front matter keys must be plain names")
        name = str(key)
        try:
            value = loader.construct_object(value_node, deep=True)
        except Exception as error:
            if not isinstance(value_node, yaml.ScalarNode):
                raise _Problem(line, f"{name}: cannot be read: {error}") from None
            value = value_node.value
        if name in data:
            repeated.append((name, line))
        data[name] = value
        lines[name] = line
    return _FrontMatter(data, lines, body, body_line, tuple(repeated))


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
        raise ValueError(f"must be a path or a URL, not {_describe(raw)}")
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
    article, found, _ = _read_article(path, config)
    return article, found


def _read_article(
    path: Path, config: Config, *, keep_body: bool = True
) -> tuple[Article | None, list[Diagnostic], tuple[bytes, os.stat_result] | None]:
    """An article, its diagnostics, and the bytes of its file with the file's status before
    they were read (None if it could not be read).  Without *keep_body*, the article's
    body is read again from the file when needed."""
    out: list[Diagnostic] = []
    read: tuple[bytes, os.stat_result] | None = None
    try:
        file_bytes, status, text, suspect = _read_text(path, config.content.max_bytes)
        read = file_bytes, status
        fm = _split(text)
        bad = NOT_XML.search(fm.body) if suspect else None
        if bad:
            raise _Problem(
                # The body starts with the line break that ends the closing "---".
                fm.body_line + fm.body.count("\n", 1, bad.start()),
                _cannot_carry(bad.group()),
            )
    except _Problem as problem:
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
        title = _text(data.get("title"), "title") if "title" in data else ""
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
            authors += tuple(_text(item, key) for item in found)
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
                summary = _text(data[key], key) or None
            except ValueError as problem:
                fail(key, str(problem))

    try:
        raw_slug = data.get("slug")
        if raw_slug is not None:
            slug = make_slug(_text(raw_slug, "slug"))
        else:
            # On the path's text: in a worker, the path is text (see _read_to_send).
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
            given_id = _text(data["id"], "id", normal=False)  # the id readers know, as written
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
            lang = language_tag(_text(data["lang"], "lang"))
        except ValueError as problem:
            message = str(problem)
            if data["lang"] is False:  # YAML 1.1 reads Norwegian's tag as a boolean
                message += ' (YAML reads no as false: write lang: "no" for Norwegian)'
            fail("lang", message if message.startswith("lang:") else f"lang: {message}")

    for key in sorted(set(data) - KNOWN_KEYS - set(_markers(data))):
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
        text=nfc(fm.body) if keep_body else None,
        # The body is the end of the text (the splitter cuts it after the closing "---").
        place=(len(text) - len(fm.body), len(fm.body), digest(file_bytes)),
        body_line=fm.body_line,
        lines=dict(lines),
        extra={k: v for k, v in fm.data.items() if k not in KNOWN_KEYS},
        lang=lang,
    )
    return article, out, read


# --- the whole publication -------------------------------------------------


def article_paths(content_dir: Path, root: Path) -> Iterator[tuple[str, bool, str]]:
    """Every ``*.md`` below *content_dir*, in a stable order: its path as text, whether it
    is a symbolic link, and its :func:`source_name` below *root*; names starting with "."
    or "_" (editor files, Hugo's ``_index.md``) are skipped.  Text, not path objects: the
    helpers can start reading sooner (a path object is made in 3 µs, 30 ms for 10,000)."""
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
    *meanwhile* is called once the helpers parsing the articles have started (see
    :class:`~syndicate.workers.SharedWork`), so that the caller prepares what comes next
    while they read.
    """
    articles: list[Article] = []
    diagnostics: list[Diagnostic] = []
    if not config.content.dir.is_dir():
        where = config.content.dir
        return [], [Diagnostic.error(where, 0, "the content folder does not exist")]
    listed = [
        (text, name)
        for text, link, name in article_paths(config.content.dir, config.root)
        if not link or leads_inside(text, config.content.dir)
    ]
    results: list[tuple[Article | None, list[Diagnostic]] | None] = [None] * len(listed)
    settings = ""
    trusted = 0
    if cache is not None:
        settings = _reading_settings(config)
        trusted = time_ns() - 2_000_000_000  # see _signature
        for index, (text, name) in enumerate(listed):
            entry = cache.articles.get(name)
            if not isinstance(entry, dict) or entry.get("settings") != settings:
                continue  # read, hashed and parsed below (its times looked at there)
            path = Path(text)
            try:
                status = os.stat(path)
            except OSError:
                continue
            signature = _signature(status, trusted)
            if signature is not None and entry.get("stat") == signature:
                results[index] = _from_record(entry, path, config.root)  # unchanged: not even read
                if results[index] is not None:
                    continue
            if status.st_size > config.content.max_bytes:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if entry.get("hash") == digest(data):  # touched, not changed
                results[index] = _from_record(entry, path, config.root)
                if results[index] is not None:
                    if entry.get("stat") != signature:
                        entry["stat"] = signature
                        cache.changed_article(name)
                    continue
    missing = [index for index, result in enumerate(results) if result is None]
    recording = (settings, trusted) if cache is not None else None
    read = partial(_read_to_send, config=config, recording=recording)
    # Each result is taken as it comes, in no set order; this process reads its share.
    with SharedWork(read, [listed[i][0] for i in missing]) as parsed:
        # Before this process reads, while the helpers do: the links that lead out of the
        # content folder, the path objects of the files to parse (30 ms for 10,000), and what
        # the caller prepares.
        diagnostics.extend(leaving_links(config.content.dir, "the content folder"))
        paths = [Path(listed[index][0]) for index in missing]
        if meanwhile is not None:
            meanwhile()
        for position, sent in parsed:
            index = missing[position]
            article, found, record = _received(paths[position], sent)
            results[index] = (article, found)
            if cache is not None and record is not None:
                name = listed[index][1]
                cache.articles[name] = record
                cache.changed_article(name)
                cache.parsed += 1
    if cache is not None:
        present = {name for _, name in listed}
        gone = [name for name in cache.articles if name not in present]
        for name in gone:
            del cache.articles[name]
            cache.changed_article(name)
    for result in results:
        assert result is not None
        article, found = result
        diagnostics.extend(found)
        if article is not None:
            articles.append(article)
    diagnostics.extend(_duplicate_slugs(articles, config.root))
    return articles, diagnostics


def _read_for_build(
    path: Path, config: Config, recording: tuple[str, int] | None
) -> tuple[Article | None, list[Diagnostic], Encoded | None]:
    """An article for a build: its body is left in the file, to be read if something
    renders it (cheaper than carrying 10,000 bodies between processes).  With
    *recording* (the digest of the settings reading depends on, and the time before
    which a file's times are trusted: see :func:`_signature`), what the build cache keeps
    of it too, written as JSON here, on a worker's core."""
    article, found, read = _read_article(path, config, keep_body=False)
    if recording is None or read is None:
        return article, found, None
    # The file's times from before its bytes were read: a later change changes them.
    data, status = read
    settings, trusted = recording
    content = article.place[2] if article is not None and article.place else digest(data)
    stat = _signature(status, trusted)
    fast = _record_text(settings, stat, content, article, found, config.root)
    if fast is not None:
        return article, found, fast
    record = {"settings": settings, "stat": stat, "hash": content}
    return article, found, encoded({**record, **_to_record(article, found, config.root)})


def _record_text(
    settings: str,
    stat: list[int] | None,
    content: str,
    article: Article | None,
    found: list[Diagnostic],
    root: Path,
) -> Encoded | None:
    """The cache's record of an article as :func:`encoded` writes it (settings, stat and
    hash, then :func:`_to_record`'s), written here at a third of the cost: a cold build
    writes 10,000.  None for an article out of the usual (keys syndicate does not know, a
    date in no named or fixed zone, no place in its file), which :func:`encoded` writes."""
    text = json_string
    if article is not None and (article.extra or article.place is None):
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
    assert article.place is not None and zone is not None
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
        f'"body":[{article.place[0]:d},{article.place[1]:d}],"body_line":{article.body_line:d},'
        f'"lines":{{{lines}}},"extra":{{}},'
        f'"lang":{"null" if article.lang is None else text(article.lang)}}}}}'
    )


def _int_list(numbers: list[int] | None) -> str:
    return "null" if numbers is None else "[" + ",".join(map(str, numbers)) + "]"


#: What a worker sends back of an article it read: the article's fields and the
#: diagnostics' lines, severities and messages without the file's path, which the main
#: process has (a path is a third of the cost of carrying an article between processes),
#: and the cache's record.
_Sent = tuple[tuple[Any, ...] | None, list[tuple[int, str, str]], Encoded | None]


def _read_to_send(path: str, config: Config, recording: tuple[str, int] | None) -> _Sent:
    """:func:`_read_for_build` in a worker, its result made cheap to send.  The path comes
    as text and stays text (a path object sent is rebuilt part by part, 5 µs for each of
    thousands of files): the article and diagnostics made with it here are taken apart,
    without it, before they are sent."""
    article, found, record = _read_for_build(cast(Path, path), config, recording)
    fields = None if article is None else _article_fields(article)[1:]
    return fields, _without_path(found), record


def _received(path: Path, sent: _Sent) -> tuple[Article | None, list[Diagnostic], Encoded | None]:
    """What :func:`_read_to_send` sent, for the file at *path*, as it was read."""
    fields, found, record = sent
    article = None if fields is None else Article(path, *fields)
    return (
        article,
        _with_path(path, found),
        record,
    )


def _without_path(found: list[Diagnostic]) -> list[tuple[int, str, str]]:
    """Diagnostics of one file as (line, severity, message), as a worker sends them and
    the cache keeps them: the file is known."""
    return [(d.line, d.severity.value, d.message) for d in found]


def _with_path(path: Path, found: Iterable[Sequence[Any]]) -> list[Diagnostic]:
    """What :func:`_without_path` made, for the file at *path*; an unknown severity is a
    KeyError."""
    return [Diagnostic(path, line, _SEVERITY[kind], text) for line, kind, text in found]


_SEVERITY = {severity.value: severity for severity in Severity}


def _signature(status: os.stat_result, trusted: int) -> list[int] | None:
    """Size, modification and change times and inode of a file: while they stay the same,
    so do its bytes.  None for a file changed in the last two seconds, whose times may not
    yet tell one write from the next (git's "racy" files): it is hashed every time."""
    if status.st_mtime_ns >= trusted or status.st_ctime_ns >= trusted:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]


def _reading_settings(config: Config) -> str:
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


def _decode(data: bytes) -> str:
    """The text of an article's file: UTF-8 without a byte-order mark, lines ending in LF."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _to_record(article: Article | None, found: list[Diagnostic], root: Path) -> dict[str, Any]:
    """An article and its diagnostics as JSON; the body as a place in the file's text, the
    image's file as a path from *root*, the publication's folder."""
    record: dict[str, Any] = {
        "diagnostics": _without_path(found),
        "article": None,
    }
    if article is None:
        return record
    if article.place is None:
        return {"diagnostics": None}  # not cacheable: read again next time
    start = article.place[0]
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
        "body": [start, article.place[1]],
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


def _from_record(
    entry: Mapping[str, Any], path: Path, root: Path
) -> tuple[Article | None, list[Diagnostic]] | None:
    """The article and diagnostics an entry of the cache holds, for the publication in
    *root*; None when it cannot be used (the article is then read again)."""
    try:
        if entry["diagnostics"] is None:
            return None
        found = _with_path(path, entry["diagnostics"])
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
            text=None,
            place=(int(start), int(length), str(entry["hash"])),
            body_line=fields["body_line"],
            lines=dict(fields["lines"]),
            extra=dict(fields["extra"]),
            lang=fields["lang"],
        ), found
    except (KeyError, TypeError, ValueError, IndexError, ZoneInfoNotFoundError):
        return None


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


def select(articles: Iterable[Article], now: datetime) -> list[Article]:
    """The published articles, newest first: drafts and articles dated after *now* wait."""
    ready = [a for a in articles if a.draft is None and a.date <= now]
    return sorted(ready, key=lambda a: (-a.date.timestamp(), a.slug))


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An article that is not published, and why."""

    source: Path
    #: "draft" or "future".
    reason: str
    #: What says so: the draft's marker (``status: draft``), the future article's date.
    detail: str
    #: When the article is dated.
    date: datetime

    def format(self, relative_to: Path | None = None) -> str:
        """``content/x.md: draft (status: draft)``, the path as a diagnostic shows it."""
        return f"{show_path(self.source, relative_to)}: {self.reason} ({self.detail})"


def left_out(articles: Iterable[Article], now: datetime) -> list[LeftOut]:
    """The articles :func:`select` leaves out at *now*: those dated in the future first,
    the soonest first (they go out by themselves), then the drafts by file."""
    future: list[LeftOut] = []
    drafts: list[LeftOut] = []
    for article in articles:
        if article.draft is not None:
            drafts.append(LeftOut(article.source, "draft", article.draft, article.date))
        elif article.date > now:
            when = article.date.isoformat(sep=" ", timespec="minutes")
            future.append(LeftOut(article.source, "future", when, article.date))
    future.sort(key=lambda a: (a.date, str(a.source)))
    drafts.sort(key=lambda a: str(a.source))
    return future + drafts
