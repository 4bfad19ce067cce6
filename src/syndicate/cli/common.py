"""What every command shares: how it writes, its exit codes, how a library error leaves.

Every command writes the same way: its results on standard output (:func:`say`),
diagnostics and messages about the run on standard error (:func:`show`); colour and
live progress only on a terminal, and never when ``NO_COLOR`` is set (:func:`plain`).
A :class:`SyndicateError` leaves through :func:`fail`, as ``path:line: severity:
message`` lines and an exit code, never as a traceback.  Time enters the commands here
(:func:`now`), once per command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..errors import DeliveryError, Diagnostic, Severity, SyndicateError


def now() -> datetime:
    """The time a command runs at: the one place the commands read the clock."""
    return datetime.now(UTC)


_SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def plain() -> bool:
    """Whether to write without colour or live progress: not a terminal, or NO_COLOR set
    (https://no-color.org), or a terminal that cannot draw either."""
    return (
        bool(os.environ.get("NO_COLOR"))
        or os.environ.get("TERM") == "dumb"
        or not sys.stderr.isatty()
    )


def _styled(diagnostic: Diagnostic, here: Path) -> str:
    text = diagnostic.format(relative_to=here)
    word = f": {diagnostic.severity.value}: "
    where, _, message = text.partition(word)
    colour = _SEVERITY_COLOURS[diagnostic.severity]
    return (
        click.style(where, bold=True)
        + ": "
        + click.style(diagnostic.severity.value, fg=colour, bold=True)
        + ": "
        + message
    )


def show(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    """Diagnostics, on standard error (click drops the colour where it cannot show)."""
    if not diagnostics:
        return
    here = Path.cwd()
    # One write for them all: a publication can have thousands of warnings.
    click.echo("\n".join(_styled(d, here) for d in diagnostics), err=True)


def say(text: str, **style: Any) -> None:
    """A result, on standard output."""
    click.echo(click.style(text, **style) if style else text)


def count(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner on the terminal while a long step runs; nothing when output is plain."""
    if plain():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(what):
        yield


#: Exit codes: 0 done; 1 problems in the config or the content; 2 a wrong command line
#: (click's own); 3 delivery failed (the email is not sent to everyone yet).
EXIT_PROBLEMS, EXIT_DELIVERY = 1, 3


def fail(error: SyndicateError) -> None:
    show(error.diagnostics)
    if error.diagnostics:
        message = f"syndicate: {error} ({count(error.diagnostics)}); nothing was written"
    else:
        message = f"syndicate: {error}"
    click.echo(click.style(message, fg="red"), err=True)
    sys.exit(EXIT_DELIVERY if isinstance(error, DeliveryError) else EXIT_PROBLEMS)


strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
