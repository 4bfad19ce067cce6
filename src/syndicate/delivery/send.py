"""Sending the emails that are due, to every subscriber, exactly once.

The journal is the memory: a recipient is written down (as a keyed hash, never
the address) the moment the server accepts their message, in room taken on disk
before anything is sent, so a run that dies half-way (or finds the disk full) and
is started again sends only to those not done yet.

The state remembers each digest from the moment its sending starts (``open``),
so that a rerun finishes it, with the articles it started with, to exactly the
readers it had not reached, before any newer digest; its articles never go into
another digest.  A digest counts as sent when every reader has received it or
been refused for good (5xx), and someone received it.  Readers whose server keeps
saying "not now" (4xx) are deferred: the send goes on with the others, and each
later run tries them again (for five days, RFC 5321 4.5.4.1, then they count as
refused).  A digest that nobody received (every message refused) is a delivery
failure: it is not recorded as sent, and the next run tries it again.

The outbox backend writes ``.eml`` files instead, with its journal inside the
outbox folder: a local rehearsal that never touches the state.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..email.render import RenderedDigest
from ..errors import DeliveryError, Diagnostic
from ..state import State, StateFile
from .backends import SmtpSettings, credentials
from .dkim import DkimSettings
from .mailing import JOURNALS, Mailing, Outcome, Progress
from .recipients import Recipients, open_list
from .subscribers import secret_from

__all__ = [
    "JOURNALS",
    "OUTBOX",
    "Delivery",
    "Outcome",
    "Progress",
    "check_sendable",
    "deliver",
    "dkim_settings",
    "record_baseline",
    "send_emails",
    "sending_secret",
    "smtp_settings",
]

OUTBOX = "outbox"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a publish delivered."""

    #: "smtp host:port" or the outbox folder; "" when nothing was due.
    backend: str
    outcomes: tuple[Outcome, ...]
    #: Rows not mailed: unsubscribed, bounced, invalid or duplicate, and readers whose
    #: message cannot be made or sent.
    skipped: int
    diagnostics: tuple[Diagnostic, ...]
    dry_run: bool = False
    #: Where the list was read: "the CSV file subscribers.csv", "the database ..."...
    source: str = ""


def smtp_settings(config: Config, environ: Mapping[str, str]) -> SmtpSettings | None:
    """How to reach ``[email.smtp]``, with the login from *environ*; None for the outbox."""
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
        data_timeout=smtp.data_timeout,
    )


def dkim_settings(config: Config, environ: Mapping[str, str]) -> DkimSettings | None:
    """The DKIM key and names when ``[email.dkim]`` is set (its key from *environ*)."""
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
    """Send *emails* (the ones due) to every subscriber of the list not yet done; record
    what was sent.  The list is read from where :func:`~.recipients.open_list` finds it.

    *article_ids* maps article slugs to their entry ids, for the state's record of
    digests.  *sleep* waits between retries and for the rate limit.  The caller holds
    the publication lock.
    """
    email = config.email
    if email is None or not emails:
        return Delivery("", (), 0, (), dry_run)
    check_sendable(config)
    listed = open_list(config, environ, now=now)
    if listed is None:
        # A new publication has no list yet; the email stays due until it has one.
        warning = Diagnostic.warning(
            config.path,
            0,
            "no subscriber list ([email] subscribers, SYNDICATE_SUBSCRIBERS, or the list "
            "service's [subscribers]), so nothing was sent; the email stays due",
        )
        return Delivery("", (), 0, (warning,), dry_run)
    try:
        delivery = send_emails(
            config,
            emails,
            article_ids,
            listed,
            now=now,
            environ=environ,
            dry_run=dry_run,
            progress=progress,
            sleep=sleep,
        )
    finally:
        listed.close()
    return Delivery(
        delivery.backend,
        delivery.outcomes,
        listed.skipped + delivery.skipped,
        (*listed.diagnostics, *delivery.diagnostics),
        dry_run,
        listed.describe,
    )


def send_emails(
    config: Config,
    emails: Sequence[RenderedDigest],
    article_ids: Mapping[str, str],
    recipients: Recipients,
    *,
    now: datetime,
    environ: Mapping[str, str],
    dry_run: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send *emails* to each of *recipients* not yet done, in order, and record it.

    :func:`deliver` with the list already read, from wherever it is kept.
    """
    smtp = smtp_settings(config, environ)
    secret = sending_secret(config, smtp, environ)
    run = Mailing(
        config,
        recipients,
        secret,
        smtp,
        dkim_settings(config, environ),
        now,
        dry_run,
        progress,
        sleep,
        lambda change: _record(config, change),
    )
    outcomes = []
    for rendered in emails:
        ids = tuple(article_ids[a.slug] for a in rendered.digest.articles)
        outcomes.append(run.send(rendered, ids))
    return Delivery(
        transport(smtp), tuple(outcomes), len(run.unaddressable), tuple(run.diagnostics), dry_run
    )


def check_sendable(config: Config) -> None:
    """Raise :class:`DeliveryError` unless ``[email]`` has what every message needs: a
    sender and an unsubscribe link."""
    email = config.email
    if email is None or email.sender is None:
        raise DeliveryError(f"{config.path}: email.from: required to send the newsletter")
    if email.unsubscribe_url is None:
        raise DeliveryError(
            f"{config.path}: email.unsubscribe_url: required to send (every email needs "
            "a working unsubscribe link), unless [subscribers] url makes it the list "
            "service's"
        )


def sending_secret(config: Config, smtp: SmtpSettings | None, environ: Mapping[str, str]) -> bytes:
    """The key of the unsubscribe tokens (and of the journal): ``SYNDICATE_SECRET``, which a
    send over SMTP requires; the outbox, a local rehearsal, does with a fixed one."""
    secret = secret_from(environ)
    if smtp is not None and secret is None:
        raise DeliveryError(
            "SYNDICATE_SECRET is not set: refusing to send over SMTP without it (it keys the "
            "unsubscribe tokens and the journal)"
        )
    if secret is None:
        # The outbox is a local rehearsal: a fixed key, stated as such, keeps reruns stable.
        secret = hashlib.sha256(f"syndicate outbox {config.site.url}".encode()).digest()
    return secret


def transport(smtp: SmtpSettings | None) -> str:
    """Where messages go, as the output says it: "smtp host:port" or the outbox."""
    return f"smtp {smtp.host}:{smtp.port}" if smtp else f"the outbox ({OUTBOX}/)"


def record_baseline(config: Config, article_ids: Iterable[str], now: datetime) -> None:
    """Record *article_ids* as already mailed, though no email carried them (``publish
    --baseline``).  The caller holds the publication lock and has made sure that no
    digest is open."""
    ids = tuple(article_ids)
    _record(config, lambda state: state.baselined(ids, now))


def _record(config: Config, change: Callable[[State], State]) -> None:
    """Hand *change* of the state to the state file's one writer."""
    try:
        problems = StateFile(config.state_path).change(change)
    except OSError as error:
        # One line, saying what to do: the send stops here.
        diagnostic = Diagnostic.error(
            config.state_path,
            0,
            f"cannot record the email in the state file ({error.strerror or error}); free "
            "some disk space and run publish again (nobody gets the email twice)",
        )
        raise DeliveryError(str(diagnostic)) from None
    if problems:
        raise DeliveryError("the state file cannot be read", problems)
