"""The front matter nearly every article has, read without PyYAML's parser.

A typical front matter is a handful of ``key: value`` lines: plain or quoted text, a date,
a ``[flow, list]`` or a ``- block`` list.  PyYAML builds such a block in Python, event by
event and node by node, which is most of the time a cold build spends reading articles.

:func:`read` reads exactly that subset and nothing more.  A line it does not recognise
(an anchor, a tag, an escape, a multi-line value, a comment after a value, a nested
mapping...) makes it return None, and the caller hands the block to PyYAML, which
reads it or reports the error with its line.  Each value is typed by PyYAML's own
resolver and built by its own constructor, so ``yes`` is still true, ``1e3`` still a
number and ``2025-08-18`` still a date: for every block it reads, the result is the one
PyYAML gives (a property test holds it to that).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

#: What PyYAML's reader refuses or counts as a line break: such a block goes to PyYAML.
_AWKWARD = re.compile(
    "[^\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]"
)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?")
_ITEM = re.compile(r"( *)- +(.*)")
#: A day as YAML's timestamps write it; PyYAML resolves it to a date, and nothing else.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: A plain scalar can start with none of these (YAML's indicators) in block context.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
#: Nor, in a flow sequence, hold any of these.
_FLOW_STOPS = re.compile(r"[\[\]{},#:'\"]")


class _Other(Exception):
    """Not the simple subset: PyYAML reads the block."""


@lru_cache(maxsize=1)
def _yaml() -> tuple[Any, dict[str | None, Any], Any]:
    import yaml

    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    return yaml, resolvers, yaml.constructor.SafeConstructor()


def _scalar(text: str, *, plain: bool) -> Any:
    """The value of a scalar as PyYAML builds it (a quoted one is always text)."""
    if not plain:
        return text
    if len(text) == 10 and _DAY.fullmatch(text):
        # A day, the date nearly every article has: what PyYAML's timestamp constructor
        # builds, without its regular expression and arithmetic in Python.
        try:
            return date.fromisoformat(text)
        except ValueError:  # 2025-02-30: PyYAML reports it
            raise _Other from None
    yaml, resolvers, constructor = _yaml()
    # Resolver.resolve, without its generality: a plain scalar's type is found by the
    # implicit resolvers registered for its first character.
    candidates = resolvers.get(text[0] if text else "", ())
    if None in resolvers:  # resolvers for any first character (PyYAML registers none)
        candidates = [*candidates, *resolvers[None]]
    tag = next((tag for tag, pattern in candidates if pattern.match(text)), None)
    if tag is None:
        return text
    node = yaml.ScalarNode(tag, text)
    try:
        return constructor.yaml_constructors[tag](constructor, node)
    except Exception:  # a date that does not exist...: PyYAML reports it
        raise _Other from None


@lru_cache(maxsize=256)
def _is_text(name: str) -> bool:
    """Whether a key reads as text (``yes`` or ``null`` do not)."""
    try:
        return isinstance(_scalar(name, plain=True), str)
    except _Other:
        return False


def _value(text: str, *, flow: bool = False) -> Any:
    """One value written after ``key:`` or ``-``, or inside ``[...]``."""
    if not text:
        raise _Other
    first = text[0]
    if first in "\"'" and not flow:
        body = text[1:].rstrip(" ")
        if len(body) < 1 or body[-1] != first or first in body[:-1] or "\\" in body:
            raise _Other
        return _scalar(body[:-1], plain=False)
    if first in _INDICATORS or "\t" in text or " #" in text or ": " in text:
        raise _Other
    value = text.rstrip(" ")
    if value.endswith(":") or (flow and _FLOW_STOPS.search(value)):
        raise _Other
    return _scalar(value, plain=True)


def _flow_list(text: str) -> list[Any]:
    inner = text.rstrip(" ")
    if not inner.endswith("]"):
        raise _Other
    inner = inner[1:-1]
    if not inner.strip(" "):
        return []
    return [_value(item.strip(" "), flow=True) for item in inner.split(",")]


def read(raw: str) -> tuple[dict[str, Any], dict[str, int], list[tuple[str, int]]] | None:
    """The values of a simple front-matter block, the line of each key in the block
    (1-based), and the keys given again with their lines; None when the block is not
    simple and PyYAML must read it."""
    if _AWKWARD.search(raw):
        return None
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    rows = raw.split("\n")
    index = 0
    try:
        while index < len(rows):
            row = rows[index]
            index += 1
            if not row.strip(" ") or row.lstrip(" ").startswith("#"):
                continue
            found = _KEY.fullmatch(row)
            if found is None:
                return None
            name, text = found.group(1), found.group(2) or ""
            if not _is_text(name):
                return None  # a key such as "yes" or "null" is not text
            line = index
            value: Any
            if text.strip(" "):
                value = _flow_list(text) if text.startswith("[") else _value(text)
            else:
                value, index = _block_list(rows, index)
            if name in data:
                repeated.append((name, line))
            data[name] = value
            lines[name] = line
    except _Other:
        return None
    return data, lines, repeated


def _block_list(rows: list[str], index: int) -> tuple[list[Any] | None, int]:
    """The ``- item`` lines after an empty ``key:`` (None when there are none: a null)."""
    items: list[Any] = []
    indent: str | None = None
    while index < len(rows):
        row = rows[index]
        if not row.strip(" ") or row.lstrip(" ").startswith("#"):
            index += 1
            continue
        found = _ITEM.fullmatch(row)
        if found is None:
            if row.startswith(" "):
                raise _Other  # an indented line that is no item: a nested block
            break
        if indent is None:
            indent = found.group(1)
        elif found.group(1) != indent:
            raise _Other
        items.append(_value(found.group(2)))
        index += 1
    return (items if items else None), index
