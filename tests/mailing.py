"""A publication with a newsletter, for the delivery tests: its config, its subscriber
list, and what its readers received from the test's SMTP server (tests/smtp_server.py)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

from conftest import SITE
from leaks import SECRET
from smtp_server import SmtpServer

ENV = {"SYNDICATE_SECRET": SECRET}
UNSUBSCRIBE_URL = "https://news.example.org/unsubscribe?email={email}&token={token}"


def config(
    port: int,
    *,
    smtp: str = 'security = "none"\n',
    email: str = "",
    unsubscribe_url: str = UNSUBSCRIBE_URL,
) -> str:
    """``syndicate.toml`` for a newsletter sent to the server on *port*, no rate limit,
    a 5-second timeout; *email* and *smtp* add lines to their tables.  The build makes
    feeds and the digest's page, no article pages and no cards: they are not what these
    tests are about, and they would take most of each run."""
    return (
        SITE
        + "pages = false\n\n[social]\nplatforms = []\n"
        + (
            '\n[email]\nfrom = "Test Times <news@example.org>"\n'
            f'unsubscribe_url = "{unsubscribe_url}"\n'
            'subscribers = "subscribers.csv"\nrate = 0\n'
            + email
            + f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
            + smtp
            + "timeout = 5\n"
        )
    )


def subscribers(rows: Iterable[tuple[str, str]]) -> str:
    """A subscriber list of *rows* (address, name), all subscribed; its line 1 is the
    header, so row n is on line n + 1."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["email", "name", "status"])
    writer.writerows([address, name, "subscribed"] for address, name in rows)
    return text.getvalue()


def killed_half_way(root: Path, server: SmtpServer, readers: int) -> int:
    """Start ``syndicate publish`` in a process of its own and SIGKILL it, past half of the
    *readers*, while the server holds a message it has not accepted; how many it accepted."""
    command = [sys.executable, "-m", "syndicate", "-C", str(root), "publish"]
    env = {**os.environ, **ENV}
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) as process:
        deadline = time.monotonic() + 60
        while len(server.messages) < readers // 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        server.stall(10, times=1)  # the next recipient waits at RCPT
        stalled = -1
        while stalled != len(server.messages):  # until the sender hangs in the stall
            stalled = len(server.messages)
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    server.faults.stall_left = 0
    return len(server.messages)


def no_wait(seconds: float) -> None:
    """Retries and backoff happen, without the test waiting for them."""


def received(server: SmtpServer) -> Counter[str]:
    """How many messages each recipient got."""
    return Counter(r for message in server.messages for r in message.recipients)


def parsed(data: bytes) -> EmailMessage:
    """*data* as a reader's mail program reads it: UTF-8 headers (RFC 6532) included."""
    return message_from_string(data.decode("utf-8"), policy=policy.default)  # type: ignore[return-value]


def parts(message: EmailMessage) -> tuple[str, str]:
    """The decoded text and HTML parts of *message*."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()
