"""Diagnostics and the one exception family of syndicate.

Everything a user can get wrong is reported as a :class:`Diagnostic`
(``path:line: severity: message``).  Stages collect diagnostics instead of
raising on the first problem, so a run reports every problem at once.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a user's file; ``line`` is 1-based, 0 for the whole file."""

    path: Path
    line: int
    severity: Severity
    message: str

    @classmethod
    def error(cls, path: Path, line: int, message: str) -> Diagnostic:
        return cls(path, line, Severity.ERROR, message)

    @classmethod
    def warning(cls, path: Path, line: int, message: str) -> Diagnostic:
        return cls(path, line, Severity.WARNING, message)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self, relative_to: Path | None = None) -> str:
        """``path:line: severity: message``, the path shown relative to *relative_to*."""
        shown = show_path(self.path, relative_to)
        where = f"{shown}:{self.line}" if self.line > 0 else shown
        return f"{where}: {self.severity.value}: {one_line(self.message)}"

    def __str__(self) -> str:
        return self.format()


def show_path(path: Path, relative_to: Path | None = None) -> str:
    """*path* as a message shows it: relative to *relative_to*, on one line."""
    shown = str(path)
    if relative_to is not None and path.is_absolute():
        top = str(relative_to) + os.sep
        shown = shown[len(top) :] if shown.startswith(top) else _relative(shown, top)
    return one_line(shown)


def _relative(path: str, top: str) -> str:
    """``os.path.relpath(path, top)``, worked out once for each folder (thousands of
    warnings come from a few folders)."""
    folder, name = os.path.split(path)
    above = _relative_folder(folder, top)
    return name if above == "." else os.path.join(above, name)


@lru_cache(maxsize=256)
def _relative_folder(folder: str, top: str) -> str:
    return os.path.relpath(folder, top)


def one_line(text: str) -> str:
    """*text* with line breaks and other control characters written as escapes, so that a
    diagnostic is always one line and article text cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else repr(char)[1:-1] for char in text)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, str]:
    return (str(diagnostic.path), diagnostic.line, diagnostic.message)


def has_errors(diagnostics: Iterable[Diagnostic], *, strict: bool = False) -> bool:
    """True when any diagnostic is an error (or, with *strict*, any at all)."""
    return any(strict or d.is_error for d in diagnostics)


class SyndicateError(Exception):
    """Base of every error syndicate raises on purpose."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)


class ConfigError(SyndicateError):
    """The publication's configuration cannot be used."""


class ContentError(SyndicateError):
    """One or more articles cannot be published."""


class RenderError(SyndicateError):
    """An output could not be rendered (a broken template, for instance)."""


class OutputError(SyndicateError):
    """An output could not be written."""


class DeliveryError(SyndicateError):
    """A message could not be delivered."""
