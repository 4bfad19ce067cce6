"""check, build and publish, top to bottom.

A build reads and checks everything (:func:`~syndicate.publication.load_publication`:
config, articles, state) and stops with every problem at once; plans every output with
its key (:func:`~syndicate.plan.plan_build`); has the build engine make what the cache
(:mod:`syndicate.cache`) does not show unchanged (:func:`~syndicate.engine.make_outputs`);
then writes it all in one swap (:func:`~syndicate.output.write_files`), the state file
recording around it (:class:`~syndicate.state.StateFile`) and the cache remembering what
each file was made of.  Nothing is written when a check fails.  A publish builds,
delivers, then writes what delivery changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import feeds
from .cache import BuildCache
from .cache.keys import remember_outputs
from .config import CONFIG_NAME, Config, read_config, unsubscribe_advice
from .content.markers import LeftOut, left_out
from .delivery.lock import publication_lock
from .email.digest import FirstSend, first_send
from .engine import OutputFiles, Outputs, make_outputs, render_bodies
from .errors import (
    ConfigError,
    ContentError,
    Diagnostic,
    OutputError,
    SyndicateError,
    has_errors,
)
from .output import WriteResult, write_files
from .plan import plan_build
from .publication import (
    PreviewTarget,
    Publication,
    load_publication,
    newsletter,
    no_cycle_collection,
    permalink,
)
from .render import prepare_rendering, render_front
from .scaffold import placeholders
from .state import State, StateFile, around_swap, read_state
from .static import static_files

__all__ = [
    "Baselined",
    "PreviewTarget",
    "Publication",
    "Report",
    "baseline",
    "build",
    "check",
    "load_publication",
    "newsletter",
    "permalink",
    "publish",
    "render_bodies",
]

if TYPE_CHECKING:  # each loads when a build needs it, not on start-up
    from .delivery.send import Delivery, Progress
    from .email.render import RenderedDigest


@dataclass(frozen=True, slots=True)
class Report:
    """What a check or a build found and did."""

    diagnostics: tuple[Diagnostic, ...]
    articles: int = 0
    published: int = 0
    feeds: int = 0
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    seconds: float = 0.0
    #: Every email of the newsletter, rendered: those sent, then those due now.
    emails: tuple[RenderedDigest, ...] = ()
    #: Whether the publication has a newsletter at all.
    newsletter: bool = False
    #: Card images rendered; unchanged ones are kept as they were.
    cards: int = 0
    #: Entry id of every published article, by slug.
    article_ids: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: Articles parsed (not taken from the cache) and bodies rendered (-1: no cache).
    parsed: int = 0
    rendered: int = 0
    #: Output files kept without being rendered: the cache showed them unchanged.
    kept: int = 0
    #: What the very first send will carry, while nothing was sent and no baseline taken.
    first_send: FirstSend | None = None
    #: The articles not published, and why (drafts, articles dated in the future).
    left_out: tuple[LeftOut, ...] = ()

    @property
    def due(self) -> tuple[RenderedDigest, ...]:
        """The emails due now (none when nothing is new since the last one)."""
        return tuple(e for e in self.emails if not e.digest.sent)

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


def check(root: Path, now: datetime) -> Report:
    """Validate the config and every article; write nothing.  Values that are still the
    examples ``syndicate init`` wrote are warnings (:func:`.scaffold.placeholders`), and
    so is an unsubscribe link that carries the reader's address
    (:func:`.config.unsubscribe_advice`)."""
    publication, diagnostics = load_publication(root, now)
    if publication is None:
        return Report(tuple(diagnostics))
    config = publication.config
    diagnostics = [*placeholders(config), *unsubscribe_advice(config), *diagnostics]
    return Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
        first_send=_first_send(publication),
        left_out=_left_out(publication, now),
    )


def _left_out(publication: Publication, now: datetime) -> tuple[LeftOut, ...]:
    """The articles of *publication* it does not publish at *now*, and why."""
    shown = {article.slug for article in publication.published}
    return tuple(left_out((a for a in publication.articles if a.slug not in shown), now))


def _first_send(publication: Publication) -> FirstSend | None:
    email = publication.config.email
    if email is None:
        return None
    return first_send(email, publication.published, publication.ids, publication.state)


def build(
    root: Path,
    now: datetime,
    *,
    strict: bool = False,
    dry_run: bool = False,
    use_cache: bool = True,
    preview: PreviewTarget | None = None,
) -> Report:
    """Check the publication and, when it has no errors, write its outputs.

    With *strict*, warnings count as errors.  Nothing is written when the
    check fails: the previous output stays exactly as it was.  With *dry_run*,
    nothing is written at all and the report says what would have been.  The build
    cache (``.syndicate/cache/``) makes it faster; without *use_cache* it is neither
    read nor written, and the output is the same.  With *preview*, the build is the
    preview's (see :class:`PreviewTarget`).
    """
    report, _ = _build(
        root, now, strict=strict, dry_run=dry_run, use_cache=use_cache, preview=preview
    )
    return report


@dataclass(frozen=True, slots=True)
class _Built:
    """What a publish keeps of its build, to show what delivery changed afterwards."""

    publication: Publication
    outputs: Outputs
    #: Every file of the output folder the build made or kept.
    made: frozenset[str]


def _build(
    root: Path, now: datetime, *, strict: bool, dry_run: bool, use_cache: bool = True,
    preview: PreviewTarget | None = None, configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Report, _Built]:  # fmt: skip
    """:func:`build`, with the configuration as read already when *configured*, and what
    a publish needs of it."""
    started = time.perf_counter()
    with no_cycle_collection():
        folder = None if preview is None else preview.folder / "cache"
        cache = BuildCache.open(root, folder) if use_cache else BuildCache.disabled()
    publication, diagnostics = load_publication(
        root, now, cache, meanwhile=prepare_rendering, preview=preview, configured=configured
    )
    if publication is None or has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    config = publication.config
    outputs = make_outputs(plan_build(publication), cache)
    cache.close()  # every stored body is read by now, dry run or not
    diagnostics += outputs.diagnostics
    static, found = static_files(config)
    diagnostics += found
    for name in sorted(static.keys() & (outputs.files.keys() | outputs.kept)):
        diagnostics.append(
            Diagnostic.error(
                config.site.static / name, 0, "has the name of a generated file; rename it"
            )
        )
    if has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    files = outputs.files.adding(static)

    previous = preview.previous() if preview is not None else _previous(publication, cache)
    # What the state file records just before the swap and once it is done.
    state_file = StateFile(config.state_path, publication.saved_state)
    made = files.keys() | outputs.kept
    before, after = around_swap(publication.state, publication.saved_state, made, previous)
    try:
        result: WriteResult = write_files(
            config.output_dir,
            files,
            previous,
            kept=outputs.kept,
            dry_run=dry_run,
            ready=partial(_all_made, files, diagnostics, cache, strict=strict, dry_run=dry_run),
            swapping=partial(state_file.record, *before) if preview is None else None,
        )
    finally:
        files.close()
    diagnostics += files.problems()
    if not dry_run and preview is None:
        try:
            state_file.record(*after)
        except OSError as error:
            raise OutputError(f"cannot write {config.state_path}: {error.strerror}") from error
    if not dry_run:
        remember_outputs(
            cache,
            config.output_dir,
            outputs.output_keys,
            outputs.kept,
            files.hashes(),
            result.statuses,
            others=files.keys(),
        )
        cache.save()
    parsed, rendered = cache.counts(len(publication.articles))
    report = Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
        feeds=sum(name.endswith(feeds.RSS) for name in made),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        emails=outputs.emails,
        cards=outputs.cards,
        newsletter=config.email is not None,
        article_ids=publication.ids,
        parsed=parsed,
        rendered=rendered,
        kept=len(outputs.kept),
        first_send=_first_send(publication),
        left_out=_left_out(publication, now),
    )
    return report, _Built(publication, outputs, frozenset(made))


def _all_made(
    files: OutputFiles,
    diagnostics: Sequence[Diagnostic],
    cache: BuildCache,
    *,
    strict: bool,
    dry_run: bool,
) -> None:
    """Once every file is made, and before any replaces the output: the problems found
    while making them (card warnings) stop a strict build too.  Then, while the disk
    flushes the new files, the cache's article records (which do not depend on the
    outputs) are saved."""
    late = files.problems()
    if late and has_errors([*diagnostics, *late], strict=strict):
        raise ContentError("the publication has errors", [*diagnostics, *late])
    if not dry_run:
        cache.save_articles()


def _previous(publication: Publication, cache: BuildCache) -> Sequence[str]:
    """The files the last build made, as the state remembers them and, where the build
    cache has it, as the cache does.  The two differ where the output folder came back
    with the cache and the state from elsewhere: the publish workflow restores
    ``feeds/`` with the cache from the last job that succeeded, and the state from git,
    which every job commits, one that failed after its build too."""
    last = publication.state.outputs
    more = cache.outputs.keys() - set(last)
    return tuple(sorted({*last, *more})) if more else last


def publish(
    root: Path,
    now: datetime,
    *,
    environ: Mapping[str, str],
    strict: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Report, Delivery]:
    """Build, then deliver the emails that are due, holding the publication's lock so
    that two publishes at once can never both send (a stale lock taken over is noted
    first among the report's diagnostics).

    *environ* holds the secrets (SYNDICATE_SECRET, SYNDICATE_SMTP_PASSWORD...) and
    may name the subscriber list (SYNDICATE_SUBSCRIBERS, SYNDICATE_DATABASE_URL or
    SYNDICATE_LIST_URL: see :func:`~syndicate.delivery.recipients.open_list`).
    """
    with publication_lock(root.resolve()) as notes:
        config, found = read_config(root)
        if config is None:
            raise ConfigError(f"{CONFIG_NAME} has errors", found)
        # Before anything is built or sent: init's example values never reach a reader.
        # They stop a send over SMTP and a --strict run; the outbox rehearsal and a
        # server on this machine (a test's, or a mail catcher's) only warn.
        early = placeholders(config, error=_sends_for_real(config))
        if has_errors(early, strict=strict):
            raise ConfigError("syndicate.toml still has init's example values", early)
        configured = (config, found)
        report, built = _build(root, now, strict=strict, dry_run=dry_run, configured=configured)
        report = replace(report, diagnostics=(*early, *report.diagnostics))
        from .delivery.send import deliver

        delivery = deliver(
            config,
            report.due,
            report.article_ids,
            now=now,
            environ=environ,
            dry_run=dry_run,
            progress=progress,
            sleep=sleep,
        )
        if (
            not dry_run
            and any(o.complete for o in delivery.outcomes)
            and config.email
            and (config.email.smtp is not None)
        ):
            report = _show_delivered(report, built)
    return replace(report, diagnostics=(*notes, *report.diagnostics)), delivery


def _show_delivered(report: Report, built: _Built) -> Report:
    """After delivery: the files that show the newsletter's state (the archive page, the
    landing page, the emails' web versions) and the state file, as delivery left it,
    written through the same swap as a build's.  Nothing else of the build is made again.
    The report then tells of both writes."""
    publication, outputs = built.publication, built.outputs
    config = publication.config
    state, problems = read_state(config.state_path)
    if problems:
        raise ContentError("the publication has errors", problems)
    shown = replace(publication, state=state, saved_state=state)
    front = render_front(shown, outputs.plans, newsletter(shown), outputs.bodies, outputs.front)
    before = outputs.front.files.keys() if outputs.front is not None else set()
    made = (built.made - before) | front.files.keys()
    state_file = StateFile(config.state_path, state)
    around, after = around_swap(state, state, made, sorted(built.made))
    result = write_files(
        config.output_dir,
        front.files,
        sorted(before - front.files.keys()),
        swapping=partial(state_file.record, *around),
    )
    try:
        state_file.record(*after)
    except OSError as error:
        raise OutputError(f"cannot write {config.state_path}: {error.strerror}") from error
    again = [name for name in result.written if name in built.made and name not in report.written]
    found = [d for d in front.diagnostics if d not in report.diagnostics]
    return replace(
        report,
        diagnostics=(*report.diagnostics, *found),
        written=tuple(sorted({*report.written, *result.written})),
        unchanged=report.unchanged - len(again),
        removed=tuple(sorted({*report.removed, *result.removed})),
    )


@dataclass(frozen=True, slots=True)
class Baselined:
    """What ``publish --baseline`` recorded (in a dry run, what it would record)."""

    #: Articles it recorded as already mailed (0: they all counted as mailed already).
    added: int
    #: Articles published, every one of them now counted as mailed.
    published: int
    #: The newest of them: the next email carries only articles dated after it.
    newest: datetime | None
    dry_run: bool = False


def baseline(
    root: Path, now: datetime, *, strict: bool = False, dry_run: bool = False
) -> tuple[Report, Baselined]:
    """Record every article published so far as already mailed, sending nothing, then
    build: a publication that moves to syndicate with years of articles mails only what
    it publishes after this.

    The record goes into the state file through delivery's own writer
    (:func:`~syndicate.delivery.send.record_baseline`), so the committed state carries it
    to every later run.  Taken twice, the second records nothing.  Refused, with nothing
    written, while a digest is still going out (its readers get it first, with the
    articles it started with) or another publish holds the lock.  With *dry_run*, only
    says what it would record: nothing is written, and nothing is built.
    """
    with publication_lock(root.resolve()) as notes:
        publication, diagnostics = load_publication(root, now)
        if publication is not None:
            diagnostics = [*placeholders(publication.config), *diagnostics]
        if publication is None or has_errors(diagnostics, strict=strict):
            raise ContentError("the publication has errors", diagnostics)
        config, state = publication.config, publication.state
        refusal = _no_baseline(config, state)
        if refusal is not None:
            raise SyndicateError("no baseline was recorded", [refusal])
        ids = [publication.ids[a.slug] for a in publication.published]
        newest = publication.published[0].date if publication.published else None
        taken = Baselined(len(set(ids) - state.mailed), len(ids), newest, dry_run)
        if dry_run:
            report = Report(
                tuple(diagnostics),
                articles=len(publication.articles),
                published=len(publication.published),
            )
        else:
            from .delivery.send import record_baseline

            record_baseline(config, ids, now)
            report = build(root, now, strict=strict)
    return replace(report, diagnostics=(*notes, *report.diagnostics)), taken


def _no_baseline(config: Config, state: State) -> Diagnostic | None:
    """Why no baseline can be taken now, or None."""
    if config.email is None:
        return Diagnostic.error(
            config.path, 0, "no [email] table: there is no newsletter to record a baseline for"
        )
    going = [record.id for record in state.digests if record.open]
    if going:
        return Diagnostic.error(
            config.state_path,
            0,
            f"digest {going[0]} is still going out to some readers: run syndicate publish "
            "to finish it first",
        )
    return None


def _sends_for_real(config: Config) -> bool:
    """Whether a publish would hand mail to a server that can reach readers."""
    from .delivery.backends import _loopback

    smtp = config.email.smtp if config.email is not None else None
    return smtp is not None and not _loopback(smtp.host)
