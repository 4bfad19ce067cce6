"""Checking a TOML document against a schema: named tables of typed fields, each with its
default and its check.  Every problem is collected, each at its line in the file
(tomllib keeps no positions, so :class:`Lines` finds them in the text).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Diagnostic

#: A value's check: why it is wrong, or None.
Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class Field:
    """A key of a table: its TOML type, its value when absent, and its check."""

    kind: type
    default: Any = None
    required: bool = False
    check: Check | None = None


#: Each table's fields, by the table's dotted name ("email.smtp" is a table in [email]).
Schema = Mapping[str, Mapping[str, Field]]

_TYPE_NAMES = {
    list: "a list",
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}

_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def parse(path: Path, text: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """The TOML document *text* (read from *path*), or None and why it is not TOML."""
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line = int(position.group(1)) if position else 0
        message = _TOML_POSITION.sub("", message).strip()
        return None, [Diagnostic.error(path, line, f"not valid TOML: {message}")]


def validate(
    schema: Schema,
    path: Path,
    text: str,
    raw: Mapping[str, Any],
    *,
    required: Sequence[str],
    optional: Sequence[str],
) -> tuple[dict[str, dict[str, Any]], list[Diagnostic]]:
    """The values of the tables of *raw* (the document *text*, read from *path*), each key
    given (its default where absent or wrong), and every problem found, by line.

    A table of *required* must be there; the other top-level tables are validated even
    when absent (so that their defaults are there), except those of *optional*, which
    have required keys of their own, and the dotted ones.
    """
    lines = Lines(text)
    out: list[Diagnostic] = []
    for table, value in raw.items():
        home = [name for name, fields in schema.items() if table in fields]
        if not isinstance(value, dict) and home:
            out.append(
                Diagnostic.error(
                    path, lines.key("", table), f"{table}: belongs in the [{home[0]}] table"
                )
            )
        elif table not in schema:
            out.append(
                Diagnostic.error(
                    path,
                    lines.table(table),
                    f"[{table}]: unknown table{suggest(table, list(schema))}",
                )
            )
        elif not isinstance(value, dict):
            out.append(Diagnostic.error(path, lines.key("", table), f"[{table}]: must be a table"))
        else:
            for key, inner in value.items():
                if f"{table}.{key}" in schema and not isinstance(inner, dict):
                    out.append(
                        Diagnostic.error(
                            path, lines.key(table, key), f"{table}.{key}: must be a table"
                        )
                    )
    for table in required:
        if table not in raw:
            out.append(Diagnostic.error(path, 1, f"[{table}]: missing (required)"))
    present = {table: _table(raw, table) for table in schema}
    values = {
        table: _validate_table(schema, path, lines, table, found or {}, out)
        for table, found in present.items()
        if found is not None or table in required or ("." not in table and table not in optional)
    }
    out.sort(key=lambda d: d.line)
    return values, out


class Lines:
    """Finds the line of a table or key in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*\"?([A-Za-z0-9_\-]+)\"?\s*=")

    def __init__(self, text: str) -> None:
        self._tables: dict[str, int] = {}
        self._keys: dict[tuple[str, str], int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(1).replace('"', "").replace(" ", "")
                self._tables.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self._keys.setdefault((table, key.group(1)), number)

    def table(self, table: str) -> int:
        return self._tables.get(table, 1)

    def key(self, table: str, key: str) -> int:
        """The line of ``key = …`` in *table*, or of a ``[table.key]`` header, or of *table*."""
        dotted = f"{table}.{key}" if table else key
        return self._keys.get((table, key)) or self._tables.get(dotted) or self.table(table)


def suggest(name: str, known: list[str]) -> str:
    """A hint naming the one of *known* that *name* was likely meant to be, or nothing."""
    close = difflib.get_close_matches(name, known, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _validate_table(
    schema: Schema,
    path: Path,
    lines: Lines,
    table: str,
    raw: Mapping[str, Any],
    out: list[Diagnostic],
) -> dict[str, Any]:
    fields = schema[table]
    values: dict[str, Any] = {}
    for key in raw:
        if f"{table}.{key}" in schema:
            continue  # a sub-table, validated on its own
        if key not in fields:
            out.append(
                Diagnostic.error(
                    path,
                    lines.key(table, key),
                    f"{table}.{key}: unknown key{suggest(key, list(fields))}",
                )
            )
    for key, field in fields.items():
        if key not in raw:
            if field.required:
                out.append(
                    Diagnostic.error(path, lines.table(table), f"{table}.{key}: missing (required)")
                )
            values[key] = field.default
            continue
        value = raw[key]
        if field.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # "rate = 10" means 10.0
        # bool is a subclass of int: "limit = true" must not pass as a number.
        if not isinstance(value, field.kind) or (field.kind is int and isinstance(value, bool)):
            expected = _TYPE_NAMES.get(field.kind, str(field.kind))
            out.append(
                Diagnostic.error(
                    path,
                    lines.key(table, key),
                    f"{table}.{key}: must be {expected}, not {toml_type(value)}",
                )
            )
            values[key] = field.default
            continue
        problem = field.check(value) if field.check else None
        if problem:
            out.append(
                Diagnostic.error(
                    path, lines.key(table, key), f"{table}.{key}: {problem}: {value!r}"
                )
            )
            values[key] = field.default
            continue
        values[key] = value
    return values


def toml_type(value: object) -> str:
    """What *value* is, in the words of an error message."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date" if hasattr(value, "isoformat") else type(value).__name__


def _table(raw: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The table *name* ("email.smtp" is a table inside [email]); None when absent."""
    value: Any = raw
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None
