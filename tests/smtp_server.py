"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, recording what it accepts.

``with SmtpServer() as server:`` starts aiosmtpd's threaded ``Controller`` on a port the
kernel picks, and :attr:`SmtpServer.messages` lists every message it accepted (envelope
sender, recipients, the bytes as received, and which connection carried it).  Faults are
set up before sending: :meth:`~SmtpServer.fail_first` (4xx replies), :meth:`~SmtpServer.refuse`
(a 5xx for one recipient), :meth:`~SmtpServer.defer` (a 4xx for one recipient),
:meth:`~SmtpServer.drop_after` (the server hangs up once), :meth:`~SmtpServer.stall` (a reply
slower than the client's timeout) and :meth:`~SmtpServer.slow_data` (a reply to the end of
DATA slower than that).  ``smtputf8=True`` offers SMTPUTF8 (RFC 6531).  TLS comes in both
forms, STARTTLS (``starttls_context=``) and implicit TLS (``ssl_context=``), and AUTH
PLAIN/LOGIN checks one username and password.  :func:`tls_contexts` makes a throwaway CA
with trustme and a server and a client context for it.

A message is recorded once the server has all of it and will answer 250 (as a real server
keeps it from then on, even if the client stops waiting for that reply), and a
:meth:`~SmtpServer.drop_after` hang-up comes only after the 250 has been written, so the
client has the 250 in hand before it sees the connection go.

Quiet under ``pytest -W error``, with no warning filter at all: aiosmtpd 1.4 warns
(``UserWarning``) only when AUTH is required without TLS, which this helper never asks of it
(it checks "authenticated before MAIL" itself), and every connection still open when the
server stops is aborted on the server's own loop first, so no transport is left for the
garbage collector to warn about (``ResourceWarning``).  One log record is dropped: the
"Session.login_data is deprecated" notice aiosmtpd logs on each successful AUTH.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
#: aiosmtpd's own AUTH mechanisms.
MECHANISMS = frozenset({"LOGIN", "PLAIN"})


class _NoLoginDataNotice(logging.Filter):
    """aiosmtpd 1.4's own smtp_AUTH sets the deprecated ``Session.login_data`` on every
    successful AUTH, and its setter logs a warning about it each time: noise in every
    failing test's log that no code here can avoid."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_NoLoginDataNotice())


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted message, as the server saw it."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    #: 1 for the first connection the test opened, 2 for the next...
    connection: int
    #: The MAIL FROM parameters (SMTPUTF8, BODY=8BITMIME...).
    mail_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TlsPair:
    """A server context with a certificate for 127.0.0.1 and localhost, and a client
    context that trusts only the throwaway CA which issued it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def tls_contexts() -> TlsPair:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TlsPair(server, client)


@dataclass
class _Faults:
    """What the server does wrong, and how much of it is left; touched only on its loop
    once the server runs."""

    fail_left: int = 0
    fail_code: int = 451
    fail_at: str = "RCPT"
    refused: dict[str, int] = field(default_factory=dict)
    #: Address -> [code, how many more times] for "not now" replies to one recipient.
    deferred: dict[str, list[int]] = field(default_factory=dict)
    drop_after: int | None = None
    stall_seconds: float = 0.0
    stall_left: int = 0
    #: Seconds to wait before the reply to the end of DATA, for how many messages.
    slow_data_seconds: float = 0.0
    slow_data_left: int = 0

    def failure(self) -> str:
        words = "Try again later" if self.fail_code < 500 else "Refused"
        return f"{self.fail_code} {self.fail_code // 100}.3.0 {words}"


class _Session(SMTP):
    """aiosmtpd's SMTP protocol, one per connection, numbered, and able to hang up
    right after the reply that the handler asked to hang up after."""

    def __init__(self, handler: _Handler, number: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.number = number
        self.hang_up = False

    async def smtp_DATA(self, arg: str) -> None:
        await super().smtp_DATA(arg)
        # After the 250 has been written: transport.close() sends what is buffered first.
        if self.hang_up and self.transport is not None:
            self.transport.close()


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_EHLO(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        self.owner.ehlos += 1
        return responses

    async def handle_MAIL(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.owner.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        faults = self.owner.faults
        if faults.fail_at == "MAIL" and faults.fail_left > 0:
            faults.fail_left -= 1
            return faults.failure()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        faults = self.owner.faults
        if faults.stall_left > 0:
            faults.stall_left -= 1
            await asyncio.sleep(faults.stall_seconds)
        if faults.fail_at == "RCPT" and faults.fail_left > 0:
            faults.fail_left -= 1
            return faults.failure()
        if address in faults.refused:
            return f"{faults.refused[address]} 5.1.1 <{address}>: no such mailbox"
        if faults.deferred.get(address, [0, 0])[1] > 0:
            faults.deferred[address][1] -= 1
            code = faults.deferred[address][0]
            return f"{code} 4.2.2 <{address.upper()}>: mailbox of {address} is full, try later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: _Session, session: Session, envelope: Envelope) -> str:
        faults = self.owner.faults
        if faults.fail_at == "DATA" and faults.fail_left > 0:
            faults.fail_left -= 1
            return faults.failure()
        assert envelope.mail_from is not None and isinstance(envelope.original_content, bytes)
        received = Received(
            envelope.mail_from,
            tuple(envelope.rcpt_tos),
            envelope.original_content,
            server.number,
            tuple(envelope.mail_options),
        )
        # Kept from the moment the whole message is in, like a real server: a client that
        # stops waiting for the reply does not take it back.
        self.owner.messages.append(received)
        if self.owner.after_accept is not None:
            self.owner.after_accept(len(self.owner.messages))
        if faults.slow_data_left > 0:
            faults.slow_data_left -= 1
            await asyncio.sleep(faults.slow_data_seconds)
        if faults.drop_after is not None and len(self.owner.messages) >= faults.drop_after:
            faults.drop_after = None  # once
            server.hang_up = True
        return "250 2.0.0 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword) and self.owner.credentials is not None
        username, password = self.owner.credentials
        ok = data.login == username.encode() and data.password == password.encode()
        self.owner.mechanisms_used.append(mechanism)
        return AuthResult(success=ok, handled=False)


class _Controller(Controller):
    def __init__(
        self, owner: SmtpServer, ssl_context: ssl.SSLContext | None, **kwargs: Any
    ) -> None:
        super().__init__(_Handler(owner), hostname=HOST, port=0, ssl_context=ssl_context)
        self.owner = owner
        self.session_kwargs = kwargs
        self.sessions: list[_Session] = []

    def _create_server(self) -> Any:
        # A socket bound to port 0 before the server starts: the kernel picks a free port
        # and nothing can take it between choosing and listening (aiosmtpd's documented
        # hook for how the server binds).
        # IPPROTO_TCP named, not 0: asyncio turns Nagle off only on sockets that say so,
        # and with Nagle each line of a multi-line reply after the first waits 40 ms for
        # the client's delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind((HOST, 0))
        listener.listen()
        self.port = listener.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=listener, ssl=self.ssl_context)

    def factory(self) -> _Session:
        self.owner.connections += 1
        session = _Session(
            self.handler,
            self.owner.connections,
            # aiosmtpd would otherwise call socket.getfqdn(), which may wait on DNS.
            hostname="localhost",
            loop=self.loop,
            **self.session_kwargs,
        )
        self.sessions.append(session)
        return session

    async def close_sessions(self) -> None:
        # abort(), not close(): a TLS close waits for the client's close_notify, and a
        # transport still open when the loop stops is one the garbage collector warns about.
        for session in self.sessions:
            if isinstance(session.transport, asyncio.Transport):
                session.transport.abort()
        await asyncio.sleep(0.01)  # connection_lost runs on the next turns of the loop


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 for one test: ``with SmtpServer() as server: ...``.

    *starttls_context* offers STARTTLS and requires it before MAIL; *ssl_context* speaks
    TLS from the first byte (implicit TLS, port 465 style).  *credentials*
    ``(username, password)`` makes AUTH required before MAIL, with the *mechanisms* named
    (PLAIN and LOGIN by default); AUTH is refused before TLS whenever TLS is configured.
    """

    def __init__(
        self,
        *,
        starttls_context: ssl.SSLContext | None = None,
        ssl_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
        mechanisms: Iterable[str] = MECHANISMS,
        smtputf8: bool = False,
    ) -> None:
        self.credentials = credentials
        self.faults = _Faults()
        self.messages: list[Received] = []
        #: Called on the server's loop with the number of messages accepted so far.
        self.after_accept: Callable[[int], None] | None = None
        #: Connections and EHLO commands since the server started (STARTTLS makes two
        #: EHLOs on one connection).
        self.connections = 0
        self.ehlos = 0
        self.mechanisms_used: list[str] = []
        kwargs: dict[str, Any] = {
            # aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH: over implicit TLS it would
            # never offer AUTH unless told that TLS is not required.
            "auth_require_tls": starttls_context is not None,
            "auth_exclude_mechanism": sorted(MECHANISMS - set(mechanisms)),
            "authenticator": _Handler(self).authenticate,
            "enable_SMTPUTF8": smtputf8,
        }
        if starttls_context is not None:
            kwargs |= {"tls_context": starttls_context, "require_starttls": True}
        self._controller = _Controller(self, ssl_context, **kwargs)

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def fail_first(self, count: int, code: int = 451, *, at: str = "RCPT") -> None:
        """Answer the first *count* RCPT (or MAIL or DATA, with ``at=``) commands with *code*."""
        assert at in {"MAIL", "RCPT", "DATA"}
        self.faults.fail_left, self.faults.fail_code, self.faults.fail_at = count, code, at

    def refuse(self, address: str, code: int = 550) -> None:
        """Refuse RCPT TO *address* with *code*, every time."""
        self.faults.refused[address] = code

    def defer(self, address: str, code: int = 452, times: int = 1_000_000) -> None:
        """Answer RCPT TO *address* with *code* ("not now", naming the address in two
        forms) the next *times* times."""
        self.faults.deferred[address] = [code, times]

    def drop_after(self, count: int) -> None:
        """Hang up, once, right after the 250 for the *count*-th accepted message."""
        self.faults.drop_after = count

    def stall(self, seconds: float, times: int = 1_000_000) -> None:
        """Wait *seconds* before answering each of the next *times* RCPT commands.

        At RCPT, before DATA: a client that gives up there has not handed the message
        over, so the test needs no guess about whether the server kept it.
        """
        self.faults.stall_seconds, self.faults.stall_left = seconds, times

    def slow_data(self, seconds: float, times: int = 1) -> None:
        """Wait *seconds* before the 250 to the end of each of the next *times* messages,
        each kept all the same (it is recorded as soon as it is in)."""
        self.faults.slow_data_seconds, self.faults.slow_data_left = seconds, times

    def start(self) -> SmtpServer:
        self._controller.start()
        # Controller.start() opens one connection of its own to check the server is up.
        self.connections = 0
        return self

    def stop(self) -> None:
        controller = self._controller
        future = asyncio.run_coroutine_threadsafe(controller.close_sessions(), controller.loop)
        future.result(timeout=5)
        controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
