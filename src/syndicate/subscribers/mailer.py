"""Sending the outbox: the service's emails, through the newsletter's own machinery.

Each message is made by :func:`~syndicate.email.message.build_message` from templates in
``templates/subscribers/email/``, signed by :func:`~syndicate.delivery.dkim.sign` when
``[email.dkim]`` is set, and handed to the same backend as the newsletter
(:mod:`syndicate.delivery.backends`: the SMTP server of ``[email.smtp]``, or the
``outbox/subscribers/`` folder without one).

A worker is a thread in each service process.  It sleeps until a request queues an email
(:meth:`Mailer.wake`) or its poll interval passes (for retries, and rows queued by other
processes), then takes back what dead workers held, claims due rows and sends them, one
by one: each written down as *sending* before it goes and *sent* once the server accepted
it (see :mod:`.outbox` for why a message is never sent twice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formataddr

import sqlalchemy as sa

from ..config import Config
from ..delivery.backends import (
    Backend,
    OutboxBackend,
    PermanentFailure,
    SmtpBackend,
    SmtpSettings,
    Unsupported,
    Unsure,
    outbox_folder,
)
from ..delivery.dkim import DkimSettings, sign
from ..delivery.send import dkim_settings, smtp_settings
from ..delivery.subscribers import redact, secret_from, token, unsubscribe_link
from ..email.headers import message_id
from ..email.message import Letter, build_message
from ..email.render import format_date, list_id, mail_domain, unsubscribe_mailto
from ..errors import ConfigError, DeliveryError, RenderError, SyndicateError
from ..templating import render_template
from . import outbox
from .outbox import Job

log = logging.getLogger("syndicate.subscribers")

#: How often an idle worker looks at the queue anyway.
POLL_SECONDS = 2.0
#: Retries of one message inside one try, before the queue's own (slower) retries.
SMTP_RETRIES = 1


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Transport:
    """How the service's mail leaves: the newsletter's settings, read once."""

    config: Config
    sender: str
    smtp_settings: SmtpSettings | None
    dkim: DkimSettings | None
    #: SYNDICATE_SECRET: keys the unsubscribe link of each email, as the newsletter's.
    secret: bytes = field(repr=False)

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> Transport:
        """Raises :class:`~syndicate.errors.ConfigError` or :class:`DeliveryError` when mail
        cannot be sent as configured."""
        email = config.email
        if email is None or email.sender is None:
            raise DeliveryError(
                f"{config.path}: [email] from: required: the list service emails confirmation links"
            )
        secret = secret_from(environ)
        if secret is None:
            raise ConfigError(
                "SYNDICATE_SECRET is not set: the service's emails carry unsubscribe links "
                "keyed with it (use the same value as publish)"
            )
        return cls(
            config,
            email.sender,
            smtp_settings(config, environ),
            dkim_settings(config, environ),
            secret,
        )

    def backend(self) -> Backend:
        settings = self.smtp_settings
        if settings is None:
            return OutboxBackend(outbox_folder(self.config.root, "subscribers"))
        return SmtpBackend(settings, retries=SMTP_RETRIES, backoff=0.5)

    @property
    def where(self) -> str:
        settings = self.smtp_settings
        if settings is None:
            return "the outbox (outbox/subscribers/)"
        return f"smtp {settings.host}:{settings.port}"

    def lease(self) -> timedelta:
        """How long a message may take to send before its worker counts as dead."""
        settings = self.smtp_settings
        if settings is None:
            return timedelta(seconds=60)
        steps = 8 * settings.timeout * (SMTP_RETRIES + 1)
        return timedelta(seconds=60 + steps + settings.data_timeout)


def service_url(config: Config) -> str:
    assert config.subscribers is not None
    return config.subscribers.url


def compose(transport: Transport, job: Job, now: datetime) -> bytes:
    """The message of *job*, as bytes for SMTP (signed when DKIM is set)."""
    config = transport.config
    site = config.site
    url = service_url(config)
    email = config.email
    assert email is not None and email.unsubscribe_url is not None  # [subscribers] url sets it
    # The newsletter's link for this reader: the service's own page by default, or the
    # publication's [email] unsubscribe_url, which wins wherever it is set.
    unsubscribe_url = unsubscribe_link(
        email.unsubscribe_url, job.email, token(transport.secret, job.email)
    )
    context: dict[str, object] = {
        "site": site,
        "name": job.name,
        "service_url": url,
        "signup_url": url,
        "unsubscribe_url": unsubscribe_url,
        "confirm_url": f"{url}confirm/{job.secret}" if job.secret else "",
        "expires": _moment(job.confirm_expires, config) if job.confirm_expires else "",
    }
    kind = "confirm" if job.kind == "confirm" else "goodbye"
    subject = render_template(config, f"subscribers/email/{kind}.subject.txt.j2", **context)
    text = render_template(config, f"subscribers/email/{kind}.txt.j2", **context)
    html = render_template(config, f"subscribers/email/{kind}.html.j2", **context)
    domain = mail_domain(config)
    letter = Letter(
        subject=" ".join(subject.split()),
        text=text,
        html=html,
        sender=transport.sender,
        reply_to=email.reply_to,
        list_id=list_id(config),
        domain=domain,
    )
    message = build_message(
        letter,
        to=formataddr((job.name, job.email)),
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto(config),
        message_id=message_id(f"{kind}-{job.id}", job.email, domain),
        date=now,
    )
    data = message.as_bytes()
    return sign(data, transport.dkim) if transport.dkim is not None else data


def _moment(moment: datetime, config: Config) -> str:
    local = moment.astimezone(config.site.timezone)
    return f"{format_date(local, config)}, {local:%H:%M} ({config.site.timezone.key})"


class Mailer:
    """Sends the outbox; one per service process, on a thread of its own."""

    def __init__(
        self,
        engine: sa.Engine,
        transport: Transport,
        *,
        clock: Callable[[], datetime] = _now,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.worker = outbox.worker_name()
        self._clock = clock
        self._poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recovered = -float("inf")

    def wake(self) -> None:
        """Something was queued: look now, not at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="syndicate-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message in hand, give back the others, and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception as error:  # the worker must outlive any one failure
                log.error("outbox: %s", _words(error))
                busy = False
            if not busy:
                self._wake.wait(self._poll)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim and send one batch (after taking back what dead workers held, once a poll
        interval); True when there was something to send."""
        if time.monotonic() - self._recovered >= self._poll:
            self._recovered = time.monotonic()
            self.recover()
        jobs = outbox.claim(self.engine, self.worker, self._clock())
        if not jobs:
            return False
        backend = self.transport.backend()
        try:
            for index, job in enumerate(jobs):
                if self._stop.is_set():
                    for left in jobs[index:]:
                        outbox.release(self.engine, left)
                    break
                self._send(backend, job)
        finally:
            backend.close()
        return True

    def recover(self) -> None:
        """Take back the rows of workers that stopped (see :func:`.outbox.recover`)."""
        again, lost = outbox.recover(self.engine, self.worker, self._clock())
        if again:
            log.info("outbox: %d emails held by a stopped worker are queued again", again)
        if lost:
            log.warning(
                "outbox: %d emails were being sent when their worker stopped; they may have "
                "reached the server, so they are not sent again",
                lost,
            )

    def _send(self, backend: Backend, job: Job) -> None:
        now = self._clock()
        key = f"{job.kind}-{job.id}"
        try:
            data = compose(self.transport, job, now)
        except Exception as error:  # a broken template: this message can never be made
            reason = redact(str(error), job.email) if isinstance(error, SyndicateError) else ""
            reason = reason or f"unexpected {type(error).__name__}"
            outbox.failed(self.engine, job, now, reason)
            log.error("outbox: %s cannot be made: %s", key, reason)
            return
        if not outbox.start_sending(self.engine, job, self.worker, now, self.transport.lease()):
            return  # taken back by another worker while this one was slow
        try:
            backend.send(data, _envelope(self.transport.sender), job.email, key=key)
        except (PermanentFailure, Unsupported) as refusal:
            reason = redact(str(refusal), job.email)
            outbox.failed(self.engine, job, self._clock(), reason)
            log.warning("outbox: %s refused for good: %s", key, reason)
        except Unsure as unsure:
            # Handed over, and no reply: the server may have kept it, so never again.
            reason = redact(str(unsure), job.email)
            outbox.uncertain(self.engine, job, self._clock(), reason)
            log.warning("outbox: %s may have been sent (%s); not sent again", key, reason)
        except (DeliveryError, RenderError) as failure:  # Deferred, TransientFailure...
            reason = redact(str(failure), job.email)
            again = outbox.later(self.engine, job, self._clock(), reason)
            outcome = "queued again" if again else "given up"
            log.warning("outbox: %s not sent (%s); %s", key, reason, outcome)
        else:
            outbox.sent(self.engine, job, self._clock())
            log.info("outbox: %s sent through %s", key, self.transport.where)


def _envelope(sender: str) -> str:
    from ..email.headers import mailbox

    return mailbox(sender, "From").addr_spec


def _words(error: BaseException) -> str:
    from .database import describe

    return describe(error) if isinstance(error, sa.exc.SQLAlchemyError) else type(error).__name__


def drain(mailer: Mailer, *, seconds: float = 30.0) -> None:
    """Send what is due now, in this thread, until the queue has nothing due (or *seconds*
    pass): for commands that queue mail and end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and mailer.run_once():
        pass
