"""One publish's sending: each email in turn, to each reader not done yet.

What becomes of a reader's message is decided here, from what the backend says:

* accepted: recorded in the journal (:data:`~.journal.SENT`);
* refused for good (5xx): recorded (:data:`~.journal.FAILED`) and reported by the
  reader's line; never tried again, unless nobody at all has the email; and, once
  someone has it, marked ``bounced`` in the list that keeps the reader
  (:meth:`~.recipients.Recipients.bounced`);
* "not now" (4xx) to this reader: the others go first, then the deferred readers are
  tried again, :data:`RETRIES` times, after pauses they share; still deferred, they are
  left for the next run (and after :data:`GIVE_UP`, count as refused).  A run of
  :data:`SERVER_STREAK` deferrals in a row is the server's doing: the run stops;
* handed over with no reply: left for the next run, never sent twice in this one;
* the server down (every retry of the connection failed): the run stops, and every
  reader not reached is left for the next run, before any newer email;
* a message that cannot be made, or needs SMTPUTF8 the server lacks: reported by the
  reader's line, and skipped.

Then the state says what the email is (:meth:`Mailing.send`): sent when every reader
has it or was refused for good, and someone has it; open while readers are left;
not sent at all when nobody has it.  The state is written through the *record*
function the caller gives (:func:`~.send.deliver`'s, its one writer).

The list streams through (:class:`_Todo`): each reader is looked up in the journal as
they come, the next few messages are made ahead (:func:`_ahead`), and nothing holds the
whole list, so memory stays flat whatever its size.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..config import Config
from ..email.render import RenderedDigest
from ..errors import DeliveryError, Diagnostic
from ..state import State, read_state
from .backends import (
    MAX_BACKOFF,
    Backend,
    Deferred,
    PermanentFailure,
    SmtpSettings,
    TransientFailure,
    Unsupported,
    Unsure,
    outbox_folder,
)
from .backends import backend as choose_backend
from .dkim import DkimSettings
from .journal import FAILED, SENT, Journal
from .letters import Copy, Letters, Unaddressable
from .recipients import Recipients, Roll
from .subscribers import Subscriber, recipient_key

JOURNALS = ".syndicate/journal"

#: How many more times a deferred reader is tried in one run, after pauses of 1, 2, 4...
#: seconds; the pauses are shared by every deferred reader, never one cycle each.
RETRIES = 5
#: This many "not now" replies in a row, and nobody accepted in between: that is the
#: server (a rate limit, an outage), not the readers.  The run stops for this time.
SERVER_STREAK = 10
#: How long deferred readers are tried again, run after run, before they count as refused
#: (RFC 5321 4.5.4.1 gives up after four to five days).
GIVE_UP = timedelta(days=5)

#: Called after each recipient with (done so far, total).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one email."""

    digest_id: str
    subject: str
    titles: tuple[str, ...]
    #: Subscribed, valid, distinct addresses.
    recipients: int
    sent: int = 0
    #: Done by an earlier run.
    already: int = 0
    #: Refused for good by the server (5xx).
    failed: int = 0
    #: Left for the next run (the server went down, a message's fate is unknown, a dry
    #: run): the email is not finished.
    pending: int = 0
    #: The server kept saying "not now" (4xx) to them: tried again on the next run.
    deferred: int = 0
    #: Readers whose message cannot be made or sent (each reported by its line).
    skipped: int = 0
    #: Every recipient done or refused, and someone received it: the email counts as sent.
    complete: bool = False


@dataclass
class _Counts:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    #: Readers the server said "not now" to, still to be tried.
    later: list[tuple[Subscriber, str, str]] = field(default_factory=list)


class _ServerBusy(Exception):
    """Too many "not now" replies in a row: the server's, not the readers'."""


class Mailing:
    """One publish's sending: the emails in turn, then nothing more once the server is down.

    *record* applies a change to the state file (SMTP only: the outbox never touches it).
    """

    def __init__(
        self,
        config: Config,
        recipients: Recipients,
        secret: bytes,
        smtp: SmtpSettings | None,
        dkim: DkimSettings | None,
        now: datetime,
        dry_run: bool,
        progress: Progress | None,
        sleep: Callable[[float], None],
        record: Callable[[Callable[[State], State]], None],
    ) -> None:
        self.config = config
        self.record = record
        self.recipients = recipients
        self.secret = secret
        self.smtp = smtp
        self.dkim = dkim
        self.now = now
        self.dry_run = dry_run
        self.progress = progress
        self.sleep = sleep
        self.diagnostics: list[Diagnostic] = []
        #: Lines of the readers whose message cannot be made or sent, reported once each.
        self.unaddressable: set[int] = set()
        #: The server stopped answering: no further email is started in this run.
        self.stopped = False
        #: Readers refused for good (5xx), not yet marked bounced in the list: only once
        #: someone has the email (see :meth:`_mark_bounced`).
        self.bounces: list[tuple[Subscriber, str]] = []

    def send(self, rendered: RenderedDigest, ids: tuple[str, ...]) -> Outcome:
        digest = rendered.digest
        if self.smtp is None:
            journal_path = outbox_folder(self.config.root, digest.id) / "journal.jsonl"
        else:
            journal_path = self.config.root / JOURNALS / f"{digest.id}.jsonl"
        counts = _Counts()
        # Each reader is met once, as the list streams by: the journal need not keep the
        # keys it writes, and nothing here holds the whole list.
        with (
            self.recipients.roll() as roll,
            Journal.open(journal_path, remember=False) as journal,
        ):
            # Refusals count as done once someone has the email; while nobody has it, a
            # refusal of all was the server's or the message's, and is tried again.
            settled = (SENT, FAILED) if journal.sent else (SENT,)
            todo = _Todo(roll, journal, self.secret, settled)
            if self.dry_run or self.stopped:
                counts.pending = todo.drain()
            else:
                self._send(rendered, ids, todo, journal, counts)
            received = journal.sent
        if journal.sent == 0:
            self.bounces.clear()  # nobody has it: the refusals are tried again, not believed
        outcome = Outcome(
            digest.id,
            rendered.subject,
            tuple(a.title for a in digest.articles),
            todo.seen,
            counts.sent,
            todo.already,
            counts.failed,
            counts.pending,
            len(counts.later),
            counts.skipped,
        )
        if self.dry_run:
            return outcome
        return self._settle(rendered, ids, outcome, received)

    def _send(
        self,
        rendered: RenderedDigest,
        ids: tuple[str, ...],
        todo: _Todo,
        journal: Journal,
        counts: _Counts,
    ) -> None:
        digest = rendered.digest
        if not todo.any():
            return
        letters = Letters(self.config, rendered, secret=self.secret, dkim=self.dkim, now=self.now)
        if self.smtp is not None:
            # Before the first message: a rerun must finish this digest, not start another.
            self.record(lambda state: state.started(digest.id, ids, self.now))
        # Room for every record, before the first message: a full disk shows here.
        journal.reserve(todo.count)
        backend: Backend | None = None
        done = 0
        built = _ahead(iter(todo), letters.copy)
        try:
            streak = 0
            for (reader, key), copy in built:
                if backend is None:
                    backend = choose_backend(
                        self.smtp, outbox_folder(self.config.root, digest.id), sleep=self.sleep
                    )
                deferred = self._one(backend, letters.sender, reader, key, copy, journal, counts)
                done += 1
                streak = streak + 1 if deferred else 0
                if streak >= SERVER_STREAK:
                    raise _ServerBusy
                if self.progress is not None:
                    self.progress(todo.already + done, max(todo.count, todo.seen))
            if counts.later and backend is not None:
                self._retry(backend, letters, journal, counts)
        except (TransientFailure, _ServerBusy) as failure:
            self.stopped = True
            built.close()
            todo.drain()  # counted, for the outcome: the rest of the list, not sent
            left = todo.pulled - (counts.sent + counts.failed + counts.pending + counts.skipped)
            counts.pending += left
            counts.later.clear()
            why = (
                f"the mail server keeps failing ({failure})"
                if isinstance(failure, TransientFailure)
                else f"the mail server said not now (4xx) to {SERVER_STREAK} recipients in a "
                "row: it is the server, not them"
            )
            self.diagnostics.append(
                Diagnostic.error(
                    self.config.path,
                    0,
                    f"digest {digest.id}: {why}; {left} recipients left for the next run",
                )
            )
        finally:
            built.close()
            if backend is not None:
                backend.close()
        if counts.later:
            self._defer(digest.id, journal, counts)

    def _one(
        self,
        backend: Backend,
        sender: str,
        reader: Subscriber,
        key: str,
        copy: Copy | Unaddressable,
        journal: Journal,
        counts: _Counts,
    ) -> bool:
        """Send one reader's copy and record what became of it; True when deferred."""
        if isinstance(copy, Unaddressable):
            self._skip(reader, f"not mailed: {copy.reason}", counts)
            return False
        try:
            backend.send(copy.data, sender, copy.envelope, key=key)
        except PermanentFailure as refusal:
            journal.record(key, FAILED, str(refusal.code))
            counts.failed += 1
            self._warn(reader, f"refused for good by the mail server: {refusal}")
            self.bounces.append((reader, str(refusal)))
        except Deferred as refusal:
            counts.later.append((reader, key, str(refusal)))
            return True
        except Unsupported as refusal:
            self._skip(reader, f"not mailed: {refusal}", counts)
        except Unsure as failure:
            counts.pending += 1
            self.diagnostics.append(
                Diagnostic.error(
                    self.recipients.path,
                    reader.line,
                    f"{failure}: the server may have kept the message, so it is not sent "
                    "again in this run; the next run sends it again",
                )
            )
        else:
            journal.record(key, SENT)
            counts.sent += 1
        if self.bounces and journal.sent:
            self._mark_bounced()
        return False

    def _mark_bounced(self) -> None:
        """Write down in the list the readers refused for good, once someone has the email:
        while nobody does, a refusal may be the server's or the message's, not theirs."""
        for reader, reason in self.bounces:
            try:
                self.recipients.bounced(reader, reason)
            except DeliveryError as error:
                self._warn(reader, f"could not be marked bounced in the list: {error}")
        self.bounces.clear()

    def _retry(self, backend: Backend, letters: Letters, journal: Journal, counts: _Counts) -> None:
        """Try the deferred readers again, after pauses shared by all of them."""
        for attempt in range(RETRIES):
            if not counts.later:
                return
            self.sleep(min(2.0**attempt, MAX_BACKOFF))
            waiting, counts.later = [(reader, key) for reader, key, _ in counts.later], []
            for reader, key in waiting:
                try:
                    copy: Copy | Unaddressable = letters.copy(reader)
                except Unaddressable as refusal:
                    copy = refusal
                self._one(backend, letters.sender, reader, key, copy, journal, counts)

    def _defer(self, digest_id: str, journal: Journal, counts: _Counts) -> None:
        """Leave the readers the server kept deferring for the next run, or, once the email
        has gone out for :data:`GIVE_UP`, count them as refused."""
        started = self._started(digest_id)
        give_up = started is not None and self.now - started >= GIVE_UP
        for reader, key, why in counts.later:
            if give_up:
                journal.record(key, FAILED, "4xx")
                counts.failed += 1
                self._warn(reader, "refused for now on every run for five days: given up")
            else:
                self._warn(
                    reader,
                    f"deferred to the next run: {why} (after {RETRIES} more tries)",
                )
        if give_up:
            counts.later.clear()

    def _started(self, digest_id: str) -> datetime | None:
        state, _ = read_state(self.config.state_path)
        for record in state.digests:
            if record.id == digest_id:
                with contextlib.suppress(ValueError):
                    return datetime.fromisoformat(record.sent)
        return None

    def _settle(
        self, rendered: RenderedDigest, ids: tuple[str, ...], outcome: Outcome, received: int
    ) -> Outcome:
        """Record in the state what the email now is: sent, still open, or not sent."""
        digest_id = rendered.digest.id
        unfinished = outcome.pending or outcome.deferred
        if not unfinished and not received and outcome.recipients:
            self.diagnostics.append(
                Diagnostic.error(
                    self.config.path,
                    0,
                    f"digest {digest_id}: nobody received it ({outcome.failed} refused, "
                    f"{outcome.skipped} not mailed), so it is not recorded as sent: the next "
                    "run tries it again",
                )
            )
            if self.smtp is not None:
                self.record(lambda state: state.unsent(digest_id))
            return outcome
        if unfinished:
            return outcome
        if self.smtp is not None:
            self.record(lambda state: state.sent(digest_id, ids, self.now))
        return replace(outcome, complete=True)

    def _skip(self, reader: Subscriber, message: str, counts: _Counts) -> None:
        counts.skipped += 1
        if reader.line not in self.unaddressable:
            self.unaddressable.add(reader.line)
            self._warn(reader, message)

    def _warn(self, reader: Subscriber, message: str) -> None:
        self.diagnostics.append(Diagnostic.warning(self.recipients.path, reader.line, message))


class _Todo:
    """The readers of one pass over the list (*roll*) not done yet, as they stream by,
    with the counts the outcome needs; the journal is read here, in the sender's thread."""

    def __init__(
        self, roll: Roll, journal: Journal, secret: bytes, settled: tuple[str, ...]
    ) -> None:
        self.count = roll.count
        self._readers = roll.readers
        self._journal = journal
        self._secret = secret
        self._settled = settled
        self._first: tuple[Subscriber, str] | None = None
        #: Readers met so far; done by an earlier run; handed out to be sent.
        self.seen = self.already = self.pulled = 0

    def _next(self) -> tuple[Subscriber, str] | None:
        for reader in self._readers:
            self.seen += 1
            key = recipient_key(self._secret, reader.email)
            if self._journal.status(key) in self._settled:
                self.already += 1
                continue
            return reader, key
        return None

    def any(self) -> bool:
        """Whether any reader is left to send to (looked at without losing them)."""
        if self._first is None:
            self._first = self._next()
        return self._first is not None

    def __iter__(self) -> Iterator[tuple[Subscriber, str]]:
        while True:
            found, self._first = self._first or self._next(), None
            if found is None:
                return
            self.pulled += 1
            yield found

    def drain(self) -> int:
        """Go through the readers left, sending nothing; how many were not done."""
        return sum(1 for _ in self)


#: Messages made ahead of the one being sent.
AHEAD = 16


def _ahead(
    items: Iterator[tuple[Subscriber, str]], build: Callable[[Subscriber], Copy]
) -> Generator[tuple[tuple[Subscriber, str], Copy | Unaddressable], None, None]:
    """Each of *items* with ``build(reader)``, in order, made :data:`AHEAD` messages ahead
    by a thread; a reader whose message cannot be made comes with its
    :class:`Unaddressable`.

    Making a message is CPU work and waiting for the server's reply is not: the thread
    builds the next messages while the sender waits, and the window keeps memory flat
    however long the list.  Only *build* runs in the thread: the list is read and the
    journal consulted in the sender's, in order.
    """

    def made(reader: Subscriber) -> Copy | Unaddressable:
        try:
            return build(reader)
        except Unaddressable as refusal:
            return refusal

    window: deque[tuple[tuple[Subscriber, str], Future[Copy | Unaddressable]]] = deque()
    pool = ThreadPoolExecutor(1, thread_name_prefix="syndicate-build")
    try:
        for item in items:
            window.append((item, pool.submit(made, item[0])))
            if len(window) > AHEAD:
                first, future = window.popleft()
                yield first, future.result()
        while window:
            first, future = window.popleft()
            yield first, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
