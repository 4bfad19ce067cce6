"""``syndicate publish`` (and ``publish --baseline``) and ``syndicate send-test``: the
commands that mail.

``publish`` builds, then sends the email that is due to every subscriber exactly once
(:func:`syndicate.pipeline.publish`), with a progress bar on a terminal and a summary for
a GitHub Actions job; ``--baseline`` records the archive as mailed instead.
``send-test`` sends the email that is due, or a past one, to the addresses given and
records nothing (:func:`syndicate.delivery.sendtest.send_test`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import pipeline
from ..errors import SyndicateError
from .build import tell_build, tell_first_send
from .common import EXIT_DELIVERY, fail, now, plain, say, show, strict_option, working

if TYPE_CHECKING:
    from ..delivery.send import Delivery


@click.command()
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
                now(),
                environ=os.environ,
                strict=strict,
                dry_run=dry_run,
                progress=progress,
            )
        except SyndicateError as error:
            fail(error)
            raise  # unreachable: fail exits
    tell_build(report, dry_run)
    show(delivery.diagnostics)
    _job_summary(report, delivery, time.perf_counter() - started)
    if delivery.outcomes and delivery.source:
        say(f"Subscribers: {delivery.source}")
    for outcome in delivery.outcomes:
        if dry_run:
            say(f"Would send {outcome.digest_id}: {outcome.subject}")
            for title in outcome.titles:
                say(f"  - {title}")
            say(
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
        say(
            f"Sent {outcome.digest_id} through {delivery.backend}: {outcome.sent} sent, "
            f"{outcome.already} already done, {outcome.failed} failed, "
            + (f"{outcome.deferred} deferred, " if outcome.deferred else "")
            + f"{delivery.skipped} skipped (unsubscribed, bounced or invalid); {state}",
            fg=None if outcome.complete or waiting else "red",
        )
    if dry_run:
        tell_first_send(report)
    if any(d.is_error for d in delivery.diagnostics):
        sys.exit(EXIT_DELIVERY)


def _baseline(root: Path, strict: bool, dry_run: bool) -> None:
    """``publish --baseline``: record the archive as mailed, then build; send nothing."""
    try:
        report, taken = pipeline.baseline(root, now(), strict=strict, dry_run=dry_run)
    except SyndicateError as error:
        fail(error)
        raise  # unreachable: fail exits
    if dry_run:
        show(report.diagnostics)
    else:
        tell_build(report, dry_run)
    articles = f"{taken.added} article{'s' * (taken.added != 1)}"
    if not taken.published:
        say("Baseline: nothing is published yet, so there is nothing to record.")
    elif not taken.added:
        say(
            f"Baseline: nothing to record: all {taken.published} published articles count "
            "as mailed already. Nothing was sent."
        )
    elif dry_run:
        say(f"Baseline: would record {articles} as already mailed; nothing was written.")
    else:
        say(f"Baseline: recorded {articles} as already mailed; nothing was sent.")
    if taken.newest is not None and taken.added:
        say(
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


def _test_addresses(
    _: click.Context, __: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Each --to checked as the list's addresses are, before anything is built."""
    from ..delivery.sendtest import BadAddress, addressees

    try:
        addressees(value)
    except BadAddress as error:
        problem = f'#{error.position}, "{error.address}", is {error.problem}'
        raise click.BadParameter(problem) from None
    return value


@click.command(name="send-test")
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
    from ..delivery.sendtest import send_test as run

    with working("Sending the test"):
        report = run(root, now(), to, environ=os.environ, digest_id=digest_id)
    show(report.diagnostics)
    for problem in report.problems:
        click.echo(click.style(f"syndicate: {problem}", fg="red"), err=True)
    for email in report.emails:
        count = len(email.titles)
        past = ", sent to readers before" if email.sent_before else ""
        say(
            f"Test of {email.digest_id} ({count} article{'s' * (count != 1)}{past}) sent to "
            f"{email.sent} of {report.addresses} address{'es' * (report.addresses != 1)} "
            f"through {email.through}: {email.subject}"
        )
    say("Nothing was recorded and no reader got it: the next publish is unchanged.")
    if report.problems:
        sys.exit(EXIT_DELIVERY)
