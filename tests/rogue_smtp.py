"""An SMTP server on 127.0.0.1 that misbehaves in the ways aiosmtpd cannot: replies without
end, replies trickled a byte at a time, bytes slipped in before STARTTLS.

``with RogueServer(Dialogue) as server:`` listens on a port the kernel picks and runs a new
``Dialogue(connection, server)`` for each connection, in a thread of its own.
:class:`Dialogue` speaks just enough SMTP for ``smtplib`` (EHLO, STARTTLS, MAIL, RCPT,
DATA, RSET, QUIT); a test overrides the step that goes wrong.  The server records the
commands it read and the messages it took whole, and stops sending as soon as the client
goes away.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from types import TracebackType

HOST = "127.0.0.1"


class Gone(Exception):
    """The client closed the connection."""


class Dialogue:
    """One connection's SMTP, correct unless a subclass says otherwise."""

    #: The EHLO keywords offered (STARTTLS is added when the server has a TLS context).
    extensions: tuple[str, ...] = ("8BITMIME",)

    def __init__(self, connection: socket.socket, server: RogueServer) -> None:
        self.connection: socket.socket = connection
        self.server = server
        self.buffer = b""

    def send(self, data: bytes) -> None:
        try:
            self.connection.sendall(data)
        except OSError as error:
            raise Gone from error

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            try:
                chunk = self.connection.recv(65536)
            except OSError as error:
                raise Gone from error
            if not chunk:
                raise Gone
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def greet(self) -> None:
        self.send(b"220 rogue.example ESMTP\r\n")

    def ehlo(self) -> None:
        offered = [*self.extensions, *(["STARTTLS"] if self.server.tls else [])]
        lines = ["rogue.example", *offered]
        reply = "".join(f"250-{text}\r\n" for text in lines[:-1]) + f"250 {lines[-1]}\r\n"
        self.send(reply.encode())

    def starttls(self) -> None:
        assert self.server.tls is not None
        self.send(b"220 2.0.0 go ahead\r\n")
        self.buffer = b""
        self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)

    def data_end(self, message: bytes) -> None:
        """The whole message is in: keep it, then reply."""
        self.server.messages.append(message)
        self.send(b"250 2.0.0 kept\r\n")

    def run(self) -> None:
        self.greet()
        while True:
            command = self.line()
            self.server.commands.append(command.split(b" ")[0].strip().upper())
            verb = command[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.ehlo()
            elif command[:8].upper() == b"STARTTLS":
                self.starttls()
            elif verb == b"DATA":
                self.send(b"354 go on\r\n")
                lines = []
                while (line := self.line()) != b".\r\n":
                    lines.append(line[1:] if line.startswith(b".") else line)
                self.data_end(b"".join(lines))
            elif verb == b"QUIT":
                self.send(b"221 bye\r\n")
                return
            else:
                self.send(b"250 2.0.0 ok\r\n")


class RogueServer:
    """A listening socket and a thread per connection, each running *dialogue*."""

    def __init__(self, dialogue: type[Dialogue], *, tls: ssl.SSLContext | None = None) -> None:
        self.dialogue = dialogue
        self.tls = tls
        self.commands: list[bytes] = []
        self.messages: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._stop = threading.Event()

    def _accept(self) -> None:
        # A timeout, to look at the stop flag: closing a listener does not wake an accept().
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            self.connections += 1
            self._open.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        dialogue = self.dialogue(connection, self)
        try:
            dialogue.run()
        except (Gone, ssl.SSLError, OSError):
            pass
        finally:
            dialogue.connection.close()

    def __enter__(self) -> RogueServer:
        self._accepting.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._accepting.join(timeout=5)
        self._listener.close()
        for connection in self._open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        for thread in self._threads:
            thread.join(timeout=5)
