"""The ``syndicate`` group: the options every command has, and errors at the edge.

``-C DIR`` and ``--debug`` work before the command and after it: every command
added to :data:`main` (``main.add_command(group)``, sub-commands included) gets
both.  A command finds the publication's folder as its context object
(``@click.pass_obj``).  :class:`_Group` turns a library error into one line and an exit
code (:func:`.common.fail`), and any other exception into a line asking for a bug
report, unless ``--debug`` asks for the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..errors import SyndicateError
from .common import EXIT_PROBLEMS, fail

#: Where ``--debug`` is remembered: the context's meta, shared by a command and its group.
DEBUG = "syndicate.debug"


def _set_root(context: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        context.obj = value


def _set_debug(context: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        context.meta[DEBUG] = True


def _common_options() -> list[click.Parameter]:
    """``-C DIR`` and ``--debug``, made afresh for each command that takes them."""
    return [
        click.Option(
            ["-C", "--root", "syndicate_root"],
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            expose_value=False,
            is_eager=True,
            callback=_set_root,
            help="The publication's folder (the one with syndicate.toml); default: here.",
        ),
        click.Option(
            ["--debug", "syndicate_debug"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_debug,
            help="Show the traceback of an unexpected error.",
        ),
    ]


def _add_common_options(command: click.Command) -> None:
    names = {param.name for param in command.params}
    command.params.extend(p for p in _common_options() if p.name not in names)
    if isinstance(command, click.Group):
        for inner in command.commands.values():
            _add_common_options(inner)


class _Group(click.Group):
    """Gives every command -C and --debug; errors leave as one line, never a traceback,
    unless --debug asks for one."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _add_common_options(cmd)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> object:
        if os.environ.get("NO_COLOR"):
            ctx.color = False  # the commands' contexts inherit it
        try:
            return super().invoke(ctx)
        except SyndicateError as error:
            if ctx.meta.get(DEBUG):
                raise
            fail(error)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as error:
            if ctx.meta.get(DEBUG):
                raise
            click.echo(
                f"syndicate: unexpected {type(error).__name__}: {error} (a bug: please report "
                "it, with the output of the same command run with --debug)",
                err=True,
            )
            sys.exit(EXIT_PROBLEMS)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syndicate")
@click.pass_context
def main(context: click.Context) -> None:
    """Publish a folder of Markdown articles as feeds, an email digest and social cards.

    Exit codes: 0 done, 1 problems in the config or the content, 2 a wrong command
    line, 3 delivery failed (run publish again: nobody gets the email twice).
    """
    if context.obj is None:
        context.obj = Path(".")


main.params[:0] = _common_options()
