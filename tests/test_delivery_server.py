"""Slow and hostile SMTP servers (issue 23, promises 8 and 10).

8. A server slower than ``timeout`` never makes syndicate send the same message twice in
   one run: the reply to the end of DATA is waited for as RFC 5321 4.5.3.2.6 says (ten
   minutes by default, ``[email.smtp] data_timeout``), apart from the command timeout;
   and a message handed over whose reply never comes is not sent again in that run.
10. Everything read from the server is bounded (reply lines, their length, a reply's time,
   all that comes before TLS): no server, and nobody on the path before STARTTLS, can make
   syndicate use unbounded memory or time.

Real parts: aiosmtpd on 127.0.0.1 for the slow replies; for what aiosmtpd cannot do, a
socket server that misbehaves (tests/rogue_smtp.py).  A run that could hang runs in a
process of its own, with a deadline and a memory limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import trustme

import mailing
from conftest import NOW, MakePublication, article
from rogue_smtp import Dialogue, RogueServer
from smtp_server import SmtpServer
from syndicate.delivery.session import MAX_PLAIN, MAX_REPLY
from syndicate.pipeline import publish

READERS = [f"reader{n}@example.org" for n in range(4)]


def newsletter(publication: MakePublication, port: int, smtp: str = 'security = "none"\n') -> Path:
    rows = [(address, "") for address in READERS]
    files = {"content/a.md": article(), "subscribers.csv": mailing.subscribers(rows)}
    return publication(files, mailing.config(port, smtp=smtp))


def with_timeouts(root: Path, timeout: float, data_timeout: float | None = None) -> None:
    config = root / "syndicate.toml"
    lines = f"timeout = {timeout}\n" + (
        f"data_timeout = {data_timeout}\n" if data_timeout is not None else ""
    )
    config.write_text(config.read_text().replace("timeout = 5\n", lines))


# --- 8. slow replies ----------------------------------------------------------------------


def test_a_reply_to_the_message_slower_than_the_timeout_is_waited_for(
    publication: MakePublication,
) -> None:
    """The server takes three times ``timeout`` to answer the end of DATA: the default
    data timeout (ten minutes) covers it, and nothing is sent twice."""
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        with_timeouts(root, 0.4)
        server.slow_data(1.2)
        pauses: list[float] = []
        _, delivery = publish(root, NOW, environ=mailing.ENV, sleep=pauses.append)
        assert mailing.received(server) == Counter(READERS)
        assert pauses == [] and server.connections == 1
        assert delivery.outcomes[0].complete


def test_a_message_whose_reply_never_comes_is_not_sent_again_in_that_run(
    publication: MakePublication,
) -> None:
    """Slower than the data timeout too: the server may have kept it (this one did), so
    this run leaves it for the next, which sends it again (RFC 1047's window)."""
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        with_timeouts(root, 0.3, data_timeout=0.6)
        server.slow_data(3, times=1)
        pauses: list[float] = []
        _, delivery = publish(root, NOW, environ=mailing.ENV, sleep=pauses.append)
        assert mailing.received(server) == Counter(READERS)  # once each, the first included
        [outcome] = delivery.outcomes
        assert (outcome.sent, outcome.pending, outcome.complete) == (3, 1, False)
        [error] = [d.format(relative_to=root) for d in delivery.diagnostics]
        assert error.startswith("subscribers.csv:2: error: 127.0.0.1:")
        assert "the message was handed over and no reply came" in error
        assert "it is not sent again in this run; the next run sends it again" in error
        _, again = publish(root, NOW, environ=mailing.ENV, sleep=pauses.append)
        assert again.outcomes[0].complete and again.outcomes[0].sent == 1
        assert mailing.received(server)[READERS[0]] == 2 and pauses == []


# --- 10. bounded reads --------------------------------------------------------------------

#: Runs one publish in a process of its own (no pauses between retries), under a memory
#: limit, and prints how it ended as JSON.
PUBLISH = """
import json, resource, sys
from datetime import datetime, timezone
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from syndicate.errors import SyndicateError
from syndicate.pipeline import publish
try:
    _, delivery = publish(Path(sys.argv[1]), datetime(2026, 1, 1, tzinfo=timezone.utc),
                          environ={"SYNDICATE_SECRET": "s"}, sleep=lambda seconds: None)
    print(json.dumps({"error": None, "sent": [o.sent for o in delivery.outcomes],
                      "said": [str(d) for d in delivery.diagnostics]}))
except SyndicateError as error:
    print(json.dumps({"error": str(error)}))
"""


def publish_apart(root: Path, seconds: float = 60, **env: str) -> tuple[dict[str, object], float]:
    """Publish *root* in a process of its own; what it printed, and how long it took."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH, str(root)],
        capture_output=True,
        text=True,
        timeout=seconds,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), time.monotonic() - started


class EndlessReply(Dialogue):
    """Answers EHLO with "250-" lines for ever."""

    def ehlo(self) -> None:
        while True:
            self.send(b"250-" + b"x" * 60 + b"\r\n")


def test_a_reply_without_end_is_cut_off(publication: MakePublication) -> None:
    with RogueServer(EndlessReply) as server:
        root = newsletter(publication, server.port)
        ended, _ = publish_apart(root)
    assert ended["error"] == (
        f"cannot connect to 127.0.0.1:{server.port} after 6 attempts: the server sent a reply "
        f"longer than {MAX_REPLY} bytes"
    )
    assert server.messages == []


class Trickle(Dialogue):
    """A greeting of one byte at a time, each just inside the command timeout."""

    def greet(self) -> None:
        for byte in b"220 " + b"x" * 2000 + b"\r\n":
            self.send(bytes([byte]))
            time.sleep(0.1)


def test_a_reply_trickled_byte_by_byte_must_come_whole_within_the_timeout(
    publication: MakePublication,
) -> None:
    with RogueServer(Trickle) as server:
        root = newsletter(publication, server.port)
        with_timeouts(root, 0.3)
        ended, seconds = publish_apart(root)
    assert ended["error"] == (
        f"cannot connect to 127.0.0.1:{server.port} after 6 attempts: the server sent no "
        "whole reply in time"
    )
    assert seconds < 30  # six attempts, each cut at its 0.3 s; untimed, 200 s each


class Chatty(Dialogue):
    """A greeting and an EHLO reply each within the bound on a reply, together past the
    bound on what may come before TLS."""

    def greet(self) -> None:
        self.send(b"220-rogue\r\n" * (MAX_PLAIN // 2 // 11) + b"220 rogue\r\n")

    def ehlo(self) -> None:
        self.send(b"250-rogue\r\n" * (MAX_PLAIN // 2 // 11) + b"250 STARTTLS\r\n")


def test_what_comes_before_tls_is_bounded_in_all(publication: MakePublication) -> None:
    with RogueServer(Chatty) as server:
        root = newsletter(publication, server.port, smtp='security = "starttls"\n')
        ended, _ = publish_apart(root)
    assert ended["error"] == (
        f"cannot connect to 127.0.0.1:{server.port} after 6 attempts: the server sent more "
        f"than {MAX_PLAIN} bytes before TLS"
    )
    assert b"STARTTLS" not in server.commands


class Injecting(Dialogue):
    """Slips a reply of its own in after the reply to STARTTLS, in the clear: the client
    must read nothing sent before TLS as if it came through TLS."""

    def starttls(self) -> None:
        assert self.server.tls is not None
        self.send(b"220 2.0.0 go ahead\r\n250 injected, with no AUTH and no SIZE\r\n")
        self.buffer = b""
        self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)


def test_nothing_sent_in_the_clear_after_starttls_is_read_as_a_reply(
    publication: MakePublication, tmp_path: Path
) -> None:
    ca = trustme.CA()
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with RogueServer(Injecting, tls=context) as server:
        root = newsletter(publication, server.port, smtp='security = "starttls"\n')
        ended, _ = publish_apart(root, SSL_CERT_FILE=str(tmp_path / "ca.pem"))
    # Read as the reply to EHLO, the injected line would have made every reply after it
    # the one before, and DATA's 354 a reply to RCPT: no message would have gone.
    assert ended == {"error": None, "sent": [4], "said": []}
    assert len(server.messages) == 4
