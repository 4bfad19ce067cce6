"""TOML front matter, as Hugo writes it between ``+++`` lines.

The standard library's :mod:`tomllib` reads the values.  Around it, this module finds
what tomllib does not keep, the line of each top-level key (for diagnostics) and the
line of an error, and it bounds two shapes that tomllib reads in more than linear time
or stack: a dotted key (``a.b.c = 1``) costs it time growing with the square of its
parts, and each level of nested arrays or inline tables a level of Python's stack.  A
key of more than :data:`MAX_PARTS` parts, or values nested more than :data:`MAX_DEPTH`
deep, are refused before tomllib reads the block; no front matter written by hand or by
a tool comes near either.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

#: The most parts a dotted key or a table's name may have (``a.b.c`` has three).
MAX_PARTS = 32
#: The deepest arrays and inline tables may nest.
MAX_DEPTH = 32


class Problem(Exception):
    """What is wrong with a TOML block, at a line of the block (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def read(raw: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The values of the TOML block *raw* and the line of each top-level key in it
    (1-based); a :class:`Problem` when it is not valid TOML or is out of bounds."""
    lines = _scan(raw)
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        line, problem = _located(error, raw)
        raise Problem(line, f"front matter is not valid TOML: {problem}") from None
    except RecursionError:  # bounded by _scan: not reached by any block it lets through
        raise Problem(1, "front matter is nested too deeply to read") from None
    return data, {key: line for key, line in lines.items() if key in data}


#: Where tomllib says an error is, at the end of its message.
_AT = re.compile(r" \(at (?:line ([0-9]+), column [0-9]+|end of document)\)$")


def _located(error: tomllib.TOMLDecodeError, raw: str) -> tuple[int, str]:
    """The line (1-based) and the message of a tomllib error, its first letter in lower
    case as every other diagnostic's."""
    text = str(error)
    found = _AT.search(text)
    if found is None:
        line, message = 1, text
    else:
        line = int(found.group(1)) if found.group(1) else raw.count("\n") + 1
        message = text[: found.start()]
    return line, message[:1].lower() + message[1:]


#: What the scan stops at: what may open a string or a comment, nest or end a value, or
#: join a key's parts.
_SIGNIFICANT = re.compile(r"""["'#\[\]{}.=,\n]""")
#: Each kind of string, from its opening quote to its closing one.
_STRINGS = {
    '"""': re.compile(r'"""(?:[^"\\]|\\.|""?(?!"))*"{3,5}', re.DOTALL),
    "'''": re.compile(r"'''(?:[^']|''?(?!'))*'{3,5}"),
    '"': re.compile(r'"(?:[^"\\\n]|\\.)*"'),
    "'": re.compile(r"'[^'\n]*'"),
}
#: A line that starts a key-value pair or a table: its first key part.
_KEY = re.compile(r"""[ \t]*(\[\[?)?[ \t]*([A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')""")


def _scan(raw: str) -> dict[str, int]:
    """The line of each top-level key of *raw*, found by going once over it, strings and
    comments skipped: a key-value pair's before any table, a table's by its name; a
    :class:`Problem` at a key of more than :data:`MAX_PARTS` parts or a value nested more
    than :data:`MAX_DEPTH` deep.  Where *raw* is not valid TOML, tomllib says so."""
    lines: dict[str, int] = {}
    line = 1
    depth = dots = 0
    in_table = False
    position = 0
    start: int | None = 0  # a line to look for a key at, at the top level
    while True:
        if start is not None:
            if depth == 0:
                in_table = _key_at(raw, start, line, lines, in_table)
            start = None
        found = _SIGNIFICANT.search(raw, position)
        if found is None:
            return lines
        char, at = found.group(), found.start()
        position = found.end()
        if char in "\"'":
            quote = char * 3 if raw.startswith(char * 3, at) else char
            string = _STRINGS[quote].match(raw, at)
            if string is None:  # not closed: tomllib says where
                return lines
            line += raw.count("\n", at, string.end())
            position = string.end()
        elif char == "#":
            end = raw.find("\n", at)
            position = len(raw) if end < 0 else end
        elif char == ".":
            dots += 1
            if dots >= MAX_PARTS:
                raise Problem(line, f"front matter has a key of more than {MAX_PARTS} parts")
        else:
            dots = 0
            if char == "\n":
                line += 1
                start = position
            elif char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise Problem(
                        line, f"front matter nests arrays or tables more than {MAX_DEPTH} deep"
                    )
            elif char in "]}":
                depth = max(depth - 1, 0)


def _key_at(raw: str, start: int, line: int, lines: dict[str, int], in_table: bool) -> bool:
    """Note the top-level key the line at *start* begins, if any; whether the lines from
    there on are in a table."""
    found = _KEY.match(raw, start)
    if found is None:
        return in_table
    header, part = found.group(1), found.group(2)
    if part[0] in "\"'":
        if "\\" in part:  # an escape in a key's name: its line stays unknown
            return in_table or bool(header)
        part = part[1:-1]
    if header or not in_table:
        lines.setdefault(part, line)
    return in_table or bool(header)
