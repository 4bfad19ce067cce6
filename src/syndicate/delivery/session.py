"""One SMTP connection whose every read from the server is bounded, in size and in time.

``smtplib`` reads a reply line by line, each at most 8 KiB, but as many lines as the server
sends, each line waiting up to the socket's timeout for its next byte: a server (or anyone
on the path before STARTTLS) that sends ``250-`` lines without end, or one byte every few
seconds, holds the sender for ever and fills its memory.  :class:`Session` reads replies
itself, straight from the socket:

* a reply line is at most :data:`MAX_LINE` bytes, a whole reply at most :data:`MAX_REPLY`;
* a whole reply must arrive within the command timeout (``[email.smtp] timeout``), however
  it is cut into packets, and the reply to the end of DATA within the DATA timeout
  (RFC 5321 4.5.3.2.6: ten minutes), because that is when a server does its work;
* before STARTTLS, at most :data:`MAX_PLAIN` bytes are read in all, and whatever came
  after the reply to STARTTLS is thrown away (it was sent in the clear, so it could be
  anyone's: the STARTTLS command injection of CVE-2011-0411).

A reply that breaks a bound is a :class:`ReplyError`: the connection is closed, and the
message was not handed over.  :attr:`Session.handed_over` tells whether the message of
the current transaction has been written whole (the final ``.``) without its reply being
read: the server may then have kept it, and sending it again could deliver it twice.
"""

from __future__ import annotations

import re
import smtplib
import time
from typing import Any

#: The longest reply line read (smtplib's own limit).
MAX_LINE = 8192
#: The largest whole reply (EHLO's lists every extension: a few hundred bytes in practice).
MAX_REPLY = 64 * 1024
#: The most read from the server in the clear before STARTTLS: the greeting, EHLO's reply
#: and STARTTLS's.
MAX_PLAIN = 64 * 1024
#: RFC 5321 4.5.3.2.6: how long to wait for the reply to the end of DATA.
DATA_TIMEOUT = 600.0
_CHUNK = 4096
_LEADING_DOT = re.compile(rb"(?m)^\.")


class ReplyError(smtplib.SMTPServerDisconnected):
    """The server's reply broke a bound (too long, or too slow): the connection is closed."""


class _Bounded:
    """The part of :class:`Session` and :class:`SslSession` that reads replies.

    Mixed in before ``smtplib.SMTP``, whose ``getreply`` and ``data`` it replaces.
    """

    # Set before smtplib's __init__ connects and reads the greeting.
    _buffer = b""
    #: Bytes still allowed before TLS; None when there is no limit (TLS is up, or the
    #: connection never asks for it).
    _plain: int | None = None
    data_timeout = DATA_TIMEOUT
    handed_over = False
    # From smtplib.SMTP:
    sock: Any
    timeout: float

    def close(self) -> None:
        self._buffer = b""
        super().close()  # type: ignore[misc]

    def getreply(self) -> tuple[int, bytes]:
        """Read one reply: ``(code, text)``; smtplib calls this after every command."""
        return self._reply(self.timeout)

    def mail(self, sender: str, options: Any = ()) -> tuple[int, bytes]:
        self.handed_over = False  # a new transaction
        result: tuple[int, bytes] = super().mail(sender, options)  # type: ignore[misc]
        return result

    def data(self, msg: Any) -> tuple[int, bytes]:
        """smtplib's DATA, but for the wait after the final ``.``: the DATA timeout."""
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        data = msg.encode("ascii") if isinstance(msg, str) else bytes(msg)
        quoted = _LEADING_DOT.sub(b"..", data)
        if not quoted.endswith(b"\r\n"):
            quoted += b"\r\n"
        self.send(quoted + b".\r\n")  # type: ignore[attr-defined]
        self.handed_over = True
        code, reply = self._reply(max(self.data_timeout, self.timeout))
        self.handed_over = False
        return code, reply

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        result: tuple[int, bytes] = super().starttls(*args, **kwargs)  # type: ignore[misc]
        # Anything after the reply to STARTTLS came in the clear: never read it as TLS's.
        self._buffer = b""
        self._plain = None
        return result

    def _reply(self, seconds: float) -> tuple[int, bytes]:
        deadline = time.monotonic() + seconds
        lines: list[bytes] = []
        size = 0
        while True:
            line = self._line(deadline)
            size += len(line)
            if size > MAX_REPLY:
                self._fail(f"a reply longer than {MAX_REPLY} bytes")
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
                break
            if line[3:4] != b"-":
                break
        return code, b"\n".join(lines)

    def _line(self, deadline: float) -> bytes:
        while True:
            end = self._buffer.find(b"\n", 0, MAX_LINE)
            if end >= 0:
                line, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
                return line
            if len(self._buffer) >= MAX_LINE:
                self._fail(f"a reply line longer than {MAX_LINE} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail("no whole reply in time", timed_out=True)
            if self.sock is None:
                raise smtplib.SMTPServerDisconnected("please run connect() first")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(_CHUNK)
            except TimeoutError:
                self._fail("no whole reply in time", timed_out=True)
            except OSError as error:
                self.close()
                raise smtplib.SMTPServerDisconnected(
                    f"Connection unexpectedly closed: {error}"
                ) from error
            finally:
                if self.sock is not None:
                    self.sock.settimeout(self.timeout)
            if not chunk:
                self.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            if self._plain is not None:
                self._plain -= len(chunk)
                if self._plain < 0:
                    self._fail(f"more than {MAX_PLAIN} bytes before TLS")
            self._buffer += chunk

    def _fail(self, words: str, *, timed_out: bool = False) -> None:
        self.close()
        error = ReplyError(f"the server sent {words}")
        if timed_out:
            raise error from TimeoutError()
        raise error


class Session(_Bounded, smtplib.SMTP):
    """A plain SMTP connection (STARTTLS may follow), its reads bounded."""

    def __init__(
        self, host: str, port: int, *, timeout: float, data_timeout: float, starttls: bool
    ) -> None:
        self.data_timeout = data_timeout
        self._plain = MAX_PLAIN if starttls else None
        super().__init__(host, port, timeout=timeout)


class SslSession(_Bounded, smtplib.SMTP_SSL):
    """An SMTP connection in TLS from its first byte, its reads bounded."""

    def __init__(
        self, host: str, port: int, *, timeout: float, data_timeout: float, context: Any
    ) -> None:
        self.data_timeout = data_timeout
        super().__init__(host, port, timeout=timeout, context=context)
