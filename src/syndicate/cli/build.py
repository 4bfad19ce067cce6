"""``syndicate check`` and ``syndicate build``: the publication checked, then written.

Both call the library (:func:`syndicate.pipeline.check`, :func:`syndicate.pipeline.build`)
once and say what it found: the problems, the articles left out and why, and the email
that is due.  :func:`tell_build` and :func:`tell_first_send` also report for ``publish``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import pipeline
from ..delivery.lock import publication_lock
from ..errors import SyndicateError, has_errors
from .common import EXIT_PROBLEMS, count, fail, now, say, show, strict_option, working

#: How many of the articles left out check and build name, unless asked for every one.
LEFT_OUT_SHOWN = 10
all_left_out_option = click.option(
    "--all-left-out",
    is_flag=True,
    help=f"Name every article left out (drafts, dated in the future), not only the first "
    f"{LEFT_OUT_SHOWN}.",
)


@click.command()
@strict_option
@all_left_out_option
@click.pass_obj
def check(root: Path, strict: bool, all_left_out: bool) -> None:
    """Check syndicate.toml and every article; list every problem, write nothing."""
    with working("Checking the publication"):
        report = pipeline.check(root, now())
    show(report.diagnostics)
    if has_errors(report.diagnostics, strict=strict):
        say(count(report.diagnostics), fg="red")
        sys.exit(EXIT_PROBLEMS)
    say(
        f"ok: {report.articles} article{'s' * (report.articles != 1)}, "
        f"{report.published} published; {count(report.diagnostics)}",
        fg="green",
    )
    _left_out(report, all_left_out)
    tell_first_send(report)


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
    say("\n".join(lines))


def tell_first_send(report: pipeline.Report) -> None:
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
    say(f"first email: {first.articles} article{plural}{each} ({which})")
    say(
        "  To mail only what you publish from now on, run `syndicate publish --baseline` "
        "before the first send."
    )


def _run(root: Path, strict: bool, dry_run: bool, all_left_out: bool) -> pipeline.Report:
    try:
        # The publish lock: a build must not rewrite feeds/ while a publish sends.
        with publication_lock(root.resolve()) as notes:
            show(notes)  # a stale lock taken over
            with working("Building"):
                report = pipeline.build(root, now(), strict=strict, dry_run=dry_run)
    except SyndicateError as error:
        fail(error)
        raise  # unreachable: fail exits
    tell_build(report, dry_run, all_left_out)
    return report


def tell_build(report: pipeline.Report, dry_run: bool, all_left_out: bool = False) -> None:
    """What a build did, the articles it left out, and the email it found due."""
    show(report.diagnostics)
    verb = "would write" if dry_run else "wrote"
    say(
        f"{report.published} article{'s' * (report.published != 1)} in {report.feeds} feeds: "
        f"{verb} {len(report.written)} files, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed, in {report.seconds:.2f} s"
    )
    _left_out(report, all_left_out)
    if report.cards:
        say(f"Social cards: {report.cards} rendered, the others unchanged.")
    if report.newsletter and not report.due:
        say("Newsletter: nothing new since the last email, so none is due.")
    for email in report.due:
        count = len(email.digest.articles)
        say(
            f"Newsletter: {email.digest.id}, {count} article{'s' * (count != 1)}, "
            f"not sent yet: {email.web_url}"
        )


@click.command()
@strict_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@all_left_out_option
@click.pass_obj
def build(root: Path, strict: bool, dry_run: bool, all_left_out: bool) -> None:
    """Check the publication, then write its feeds and pages into feeds/."""
    _run(root, strict, dry_run, all_left_out)
