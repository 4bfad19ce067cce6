"""The command line: each command parses its flags, calls the library, reports.

Errors the user can cause arrive as :class:`SyndicateError` with diagnostics
and leave as ``path:line: severity: message`` lines and exit code 1, never as
a traceback.  Every command writes the same way: its results on standard
output, diagnostics and messages about the run on standard error; colour and
live progress only on a terminal, and never when ``NO_COLOR`` is set.

``-C DIR`` and ``--debug`` work before the command and after it: every command
added to :data:`main` (``main.add_command(group)``, sub-commands included) gets
both.  A command finds the publication's folder as its context object
(``@click.pass_obj``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__, pipeline
from .delivery.lock import publication_lock

if TYPE_CHECKING:
    from .delivery.send import Delivery
from .errors import DeliveryError, Diagnostic, Severity, SyndicateError, has_errors


def _now() -> datetime:
    return datetime.now(UTC)


# --- how the commands write ------------------------------------------------------------

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


def _show(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    """Diagnostics, on standard error (click drops the colour where it cannot show)."""
    if not diagnostics:
        return
    here = Path.cwd()
    # One write for them all: a publication can have thousands of warnings.
    click.echo("\n".join(_styled(d, here) for d in diagnostics), err=True)


def _say(text: str, **style: Any) -> None:
    """A result, on standard output."""
    click.echo(click.style(text, **style) if style else text)


def _count(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@contextmanager
def _working(what: str) -> Iterator[None]:
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


def _fail(error: SyndicateError) -> None:
    _show(error.diagnostics)
    if error.diagnostics:
        message = f"syndicate: {error} ({_count(error.diagnostics)}); nothing was written"
    else:
        message = f"syndicate: {error}"
    click.echo(click.style(message, fg="red"), err=True)
    sys.exit(EXIT_DELIVERY if isinstance(error, DeliveryError) else EXIT_PROBLEMS)


# --- the options every command has -----------------------------------------------------

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
            _fail(error)
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


strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
#: How many of the articles left out check and build name, unless asked for every one.
LEFT_OUT_SHOWN = 10
all_left_out_option = click.option(
    "--all-left-out",
    is_flag=True,
    help=f"Name every article left out (drafts, dated in the future), not only the first "
    f"{LEFT_OUT_SHOWN}.",
)


@main.command()
@strict_option
@all_left_out_option
@click.pass_obj
def check(root: Path, strict: bool, all_left_out: bool) -> None:
    """Check syndicate.toml and every article; list every problem, write nothing."""
    with _working("Checking the publication"):
        report = pipeline.check(root, _now())
    _show(report.diagnostics)
    if has_errors(report.diagnostics, strict=strict):
        _say(_count(report.diagnostics), fg="red")
        sys.exit(EXIT_PROBLEMS)
    _say(
        f"ok: {report.articles} article{'s' * (report.articles != 1)}, "
        f"{report.published} published; {_count(report.diagnostics)}",
        fg="green",
    )
    _left_out(report, all_left_out)
    _first_send(report)


def _left_out(report: pipeline.Report, every: bool = False) -> None:
    """The articles left out and why: a count, then one line each, the first
    :data:`LEFT_OUT_SHOWN` of them unless *every* (a publication may keep hundreds of
    drafts)."""
    left = report.left_out
    if not left:
        return
    drafts = sum(item.reason == "draft" for item in left)
    future = len(left) - drafts
    kinds = [f"{drafts} draft{'s' * (drafts != 1)}"] if drafts else []
    kinds += [f"{future} dated in the future"] if future else []
    lines = [f"left out: {len(left)} article{'s' * (len(left) != 1)} ({', '.join(kinds)})"]
    shown = left if every or len(left) <= LEFT_OUT_SHOWN else left[:LEFT_OUT_SHOWN]
    here = Path.cwd()
    lines += [f"left out: {item.format(relative_to=here)}" for item in shown]
    if len(shown) < len(left):
        lines.append(f"left out: and {len(left) - len(shown)} more (--all-left-out names them)")
    _say("\n".join(lines))


def _first_send(report: pipeline.Report) -> None:
    """What the very first send will carry, so that it is never a surprise."""
    first = report.first_send
    if first is None:
        return
    plural = "s" * (first.articles != 1)
    each = ", one email each" if first.emails > 1 else ""
    which = (
        f"all {first.published} published"
        if first.articles == first.published
        else f"the newest {first.articles} of {first.published} published"
    )
    _say(f"first email: {first.articles} article{plural}{each} ({which})")
    _say(
        "  To mail only what you publish from now on, run `syndicate publish --baseline` "
        "before the first send."
    )


def _run(root: Path, strict: bool, dry_run: bool, all_left_out: bool) -> pipeline.Report:
    try:
        # The publish lock: a build must not rewrite feeds/ while a publish sends.
        with publication_lock(root.resolve()) as notes:
            _show(notes)  # a stale lock taken over
            with _working("Building"):
                report = pipeline.build(root, _now(), strict=strict, dry_run=dry_run)
    except SyndicateError as error:
        _fail(error)
        raise  # unreachable: _fail exits
    _tell(report, dry_run, all_left_out)
    return report


def _tell(report: pipeline.Report, dry_run: bool, all_left_out: bool = False) -> None:
    """What a build did, the articles it left out, and the email it found due."""
    _show(report.diagnostics)
    verb = "would write" if dry_run else "wrote"
    _say(
        f"{report.published} article{'s' * (report.published != 1)} in {report.feeds} feeds: "
        f"{verb} {len(report.written)} files, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed, in {report.seconds:.2f} s"
    )
    _left_out(report, all_left_out)
    if report.cards:
        _say(f"Social cards: {report.cards} rendered, the others unchanged.")
    if report.newsletter and not report.due:
        _say("Newsletter: nothing new since the last email, so none is due.")
    for email in report.due:
        count = len(email.digest.articles)
        _say(
            f"Newsletter: {email.digest.id}, {count} article{'s' * (count != 1)}, "
            f"not sent yet: {email.web_url}"
        )


@main.command()
@strict_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@all_left_out_option
@click.pass_obj
def build(root: Path, strict: bool, dry_run: bool, all_left_out: bool) -> None:
    """Check the publication, then write its feeds and pages into feeds/."""
    _run(root, strict, dry_run, all_left_out)


@main.command()
@strict_option
@click.option("--dry-run", is_flag=True, help="Show what would be sent; write and send nothing.")
@click.option(
    "--baseline",
    is_flag=True,
    help="Send nothing: record every article published so far as already mailed, so that "
    "the first email carries only what is new after it (for a publication that moves here "
    "with its archive).",
)
@click.pass_obj
def publish(root: Path, strict: bool, dry_run: bool, baseline: bool) -> None:
    """Build, then send the email that is due to every subscriber, exactly once."""
    if baseline:
        _baseline(root, strict, dry_run)
        return
    started = time.perf_counter()
    with _progress_bar() as progress:
        try:
            report, delivery = pipeline.publish(
                root,
                _now(),
                environ=os.environ,
                strict=strict,
                dry_run=dry_run,
                progress=progress,
            )
        except SyndicateError as error:
            _fail(error)
            raise  # unreachable: _fail exits
    _tell(report, dry_run)
    _show(delivery.diagnostics)
    _job_summary(report, delivery, time.perf_counter() - started)
    if delivery.outcomes and delivery.source:
        _say(f"Subscribers: {delivery.source}")
    for outcome in delivery.outcomes:
        if dry_run:
            _say(f"Would send {outcome.digest_id}: {outcome.subject}")
            for title in outcome.titles:
                _say(f"  - {title}")
            _say(
                f"  to {outcome.pending} subscriber{'s' * (outcome.pending != 1)}"
                f" ({outcome.already} already done), through {delivery.backend}"
            )
            continue
        waiting = outcome.deferred and not outcome.pending  # only for the deferred
        state = (
            "complete"
            if outcome.complete
            else "the deferred are tried again on the next run"
            if waiting
            else "NOT complete: run publish again"
        )
        _say(
            f"Sent {outcome.digest_id} through {delivery.backend}: {outcome.sent} sent, "
            f"{outcome.already} already done, {outcome.failed} failed, "
            + (f"{outcome.deferred} deferred, " if outcome.deferred else "")
            + f"{delivery.skipped} skipped (unsubscribed, bounced or invalid); {state}",
            fg=None if outcome.complete or waiting else "red",
        )
    if dry_run:
        _first_send(report)
    if any(d.is_error for d in delivery.diagnostics):
        sys.exit(EXIT_DELIVERY)


def _baseline(root: Path, strict: bool, dry_run: bool) -> None:
    """``publish --baseline``: record the archive as mailed, then build; send nothing."""
    try:
        report, taken = pipeline.baseline(root, _now(), strict=strict, dry_run=dry_run)
    except SyndicateError as error:
        _fail(error)
        raise  # unreachable: _fail exits
    if dry_run:
        _show(report.diagnostics)
    else:
        _tell(report, dry_run)
    articles = f"{taken.added} article{'s' * (taken.added != 1)}"
    if not taken.published:
        _say("Baseline: nothing is published yet, so there is nothing to record.")
    elif not taken.added:
        _say(
            f"Baseline: nothing to record: all {taken.published} published articles count "
            "as mailed already. Nothing was sent."
        )
    elif dry_run:
        _say(f"Baseline: would record {articles} as already mailed; nothing was written.")
    else:
        _say(f"Baseline: recorded {articles} as already mailed; nothing was sent.")
    if taken.newest is not None and taken.added:
        _say(
            f"The next email carries only articles dated after "
            f"{taken.newest.isoformat(sep=' ', timespec='minutes')}."
        )


def _job_summary(report: pipeline.Report, delivery: Delivery, seconds: float) -> None:
    """A few lines for the GitHub Actions job summary, when running there."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    lines = [
        "### syndicate publish" + (" (dry run)" if delivery.dry_run else ""),
        "",
        "| | |",
        "|---|---|",
        f"| Entries published | {report.published} in {report.feeds} feeds |",
    ]
    for outcome in delivery.outcomes:
        verb = "would go to" if delivery.dry_run else "sent to"
        count = outcome.pending if delivery.dry_run else outcome.sent
        unfinished = "" if outcome.complete or delivery.dry_run else ", NOT complete"
        lines.append(
            f"| Email {outcome.digest_id} | {verb} {count}, {outcome.already} already done, "
            f"{outcome.failed} failed{unfinished} |"
        )
    if not delivery.outcomes:
        lines.append("| Email | none due |")
    lines += [f"| Social cards | {report.cards} rendered |", f"| Time | {seconds:.1f} s |", ""]
    with open(target, "a", encoding="utf-8") as summary:
        summary.write("\n".join(lines) + "\n")


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal for sends of more than a handful of messages."""
    if plain():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Sending", total=None)

        def advance(done: int, total: int) -> None:
            if total > 10:
                bar.update(task, completed=done, total=total)

        yield advance


@main.command()
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option("--drafts", is_flag=True, help="Show drafts too (in the preview only).")
@click.option("--future", is_flag=True, help="Show articles dated in the future too.")
@click.pass_obj
def preview(root: Path, port: int, drafts: bool, future: bool) -> None:
    """Serve the publication on 127.0.0.1, rebuilt and reloaded in the browser whenever an
    article, a template, syndicate.toml or a static file changes; the next email at
    /_preview/.  The preview is built into .syndicate/preview/, never into feeds/."""
    import threading

    from .config import Config, load_config
    from .preview import FOLDER, PREVIEW, make_server, rebuild, serve, target

    config = load_config(root)
    try:
        server = make_server(port)
    except OSError as error:
        click.echo(f"syndicate: cannot serve on 127.0.0.1:{port}: {error.strerror}", err=True)
        sys.exit(EXIT_PROBLEMS)
    shown = target(root, server, drafts=drafts, future=future)
    server.folder = shown.output
    unpublished = [name for name, wanted in (("drafts", drafts), ("future", future)) if wanted]
    also = f" ({' and '.join(unpublished)} included)" if unpublished else ""

    def build_once() -> Config | None:
        try:
            with _working("Building the preview"):
                preview_config, report = rebuild(root, shown, _now())
        except SyndicateError as error:
            _show(error.diagnostics)
            message = f"syndicate: {error}; the preview shows the last good build"
            click.echo(click.style(message, fg="red"), err=True)
            here = Path.cwd()
            lines = [d.format(relative_to=here) for d in error.diagnostics] or [str(error)]
            server.fail("\n".join(lines))
            return None
        server.show(preview_config, report)
        _show(report.diagnostics)
        _say(
            f"Built the preview: {report.published} article{'s' * (report.published != 1)}"
            f"{also}, {len(report.written)} files written in {report.seconds:.2f} s"
        )
        return preview_config

    _say(f"Serving the preview at {server.url} (built into {FOLDER}/)")
    _say(f"The email preview: {server.url.rstrip('/')}{PREVIEW} (Ctrl-C stops)")
    with suppress(KeyboardInterrupt):  # Ctrl-C is how a preview ends
        serve(config, server, build_once, threading.Event())


def _test_addresses(
    _: click.Context, __: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Each --to checked as the list's addresses are, before anything is built."""
    from .delivery.sendtest import BadAddress, addressees

    try:
        addressees(value)
    except BadAddress as error:
        problem = f'#{error.position}, "{error.address}", is {error.problem}'
        raise click.BadParameter(problem) from None
    return value


@main.command(name="send-test")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    callback=_test_addresses,
    help="Send the test here (again for more addresses); default: [email] test_to.",
)
@click.option(
    "--digest",
    "digest_id",
    metavar="ID",
    help="Send this digest (a past one, by its id) instead of the email that is due.",
)
@click.pass_obj
def send_test(root: Path, to: tuple[str, ...], digest_id: str | None) -> None:
    """Send the email that is due, or a past digest, as a test to the addresses given, and
    to nobody else; its subject says [TEST]. Nothing is recorded: the next publish sends
    the real email to every subscriber."""
    from .delivery.sendtest import send_test as run

    with _working("Sending the test"):
        report = run(root, _now(), to, environ=os.environ, digest_id=digest_id)
    _show(report.diagnostics)
    for problem in report.problems:
        click.echo(click.style(f"syndicate: {problem}", fg="red"), err=True)
    for email in report.emails:
        count = len(email.titles)
        past = ", sent to readers before" if email.sent_before else ""
        _say(
            f"Test of {email.digest_id} ({count} article{'s' * (count != 1)}{past}) sent to "
            f"{email.sent} of {report.addresses} address{'es' * (report.addresses != 1)} "
            f"through {email.through}: {email.subject}"
        )
    _say("Nothing was recorded and no reader got it: the next publish is unchanged.")
    if report.problems:
        sys.exit(EXIT_DELIVERY)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", help="The publication's name (default: from the folder's name).")
@click.option(
    "--url",
    help="Where its public folder will be served (default: a GitHub Pages address).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_obj
def init(root: Path, directory: Path, title: str | None, url: str | None, force: bool) -> None:
    """Scaffold a new publication in DIRECTORY, with its GitHub Actions workflow."""
    from .scaffold import scaffold

    directory = root / directory  # as everywhere, -C DIR means "as if run in DIR"

    name = directory.resolve().name or "publication"
    title = title or name.replace("-", " ").replace("_", " ").title()
    url = url or f"https://your-user.github.io/{name}/"
    try:
        done = scaffold(directory, title=title, url=url, today=_now().date(), force=force)
    except SyndicateError as error:
        _fail(error)
    here = directory if str(directory) != "." else Path(".")
    _say(f"Created {title} in {here}:")
    for name in done.written:
        _say(f"  {name}")
    _say(NEXT_STEPS.format(root=here))


NEXT_STEPS = """
Next steps:
  1. Edit syndicate.toml: [site] url, description and author; [email] from,
     unsubscribe_url and address. `syndicate -C {root} check --strict` names every
     example value still left. Write articles in content/ (hello-world.md shows how).
  2. Preview as you write:  syndicate -C {root} preview --drafts
     (the site at http://127.0.0.1:8000/, the next email at /_preview/)
  3. Rehearse a send:  syndicate -C {root} publish   (messages land in outbox/)
     Send yourself a test:  syndicate -C {root} send-test --to you@your.domain
     Bringing an archive? Run  syndicate -C {root} publish --baseline  before the
     first send, so that it carries only what you publish next.
  4. Push the folder to a GitHub repository. In Settings > Pages, choose
     "GitHub Actions" as the source.
  5. Add repository secrets (Settings > Secrets and variables > Actions):
       SYNDICATE_SECRET          a long random string, kept forever:
                                 python -c "import secrets; print(secrets.token_hex(32))"
       SUBSCRIBERS_CSV           your subscriber list (email,name,status)
       SYNDICATE_SMTP_USERNAME   and SYNDICATE_SMTP_PASSWORD, with [email.smtp] in
                                 syndicate.toml (without it, mail goes to outbox/)
       SYNDICATE_DKIM_KEY        optional, with [email.dkim]
  6. Publish: every push that touches content/ runs the workflow, and a daily schedule
     publishes articles dated in the future. From the Actions tab, "Run workflow" with
     dry_run rehearses.
"""


# The list service's commands live with the service (syndicate.subscribers.commands).
from .subscribers.commands import subscribers as _subscribers  # noqa: E402

main.add_command(_subscribers)
