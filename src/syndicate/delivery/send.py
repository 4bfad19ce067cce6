"""Sending the emails that are due, to every subscriber, exactly once.

The journal is the memory: a recipient is written down (as a keyed hash, never
the address) the moment the server accepts their message, and flushed before
the next one, so a run that dies half-way and is started again sends only to
those not done yet.  A digest counts as sent, for choosing the next one's
articles, only when every recipient is done or refused for good.

The outbox backend writes ``.eml`` files instead, with its journal inside the
outbox folder: a local rehearsal that never marks a digest as sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr

from ..config import Config
from ..email.message import for_reader, mailbox, message_id, prepare
from ..email.render import UNSUBSCRIBE, RenderedDigest, letter, personalize, unsubscribe_mailto
from ..errors import DeliveryError, Diagnostic
from ..output import atomic_write
from ..state import read_state
from .backends import (
    Backend,
    PermanentFailure,
    SmtpSettings,
    TransientFailure,
    credentials,
    outbox_folder,
)
from .backends import backend as choose_backend
from .dkim import DkimSettings, sign
from .journal import Journal
from .subscribers import (
    Subscriber,
    Subscribers,
    load_subscribers,
    on_reserved_domains,
    recipient_key,
    redact,
    secret_from,
    subscribers_path,
    token,
    tracked_by_git,
    unsubscribe_link,
)

OUTBOX = "outbox"
JOURNALS = ".syndicate/journal"

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
    #: Left for the next run (the server kept failing, or a dry run).
    pending: int = 0
    #: Every recipient done or refused: the email counts as sent.
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a publish delivered."""

    #: "smtp host:port" or the outbox folder; "" when nothing was due.
    backend: str
    outcomes: tuple[Outcome, ...]
    #: Rows not mailed: unsubscribed, bounced, invalid or duplicate.
    skipped: int
    diagnostics: tuple[Diagnostic, ...]
    dry_run: bool = False


def _smtp(config: Config, environ: Mapping[str, str]) -> SmtpSettings | None:
    email = config.email
    if email is None or email.smtp is None:
        return None
    smtp = email.smtp
    username, password = credentials(environ)
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        timeout=smtp.timeout,
        username=username,
        password=password,
        rate=email.rate or None,
    )


def _dkim(config: Config, environ: Mapping[str, str]) -> DkimSettings | None:
    email = config.email
    if email is None or email.dkim is None:
        return None
    key = environ.get("SYNDICATE_DKIM_KEY", "")
    if not key.strip():
        raise DeliveryError(
            f"{config.path}: [email.dkim] is set, but SYNDICATE_DKIM_KEY holds no private key"
        )
    return DkimSettings(email.dkim.domain, email.dkim.selector, key.encode("utf-8"))


def deliver(
    config: Config,
    emails: Sequence[RenderedDigest],
    article_ids: Mapping[str, str],
    *,
    now: datetime,
    environ: Mapping[str, str],
    dry_run: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send *emails* (the ones due) to every subscriber not yet done; record what was sent.

    *article_ids* maps article slugs to their entry ids, for the state's record of
    sent digests.  *sleep* waits between retries and for the rate limit.  The caller
    holds the publication lock.
    """
    email = config.email
    if email is None or not emails:
        return Delivery("", (), 0, (), dry_run)
    if email.unsubscribe_url is None:
        raise DeliveryError(
            f"{config.path}: email.unsubscribe_url: required to send (every email needs "
            "a working unsubscribe link)"
        )
    path = subscribers_path(email.subscribers, config.root, environ)
    if path is None:
        # A new publication has no list yet; the email stays due until it has one.
        warning = Diagnostic.warning(
            config.path,
            0,
            "no subscriber list ([email] subscribers or SYNDICATE_SUBSCRIBERS), so nothing "
            "was sent; the email stays due",
        )
        return Delivery("", (), 0, (warning,), dry_run)
    subscribers = load_subscribers(path)
    diagnostics = list(subscribers.diagnostics)
    if tracked_by_git(subscribers.path) and not on_reserved_domains(subscribers):
        diagnostics.append(
            Diagnostic.warning(
                subscribers.path,
                0,
                "the subscriber list is tracked by git: anyone who can read the repository "
                "can read these addresses. Remove it (git rm --cached) and keep it in a secret.",
            )
        )
    smtp = _smtp(config, environ)
    secret = secret_from(environ)
    if smtp is not None and secret is None:
        raise DeliveryError(
            "SYNDICATE_SECRET is not set: refusing to send over SMTP without it (it keys the "
            "unsubscribe tokens and the journal)"
        )
    if secret is None:
        # The outbox is a local rehearsal: a fixed key, stated as such, keeps reruns stable.
        secret = hashlib.sha256(f"syndicate outbox {config.site.url}".encode()).digest()
    dkim = _dkim(config, environ)
    skipped = (
        subscribers.unsubscribed
        + subscribers.bounced
        + subscribers.invalid
        + subscribers.duplicates
    )
    where = f"smtp {smtp.host}:{smtp.port}" if smtp else f"the outbox ({OUTBOX}/)"
    outcomes = []
    for rendered in emails:
        outcome = _send_one(
            config,
            rendered,
            subscribers,
            secret,
            smtp,
            dkim,
            now,
            dry_run,
            progress,
            diagnostics,
            sleep,
        )
        outcomes.append(outcome)
        if outcome.complete and smtp is not None and not dry_run:
            ids = [article_ids[a.slug] for a in rendered.digest.articles]
            _record_sent(config, rendered.digest.id, ids, now)
    return Delivery(where, tuple(outcomes), skipped, tuple(diagnostics), dry_run)


def _record_sent(config: Config, digest_id: str, ids: list[str], now: datetime) -> None:
    state, problems = read_state(config.state_path)
    if problems:
        raise DeliveryError("the state file cannot be read", problems)
    if any(record.id == digest_id for record in state.digests):
        return
    atomic_write(config.state_path, state.sent(digest_id, ids, now).to_json())


def _send_one(
    config: Config,
    rendered: RenderedDigest,
    subscribers: Subscribers,
    secret: bytes,
    smtp: SmtpSettings | None,
    dkim: DkimSettings | None,
    now: datetime,
    dry_run: bool,
    progress: Progress | None,
    diagnostics: list[Diagnostic],
    sleep: Callable[[float], None],
) -> Outcome:
    email = config.email
    assert email is not None and email.unsubscribe_url is not None and email.sender is not None
    digest = rendered.digest
    titles = tuple(a.title for a in digest.articles)
    total = len(subscribers.active)
    folder = outbox_folder(config.root, digest.id)
    if smtp is None:
        journal_path = folder / "journal.jsonl"
    else:
        journal_path = config.root / JOURNALS / f"{digest.id}.jsonl"
    sender = mailbox(email.sender, "From").addr_spec
    mailto = unsubscribe_mailto(config)
    # Built and checked once; each reader's copy changes only what is theirs.
    template = letter(config, rendered, UNSUBSCRIBE)
    domain = template.domain
    prepared = prepare(
        template,
        unsubscribe_mailto=mailto,
        date=now,
        sample=email.sender,
    )
    counts = {"sent": 0, "already": 0, "failed": 0, "pending": 0}
    backend: Backend | None = None

    def build(reader: Subscriber) -> bytes:
        assert email is not None and email.unsubscribe_url is not None
        link = unsubscribe_link(email.unsubscribe_url, reader.email, token(secret, reader.email))
        html, text = personalize(rendered, link)
        data = for_reader(
            prepared,
            text=text,
            html=html,
            to=formataddr((reader.name, reader.email)),
            unsubscribe_url=link,
            message_id=message_id(digest.id, reader.email, domain),
        )
        return sign(data, dkim) if dkim is not None else data

    with Journal.open(journal_path) as journal:
        todo = []
        for reader in subscribers.active:
            key = recipient_key(secret, reader.email)
            if journal.status(key) is None:
                todo.append((reader, key))
        counts["already"] = total - len(todo)
        if dry_run:
            counts["pending"] = len(todo)
            todo = []
        try:
            built = _ahead([reader for reader, _ in todo], build)
            for index, ((reader, key), data) in enumerate(zip(todo, built, strict=True)):
                if backend is None:
                    backend = choose_backend(smtp, folder, sleep=sleep)
                try:
                    backend.send(data, sender, reader.email, key=key)
                except PermanentFailure as refusal:
                    # The server's reply names the address: personal data, kept out.
                    reason = redact(str(refusal), reader.email)
                    journal.record(key, "failed", str(refusal.code))
                    counts["failed"] += 1
                    diagnostics.append(
                        Diagnostic.warning(
                            subscribers.path,
                            reader.line,
                            f"refused for good by the mail server: {reason}",
                        )
                    )
                except TransientFailure as failure:
                    left = len(todo) - index
                    counts["pending"] += left
                    diagnostics.append(
                        Diagnostic.error(
                            config.path,
                            0,
                            f"digest {digest.id}: the mail server keeps failing "
                            f"({redact(str(failure), reader.email)}); {left} recipients left "
                            "for the next run",
                        )
                    )
                    break
                else:
                    journal.record(key, "sent")
                    counts["sent"] += 1
                if progress is not None:
                    progress(counts["already"] + index + 1, total)
        finally:
            if backend is not None:
                backend.close()
    complete = counts["pending"] == 0 and not dry_run
    return Outcome(
        digest.id,
        rendered.subject,
        titles,
        total,
        counts["sent"],
        counts["already"],
        counts["failed"],
        counts["pending"],
        complete,
    )


def _ahead(readers: list[Subscriber], build: Callable[[Subscriber], bytes]) -> Iterator[bytes]:
    """``build(reader)`` for each reader, in order, made a few messages ahead by a thread.

    Making a message is CPU work and waiting for the server's reply is not: the
    thread builds the next messages while the sender waits, and the bounded queue
    keeps memory flat however long the list.  The journal stays in the sender's
    hands alone, in order.
    """
    results: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(maxsize=16)
    stop = threading.Event()

    def work() -> None:
        for reader in readers:
            if stop.is_set():
                return
            try:
                results.put((build(reader), None))
            except BaseException as error:  # handed to the sender, raised there
                results.put((None, error))
                return

    worker = threading.Thread(target=work, name="syndicate-build", daemon=True)
    worker.start()
    try:
        for _ in readers:
            data, error = results.get()
            if error is not None:
                raise error
            assert data is not None
            yield data
    finally:
        stop.set()
        while worker.is_alive():  # let a worker blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                results.get(timeout=0.05)
        worker.join()
