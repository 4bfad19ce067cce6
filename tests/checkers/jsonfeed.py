"""JSON Feed 1.1 checked field by field against its specification
(https://www.jsonfeed.org/version/1.1/), the way the W3C validator checks RSS and Atom.

Each problem names the field by its JSON path and the sentence of the specification it
breaks.  JSON Feed has no validator of its own that the world uses; this one reads the
specification's fields in order: the top-level object, then authors, hubs, items and their
attachments.  Extensions (keys starting with ``_``) are the publisher's own and are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

VERSION = "https://jsonfeed.org/version/1.1"

#: RFC 3339 date-time (section 5.6), which the specification requires for dates.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
#: RFC 5646 language tag, the shape of it (primary subtag, then subtags).
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
#: A character reference in text that is plain: HTML escaped twice, or escaped for nothing.
_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")

TOP = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "authors", "author", "language", "expired", "hubs", "items",
}  # fmt: skip
ITEM = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "author", "tags",
    "language", "attachments",
}  # fmt: skip
AUTHOR = {"name", "url", "avatar"}
ATTACHMENT = {"url", "mime_type", "title", "size_in_bytes", "duration_in_seconds"}


def problems(feed: Any) -> list[str]:
    """Every way *feed* (parsed JSON) breaks JSON Feed 1.1; empty when it keeps to it."""
    return list(_feed(feed))


def _url(path: str, value: Any) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{path}: must be a string (a URL)"
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or value != value.strip():
        yield f"{path}: {value!r} is not a full http(s) URL"


def _string(path: str, value: Any) -> Iterator[str]:
    if not isinstance(value, str) or not value.strip():
        yield f"{path}: must be a non-empty string"


def _plain(path: str, value: Any) -> Iterator[str]:
    """A field the specification calls plain text: a character reference in it is text the
    reader shows as it is (``&amp;`` on screen), so it was escaped for HTML by mistake."""
    yield from _string(path, value)
    if isinstance(value, str) and _REFERENCE.search(value):
        yield f"{path}: plain text holds the character reference {_REFERENCE.search(value)[0]!r}"


def _unknown(path: str, found: dict[str, Any], known: set[str]) -> Iterator[str]:
    for key in found:
        if key not in known and not key.startswith("_"):
            yield f"{path}.{key}: not a field of JSON Feed 1.1 (extensions start with '_')"


def _authors(path: str, value: Any) -> Iterator[str]:
    if not isinstance(value, list) or not value:
        yield f"{path}: must be an array of one or more authors"
        return
    for index, author in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(author, dict) or not (AUTHOR & author.keys()):
            yield f"{where}: an author must have at least one of name, url and avatar"
            continue
        yield from _unknown(where, author, AUTHOR)
        if "name" in author:
            yield from _plain(f"{where}.name", author["name"])
            if isinstance(author["name"], str) and "@" in author["name"]:
                yield f"{where}.name: a name, not an email address"
        for key in ("url", "avatar"):
            if key in author:
                yield from _url(f"{where}.{key}", author[key])


def _feed(feed: Any) -> Iterator[str]:
    if not isinstance(feed, dict):
        yield "$: a feed is a JSON object"
        return
    yield from _unknown("$", feed, TOP)
    if feed.get("version") != VERSION:
        yield f"$.version: must be {VERSION!r}"
    yield from _plain("$.title", feed.get("title"))
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        if key in feed:
            yield from _url(f"$.{key}", feed[key])
    for key in ("description", "user_comment"):
        if key in feed:
            yield from _plain(f"$.{key}", feed[key])
    if "authors" in feed:
        yield from _authors("$.authors", feed["authors"])
    if "author" in feed and "authors" not in feed:
        yield "$.author: deprecated in 1.1; publish authors (author may stay beside it)"
    if "language" in feed and not _LANGUAGE.match(str(feed["language"])):
        yield f"$.language: {feed['language']!r} is not an RFC 5646 language tag"
    if "expired" in feed and not isinstance(feed["expired"], bool):
        yield "$.expired: must be a boolean"
    for index, hub in enumerate(feed.get("hubs", [])):
        if not isinstance(hub, dict) or not {"type", "url"} <= hub.keys():
            yield f"$.hubs[{index}]: a hub has a type and a url"
    items = feed.get("items")
    if not isinstance(items, list):
        yield "$.items: required, an array"
        return
    ids: set[str] = set()
    for index, item in enumerate(items):
        yield from _item(f"$.items[{index}]", item, ids)


def _item(path: str, item: Any, ids: set[str]) -> Iterator[str]:
    if not isinstance(item, dict):
        yield f"{path}: an item is a JSON object"
        return
    yield from _unknown(path, item, ITEM)
    identifier = item.get("id")
    if not isinstance(identifier, str) or not identifier:
        yield f"{path}.id: required, a string"
    elif identifier in ids:
        yield f"{path}.id: {identifier!r} is not unique in the feed"
    else:
        ids.add(identifier)
    for key in ("url", "external_url", "image", "banner_image"):
        if key in item:
            yield from _url(f"{path}.{key}", item[key])
    if "title" in item:
        yield from _plain(f"{path}.title", item["title"])
    if "summary" in item:
        yield from _plain(f"{path}.summary", item["summary"])
    if "content_html" not in item and "content_text" not in item:
        yield f"{path}: content_html or content_text must be present"
    for key in ("content_html", "content_text"):
        if key in item and not isinstance(item[key], str):
            yield f"{path}.{key}: must be a string"
    for key in ("date_published", "date_modified"):
        if key in item and not _RFC3339.match(str(item[key])):
            yield f"{path}.{key}: {item[key]!r} is not an RFC 3339 date-time"
    if "authors" in item:
        yield from _authors(f"{path}.authors", item["authors"])
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        yield f"{path}.tags: must be an array of strings"
    else:
        for number, tag in enumerate(tags):
            yield from _plain(f"{path}.tags[{number}]", tag)
    if "language" in item and not _LANGUAGE.match(str(item["language"])):
        yield f"{path}.language: {item['language']!r} is not an RFC 5646 language tag"
    for number, attachment in enumerate(item.get("attachments", [])):
        where = f"{path}.attachments[{number}]"
        if not isinstance(attachment, dict):
            yield f"{where}: an attachment is a JSON object"
            continue
        yield from _unknown(where, attachment, ATTACHMENT)
        yield from _url(f"{where}.url", attachment.get("url"))
        yield from _string(f"{where}.mime_type", attachment.get("mime_type"))
