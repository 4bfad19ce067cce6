"""The rules for front-matter values, each small and testable on its own: dates,
categories, slugs, summaries, and the characters a feed can carry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, tzinfo
from functools import lru_cache

from slugify import slugify

from ..nfc import nfc


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
        raise ValueError(f"cannot read {describe(value)} as a date")
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
        raise ValueError(f"must be a comma-separated text or a list, not {describe(value)}")
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ValueError(f"each category must be text, not {describe(item)}")
        name = check_characters(nfc(" ".join(str(item).split())), "categories")
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return tuple(result)


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


def describe(value: object) -> str:
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
        raise ValueError(f"{key}: {cannot_carry(found.group())}")
    return text


def cannot_carry(character: str) -> str:
    return f"has the control character U+{ord(character):04X}, which no feed can carry; remove it"


def as_text(value: object, key: str, *, normal: bool = True) -> str:
    """A front-matter value as text, its whitespace folded and, unless *normal* is false
    (an identifier, kept as written), in NFC."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{key}: must be text, not {describe(value)}")
    text = " ".join(str(value).split())
    return check_characters(nfc(text) if normal else text, key)


#: The bytes of the control characters NOT_XML matches (UTF-8 has no lone surrogates).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (0x09, 0x0A, 0x0D))


def suspect(data: bytes) -> bool:
    """Whether UTF-8 *data* may hold a character :data:`NOT_XML` matches: looked for in
    the bytes, faster than in the text."""
    return (
        len(data.translate(None, _CONTROL_BYTES)) != len(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
    )


def drop_not_xml(text: str) -> str:
    """*text* without the characters no feed can carry (:data:`NOT_XML`)."""
    try:
        if not suspect(text.encode("utf-8")):
            return text
    except UnicodeEncodeError:  # a lone surrogate
        pass
    return NOT_XML.sub("", text)


def decode(data: bytes) -> str:
    """The text of an article's file: UTF-8 without a byte-order mark, lines ending in LF."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
