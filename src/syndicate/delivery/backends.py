"""Where a finished message goes: an SMTP server, or the outbox folder.

Both backends take the message as bytes, already built (and signed), the envelope sender
and recipient as bare addresses, and a *key* that names the message without the reader's
address (the outbox's file name, the SMTP backend's log lines).

:class:`SmtpBackend` opens one connection at the first message and keeps it for every
message after.  A message counts as accepted once the server's 250 reply to the end of its
DATA has been read, and not before.  What a failure becomes depends on whom it is about:

* the server, or the connection (a timeout, a dropped connection, a 421, a 4xx to MAIL
  FROM, before the message was handed over): the message is sent again, on a new
  connection, after a pause that doubles each time; still failing after the retries, the
  server is down (:class:`TransientFailure`), and the caller stops for this run;
* this recipient or this message, "not now" (a 4xx to RCPT TO or to the message):
  :class:`Deferred` at once, so the caller goes on with the others and tries it later;
* this recipient or message, for good (a 5xx to RCPT TO or to the message):
  :class:`PermanentFailure`;
* the message was handed over whole, and no reply came (a server slower than the DATA
  timeout, a connection lost while it thought): :class:`Unsure`.  The server may have kept
  it: it is never sent again in this run.  That is SMTP's own blind spot (RFC 1047), and
  the next run sends it again, the same bytes with the same Message-ID, by which most
  mailbox providers drop a duplicate.

A connection the server closed after a 250 costs the *next* message a reconnect, never this
one a second copy.  Every read from the server is bounded (:mod:`.session`), and nothing
the backend raises or logs shows the recipient's address: a server's reply is shown with
any address in it blotted out (:func:`~.subscribers.redact`).

The SMTP username and password come from the environment (:func:`credentials`), never
from ``syndicate.toml``, and appear in no message, log line or repr.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import math
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from ..errors import ConfigError, DeliveryError, one_line
from ..output import atomic_write
from .session import DATA_TIMEOUT, ReplyError, Session, SslSession
from .subscribers import redact

log = logging.getLogger(__name__)

#: Where :func:`credentials` reads the SMTP login, so that it never sits in a file.
ENV_USERNAME = "SYNDICATE_SMTP_USERNAME"
ENV_PASSWORD = "SYNDICATE_SMTP_PASSWORD"
#: ``[email.smtp] security``: STARTTLS on a plain port (587), TLS from the first byte
#: (465), or nothing (a relay on the same machine).
SECURITIES = ("starttls", "ssl", "none")
#: ``[email] rate``, messages a second, when the file does not say.
DEFAULT_RATE = 10.0
#: The longest pause between two attempts at one message, in seconds.
MAX_BACKOFF = 30.0
#: Outbox keys become file names: no separators, no leading dot, and no "@", so that an
#: address passed by mistake is refused rather than written into a file name.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


class PermanentFailure(DeliveryError):
    """The server refused this recipient for good (a 5xx): record it, go on with the rest."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


class TransientFailure(DeliveryError):
    """The server or the connection still failing after every retry: stop for this run."""


class Deferred(DeliveryError):
    """The server said "not now" (4xx) to this recipient or message: try it again later."""


class Unsure(DeliveryError):
    """The message was handed over and its reply never came: it may have been kept, so it
    must not be sent again in this run."""


class Unsupported(DeliveryError):
    """This server cannot take this message (an address that needs SMTPUTF8, which it does
    not offer): nothing was sent; skip the recipient."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the SMTP server: ``[email.smtp]``, the login from the environment."""

    host: str
    port: int
    #: One of :data:`SECURITIES`.
    security: str
    #: Seconds to wait for the server at each step before counting the attempt as failed.
    timeout: float
    username: str | None
    password: str | None = field(repr=False)
    #: Messages a second at most; None or 0 sends as fast as the server answers.
    rate: float | None
    #: The CAs to trust; None trusts the system's (``ssl.create_default_context()``).
    ssl_context: ssl.SSLContext | None = None
    #: Seconds to wait for the reply to the end of a message (RFC 5321 4.5.3.2.6), when the
    #: server does its work; never less than *timeout*.
    data_timeout: float = DATA_TIMEOUT


def credentials(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The SMTP username and password from *environ* (``os.environ``): both, or neither."""
    username = environ.get(ENV_USERNAME) or None
    password = environ.get(ENV_PASSWORD) or None
    if (username is None) != (password is None):
        raise ConfigError(f"set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither")
    return username, password


class Backend(Protocol):
    def send(self, message: bytes, sender: str, recipient: str, *, key: str) -> None:
        """Hand over *message* for *recipient*; *key* names it without the address."""
        ...

    def close(self) -> None: ...


class _Closing:
    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def backend(
    smtp: SmtpSettings | None, outbox: Path, *, sleep: Callable[[float], None] = time.sleep
) -> Backend:
    """The SMTP backend when a host is configured, the outbox folder *outbox* otherwise."""
    return SmtpBackend(smtp, sleep=sleep) if smtp is not None else OutboxBackend(outbox)


def outbox_folder(root: Path, digest_id: str) -> Path:
    """``outbox/<digest-id>/`` at the publication *root*."""
    return root / "outbox" / _file_name(digest_id, "digest id")


class OutboxBackend(_Closing):
    """Writes each message to ``folder/<key>.eml`` instead of sending it.

    Each file is written whole or not at all (:func:`~syndicate.output.atomic_write`), and
    a key written again replaces its file: a rerun leaves one file per message.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: bytes, sender: str, recipient: str, *, key: str) -> None:
        path = self.folder / f"{_file_name(key, 'outbox key')}.eml"
        try:
            atomic_write(path, message)
        except OSError as error:
            raise DeliveryError(f"cannot write {path}: {error.strerror or error}") from error


def _file_name(value: str, what: str) -> str:
    if not _KEY.fullmatch(value):
        raise DeliveryError(
            f"{what} {value!r} cannot be a file name: use letters, digits, '.', '_' and '-'"
        )
    return value


class SmtpBackend(_Closing):
    """Sends through one SMTP connection, kept open, at most ``settings.rate`` a second.

    *sleep* and *clock* are how the backend waits and reads the time (the tests pass fake
    ones).  A failure worth another try is retried *retries* times, after pauses of
    *backoff*, twice that, four times that... (at most :data:`MAX_BACKOFF` seconds);
    see :meth:`send` for what each failure becomes.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retries: int = 5,
        backoff: float = 1.0,
    ) -> None:
        _check(settings)
        self._settings = settings
        self._where = f"{settings.host}:{settings.port}"
        self._context = settings.ssl_context
        self._sleep = sleep
        self._retries = retries
        self._backoff = backoff
        self._pace = _Pace(settings.rate, clock, sleep) if settings.rate else None
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: bytes, sender: str, recipient: str, *, key: str) -> None:
        """Send *message* from *sender* to *recipient*.

        Returns once the server has accepted it.  Raises :class:`PermanentFailure` at once
        when the server refuses the recipient or the message with a 5xx, and
        :class:`Deferred` when it answers them with a 4xx (the connection stays usable);
        :class:`Unsure` when the message was handed over and no reply came;
        :class:`Unsupported` when the recipient's address needs SMTPUTF8 and the server
        does not offer it; :class:`TransientFailure` when timeouts, dropped connections or
        4xx replies to the session outlast the retries; and :class:`DeliveryError` for what
        no retry and no other recipient can fix: a server that cannot be reached, a
        refused login or sender, an untrusted certificate.
        """
        attempt = 0
        hung_up = False
        while True:
            reused = self._smtp is not None
            failure, connected = self._attempt(message, sender, recipient)
            if failure is None:
                return
            self._raise_unless_transient(failure, recipient, key)
            words = redact(_words(failure), recipient)
            if reused and not hung_up and _hung_up(failure):
                # A kept connection the server has closed (idle too long, or its limit of
                # messages per connection) is routine: reconnect now, no attempt spent.
                hung_up = True
                log.info("%s closed the connection; reconnecting for %s", self._where, key)
                continue
            if attempt >= self._retries:
                if not connected:
                    raise DeliveryError(
                        f"cannot connect to {self._where} after {attempt + 1} attempts: {words}"
                    ) from None
                raise TransientFailure(
                    f"{self._where}: {key} not accepted after {attempt + 1} attempts: {words}"
                ) from None
            delay = min(self._backoff * 2 ** min(attempt, 32), MAX_BACKOFF)
            log.info("%s: %s: %s; trying again in %g s", self._where, key, words, delay)
            self._sleep(delay)
            attempt += 1

    def _attempt(
        self, message: bytes, sender: str, recipient: str
    ) -> tuple[Exception | None, bool]:
        """One try: the failure, if any, and whether the connection was up by then."""
        connected = False
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._session()
            connected = True
            options = self._options(smtp, recipient)
            if self._pace is not None:
                self._pace.wait()
            smtp.sendmail(sender, [recipient], message, mail_options=options)
        except (smtplib.SMTPException, OSError) as error:
            if getattr(smtp, "handed_over", False):
                self._forget()
                raise Unsure(
                    f"{self._where}: the message was handed over and no reply came "
                    f"({redact(_words(error), recipient)})"
                ) from None
            return error, connected
        return None, connected

    def _options(self, smtp: smtplib.SMTP, recipient: str) -> list[str]:
        """The MAIL FROM options: SMTPUTF8 for an address that is not ASCII (RFC 6531)."""
        if recipient.isascii():
            return []
        if not smtp.has_extn("smtputf8"):
            raise Unsupported(
                f"{self._where} does not offer SMTPUTF8, which this address needs (its local "
                "part is not ASCII)"
            )
        return ["SMTPUTF8", *(["BODY=8BITMIME"] if smtp.has_extn("8bitmime") else [])]

    def _raise_unless_transient(self, failure: Exception, recipient: str, key: str) -> None:
        kind, words = _judge(failure)
        words = redact(words, recipient)
        if kind is _Kind.PERMANENT:
            self._forget_if_closed()
            code = _code(failure) or 550
            raise PermanentFailure(f"{self._where} refused it: {words}", code=code) from None
        if kind is _Kind.DEFERRED:
            self._forget_if_closed()
            raise Deferred(f"{self._where} said not now: {words}") from None
        self._forget()
        if kind is _Kind.FATAL:
            raise DeliveryError(f"{self._where}: {words}") from None

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = SslSession(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                data_timeout=settings.data_timeout,
                context=self._tls(),
            )
        else:
            smtp = Session(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                data_timeout=settings.data_timeout,
                starttls=settings.security == "starttls",
            )
        try:
            smtp.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                # Raises SMTPNotSupportedError when the server does not offer STARTTLS:
                # never a quiet fall back to plain text.
                smtp.starttls(context=self._tls())
                smtp.ehlo_or_helo_if_needed()
            if settings.username is not None and settings.password is not None:
                try:
                    smtp.login(settings.username, settings.password)
                finally:
                    # smtplib keeps both on the connection for its AUTH callbacks only.
                    smtp.user = smtp.password = ""
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls(self) -> ssl.SSLContext:
        # Made at the first TLS connection, not before: loading the system's CAs is work
        # that a plain relay on loopback never needs.
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _forget(self) -> None:
        """Drop the connection without QUIT: after a failure its state is unknown, and
        a QUIT to a stalled server would wait out the timeout once more."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _forget_if_closed(self) -> None:
        # smtplib sends RSET after a refusal, and closes the socket itself if that fails.
        if self._smtp is not None and self._smtp.sock is None:
            self._forget()


def _check(settings: SmtpSettings) -> None:
    """Refuse settings that could only fail, or leak the password, before any message."""
    where = f"{settings.host}:{settings.port}"
    if settings.security not in SECURITIES:
        choices = ", ".join(f'"{name}"' for name in SECURITIES)
        raise DeliveryError(f"{where}: security {settings.security!r} is not one of {choices}")
    if settings.rate is not None and not (math.isfinite(settings.rate) and settings.rate >= 0):
        raise DeliveryError(f"{where}: rate must be a number of messages a second, 0 or more")
    if (settings.username is None) != (settings.password is None):
        raise DeliveryError(f"{where}: set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither")
    if settings.username is None or settings.password is None:
        return
    # smtplib encodes AUTH as ASCII; caught here, so that no UnicodeEncodeError (which
    # carries the whole string) is ever raised with the password in it.
    if not (settings.username.isascii() and settings.password.isascii()):
        raise DeliveryError(f"{where}: {ENV_USERNAME} and {ENV_PASSWORD} must be ASCII")
    if settings.security == "none" and not _loopback(settings.host):
        raise DeliveryError(
            f'{where}: refusing to send the SMTP password unencrypted; set security = "starttls"'
            ' or "ssl" (only a server on this machine may be reached with "none")'
        )


def _loopback(host: str) -> bool:
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761 6.3
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Pace:
    """At most *rate* transactions a second, evenly spaced: a token bucket one token deep,
    so that a quiet spell earns no burst afterwards (servers count per second)."""

    def __init__(
        self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


class _Kind(enum.Enum):
    #: The server or the connection: try again, on a new connection.
    TRANSIENT = "transient"
    #: This recipient or message, not now.
    DEFERRED = "deferred"
    #: This recipient or message, for good.
    PERMANENT = "permanent"
    #: Every message alike, for good.
    FATAL = "fatal"


def _judge(error: Exception) -> tuple[_Kind, str]:
    """What *error* means for the message being sent, and its words for a report."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return _Kind.FATAL, f"certificate not trusted: {error.verify_message}"
    code = _code(error)
    words = _words(error)
    if code is None:
        # Timeouts, resets, hang-ups (SMTPServerDisconnected), and TLS broken off
        # halfway are worth another connection; smtplib's own complaints (no STARTTLS, no
        # AUTH, no mechanism in common) are not.
        # (Every smtplib exception is an OSError, hence the second test.)
        transient = isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(
            error, smtplib.SMTPException
        )
        return (_Kind.TRANSIENT if transient else _Kind.FATAL), words
    about_this_one = isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError)
    if about_this_one and 400 <= code < 500 and code != 421:
        # A 421 closes the session: that is the server, not this recipient.
        return _Kind.DEFERRED, words
    if code < 500:
        # 4xx, and replies that make no sense at this step: a new session may fare better.
        return _Kind.TRANSIENT, words
    if about_this_one:
        return _Kind.PERMANENT, words
    # A 5xx to the greeting, EHLO, AUTH or MAIL FROM refuses every message alike.
    return _Kind.FATAL, words


def _code(error: Exception) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    return None


def _words(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return one_line(str(error)) or type(error).__name__


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return one_line(text)


def _hung_up(error: Exception) -> bool:
    """Whether the server closed the connection (421, EOF, reset), as opposed to the
    connection timing out, which says the server is slow rather than done with us."""
    if _code(error) == 421:
        return True
    if isinstance(error, ReplyError):  # a reply too long or too slow: an attempt spent
        return False
    timed_out = isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError)
    return isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError) and not timed_out
