"""The SMTP and outbox backends against a real SMTP server on loopback (tests/smtp_server.py).

Time is fake wherever the backend would wait (backoff, rate limit), so every pause is a
recorded number, and only the timeout tests spend real time (a fraction of a second).
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from leaks import SMTP_PASSWORD
from smtp_server import SmtpServer, TlsPair, tls_contexts
from syndicate.delivery.backends import (
    DEFAULT_RATE,
    MAX_BACKOFF,
    Deferred,
    OutboxBackend,
    PermanentFailure,
    SmtpBackend,
    SmtpSettings,
    TransientFailure,
    backend,
    credentials,
    outbox_folder,
)
from syndicate.errors import ConfigError, DeliveryError

SENDER = "news@example.org"
USERNAME = "mailer"
PASSWORD = SMTP_PASSWORD


def reader(number: int) -> str:
    return f"reader{number}@example.net"


def message(number: int) -> bytes:
    return (
        f"From: News <{SENDER}>\r\nTo: <{reader(number)}>\r\nSubject: Issue {number}\r\n"
        f"Message-ID: <{number}.digest@example.org>\r\n\r\nHello, reader {number}.\r\n"
        ".leading dot survives the SMTP dot-stuffing\r\n"
    ).encode()


class FakeTime:
    """A clock that moves only when the backend sleeps, and the list of those sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="module")
def tls() -> TlsPair:
    return tls_contexts()


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def settings(server: SmtpServer, **changes: Any) -> SmtpSettings:
    plain = SmtpSettings(
        host=server.host,
        port=server.port,
        security="none",
        timeout=5.0,
        username=None,
        password=None,
        rate=None,
    )
    return replace(plain, **changes)


def smtp(server: SmtpServer, fake: FakeTime, **changes: Any) -> SmtpBackend:
    retries = changes.pop("retries", 5)
    return SmtpBackend(
        settings(server, **changes), sleep=fake.sleep, clock=fake.clock, retries=retries
    )


def send_all(backend: SmtpBackend, numbers: range) -> None:
    for number in numbers:
        backend.send(message(number), SENDER, reader(number), key=f"k{number}")


def delivered(server: SmtpServer) -> list[tuple[str, tuple[str, ...], bytes]]:
    return [(m.sender, m.recipients, m.data) for m in server.messages]


def expected(numbers: range) -> list[tuple[str, tuple[str, ...], bytes]]:
    return [(SENDER, (reader(n),), message(n)) for n in numbers]


# One connection, many messages


def test_a_hundred_messages_go_through_one_connection(server: SmtpServer, fake: FakeTime) -> None:
    with smtp(server, fake) as backend:
        send_all(backend, range(100))
    assert delivered(server) == expected(range(100))
    assert server.connections == 1
    assert server.ehlos == 1
    assert fake.sleeps == []


def test_without_a_rate_the_clock_is_never_read(server: SmtpServer) -> None:
    def clock() -> float:
        raise AssertionError("read the clock with no rate limit")

    def sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s with no rate limit")

    for rate in (None, 0.0):
        with SmtpBackend(settings(server, rate=rate), sleep=sleep, clock=clock) as backend:
            send_all(backend, range(3))
    assert len(server.messages) == 6


# Transient failures: 4xx, dropped connections, timeouts


def test_4xx_replies_to_the_session_are_retried_with_doubling_pauses(
    server: SmtpServer, fake: FakeTime
) -> None:
    server.fail_first(3, 451, at="MAIL")
    with smtp(server, fake) as backend:
        send_all(backend, range(5))
    assert delivered(server) == expected(range(5))
    assert fake.sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_a_4xx_to_the_recipient_or_the_message_is_deferred_at_once(
    server: SmtpServer, fake: FakeTime, at: str
) -> None:
    # "Not now" about this one message: the caller goes on with the others and comes back.
    server.fail_first(1, 452, at=at)
    with smtp(server, fake) as backend:
        with pytest.raises(Deferred, match=r"said not now: 452 4\.3\.0 Try again later"):
            send_all(backend, range(1))
        send_all(backend, range(1, 3))
    assert delivered(server) == expected(range(1, 3))
    assert fake.sleeps == []
    assert server.connections == 1


def test_a_421_is_retried_too(server: SmtpServer, fake: FakeTime) -> None:
    server.fail_first(1, 421)
    with smtp(server, fake) as backend:
        send_all(backend, range(2))
    assert delivered(server) == expected(range(2))
    assert fake.sleeps == [1.0]


def test_pauses_are_capped_and_the_retries_counted(server: SmtpServer, fake: FakeTime) -> None:
    server.fail_first(9, 450, at="MAIL")
    with smtp(server, fake, retries=8) as backend:
        with pytest.raises(TransientFailure) as failure:
            send_all(backend, range(1))
        assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF]
        assert "after 9 attempts: 450 4.3.0" in str(failure.value)
        assert "k0" in str(failure.value)
        # The next message finds the server well again.
        send_all(backend, range(1, 2))
    assert delivered(server) == expected(range(1, 2))


def test_a_dropped_connection_costs_a_reconnect_and_no_duplicate(
    server: SmtpServer, fake: FakeTime
) -> None:
    # The server hangs up right after its 250 for message 50 (index 49).  That message
    # was accepted: the client read the 250 before the connection went.  The hang-up is
    # seen when message 51 says MAIL FROM, and only message 51 is sent again.
    server.drop_after(50)
    with smtp(server, fake) as backend:
        send_all(backend, range(100))
    assert delivered(server) == expected(range(100))
    assert [m.connection for m in server.messages] == [1] * 50 + [2] * 50
    # A kept connection closed by the server is routine: reconnect at once, no pause.
    assert fake.sleeps == []


def test_a_server_that_stalls_past_the_timeout_is_retried(
    server: SmtpServer, fake: FakeTime
) -> None:
    server.stall(1.5, times=1)
    with smtp(server, fake, timeout=0.2) as backend:
        send_all(backend, range(3))
    assert delivered(server) == expected(range(3))
    assert fake.sleeps == [1.0]
    assert server.connections == 2


def test_a_server_that_keeps_stalling_is_a_transient_failure(
    server: SmtpServer, fake: FakeTime
) -> None:
    server.stall(1.5, times=3)
    with smtp(server, fake, timeout=0.2, retries=2) as backend:
        with pytest.raises(
            TransientFailure, match=r"k0 not accepted after 3 attempts: .*no whole reply in time"
        ):
            send_all(backend, range(1))
        assert fake.sleeps == [1.0, 2.0]
        send_all(backend, range(1, 3))
    assert delivered(server) == expected(range(1, 3))


def test_a_timeout_on_a_kept_connection_is_not_taken_for_a_hang_up(
    server: SmtpServer, fake: FakeTime
) -> None:
    with smtp(server, fake, timeout=0.2) as backend:
        send_all(backend, range(2))
        server.stall(1.5, times=1)
        send_all(backend, range(2, 3))
    assert delivered(server) == expected(range(3))
    assert fake.sleeps == [1.0]


def test_a_server_that_cannot_be_reached_stops_the_run(fake: FakeTime) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    plain = SmtpSettings("127.0.0.1", port, "none", 1.0, None, None, None)
    with (
        SmtpBackend(plain, sleep=fake.sleep, retries=2) as backend,
        pytest.raises(
            DeliveryError, match=r"cannot connect to 127\.0\.0\.1:\d+ after 3 attempts"
        ) as e,
    ):
        backend.send(message(0), SENDER, reader(0), key="k0")
    # Not a TransientFailure: no other recipient would fare better.
    assert type(e.value) is DeliveryError
    assert fake.sleeps == [1.0, 2.0]


# Permanent failures


def test_a_refused_recipient_fails_alone(server: SmtpServer, fake: FakeTime) -> None:
    server.refuse(reader(1), 550)
    with smtp(server, fake) as backend:
        backend.send(message(0), SENDER, reader(0), key="k0")
        with pytest.raises(PermanentFailure) as refused:
            backend.send(message(1), SENDER, reader(1), key="k1")
        backend.send(message(2), SENDER, reader(2), key="k2")
    assert refused.value.code == 550
    # The server's reply, with the address it names blotted out.
    assert str(refused.value).endswith("refused it: 550 5.1.1 <…@…>: no such mailbox")
    assert delivered(server) == expected(range(0, 3, 2))
    # Refused at once, on the same connection, which stays in use.
    assert fake.sleeps == []
    assert server.connections == 1


def test_a_5xx_to_the_message_is_permanent(server: SmtpServer, fake: FakeTime) -> None:
    server.fail_first(1, 554, at="DATA")
    with smtp(server, fake) as backend:
        with pytest.raises(PermanentFailure) as refused:
            send_all(backend, range(1))
        send_all(backend, range(1, 3))
    assert refused.value.code == 554
    assert delivered(server) == expected(range(1, 3))
    assert fake.sleeps == []
    assert server.connections == 1


# TLS and AUTH


def test_starttls_with_a_trusted_certificate(tls: TlsPair, fake: FakeTime) -> None:
    with SmtpServer(starttls_context=tls.server) as server:
        with smtp(server, fake, security="starttls", ssl_context=tls.client) as backend:
            send_all(backend, range(3))
        assert delivered(server) == expected(range(3))
        # EHLO, STARTTLS, EHLO again: one connection.
        assert (server.connections, server.ehlos) == (1, 2)


def test_implicit_tls_with_a_trusted_certificate(tls: TlsPair, fake: FakeTime) -> None:
    with SmtpServer(ssl_context=tls.server) as server:
        with smtp(server, fake, security="ssl", ssl_context=tls.client) as backend:
            send_all(backend, range(3))
        assert delivered(server) == expected(range(3))
        assert server.connections == 1


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_is_refused_at_once(
    tls: TlsPair, fake: FakeTime, security: str
) -> None:
    tls_server: dict[str, Any] = {
        "starttls_context" if security == "starttls" else "ssl_context": tls.server
    }
    with SmtpServer(**tls_server) as server:
        # The system's CAs, which do not include the test's throwaway CA.
        with (
            smtp(server, fake, security=security) as backend,
            pytest.raises(DeliveryError, match="certificate not trusted"),
        ):
            send_all(backend, range(1))
        assert server.messages == []
    assert fake.sleeps == []


def test_starttls_is_never_dropped_for_plain_text(server: SmtpServer, fake: FakeTime) -> None:
    with (
        smtp(server, fake, security="starttls") as backend,
        pytest.raises(DeliveryError, match="STARTTLS extension not supported"),
    ):
        send_all(backend, range(1))
    assert server.messages == []
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("mechanism", "security"),
    [("PLAIN", "starttls"), ("LOGIN", "starttls"), ("PLAIN", "ssl"), ("LOGIN", "ssl")],
)
def test_login_over_tls(tls: TlsPair, fake: FakeTime, mechanism: str, security: str) -> None:
    context: dict[str, Any] = {
        "starttls_context" if security == "starttls" else "ssl_context": tls.server
    }
    with SmtpServer(credentials=(USERNAME, PASSWORD), mechanisms=[mechanism], **context) as server:
        secure = {"security": security, "ssl_context": tls.client}
        with smtp(server, fake, username=USERNAME, password=PASSWORD, **secure) as backend:
            send_all(backend, range(3))
        assert delivered(server) == expected(range(3))
        assert server.mechanisms_used == [mechanism]


def test_the_server_requires_the_login(tls: TlsPair, fake: FakeTime) -> None:
    with (
        SmtpServer(starttls_context=tls.server, credentials=(USERNAME, PASSWORD)) as server,
        smtp(server, fake, security="starttls", ssl_context=tls.client) as backend,
        # 530 to MAIL FROM: the sender is refused, for every message alike.
        pytest.raises(DeliveryError, match=r"530 5\.7\.0 Authentication required"),
    ):
        send_all(backend, range(1))
    assert fake.sleeps == []


def test_a_wrong_password_stops_the_run_and_is_never_shown(
    tls: TlsPair, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="syndicate")
    secure = {"security": "starttls", "ssl_context": tls.client}
    with (
        SmtpServer(starttls_context=tls.server, credentials=(USERNAME, "other")) as server,
        smtp(server, fake, username=USERNAME, password=PASSWORD, **secure) as backend,
        pytest.raises(DeliveryError, match=r"535 5\.7\.8") as refused,
    ):
        send_all(backend, range(1))
    assert type(refused.value) is DeliveryError
    assert fake.sleeps == []
    assert_secret_absent(refused.value, PASSWORD)
    assert PASSWORD not in caplog.text


def test_login_over_plain_text_is_allowed_only_on_loopback(fake: FakeTime) -> None:
    with SmtpServer(credentials=(USERNAME, PASSWORD)) as server:
        with smtp(server, fake, username=USERNAME, password=PASSWORD) as backend:
            send_all(backend, range(1))
        assert len(server.messages) == 1
    for host in ("mail.example.org", "10.0.0.25", "2001:db8::25", "localhost.example.org"):
        plain = SmtpSettings(host, 25, "none", 5.0, USERNAME, PASSWORD, None)
        with pytest.raises(DeliveryError, match="refusing to send the SMTP password") as refused:
            SmtpBackend(plain)
        assert_secret_absent(refused.value, PASSWORD)
    for host in ("localhost", "127.0.0.2", "[::1]", "mail.localhost"):
        SmtpBackend(SmtpSettings(host, 25, "none", 5.0, USERNAME, PASSWORD, None)).close()


# Rate limit


def test_the_rate_limit_spaces_messages_evenly(server: SmtpServer, fake: FakeTime) -> None:
    sent_at: list[float] = []
    with smtp(server, fake, rate=5.0) as backend:
        for number in range(10):
            backend.send(message(number), SENDER, reader(number), key=f"k{number}")
            sent_at.append(fake.now)
    assert sum(fake.sleeps) == pytest.approx(1.8)
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert gaps == pytest.approx([0.2] * 9)
    assert len(server.messages) == 10


def test_a_quiet_spell_earns_no_burst(server: SmtpServer, fake: FakeTime) -> None:
    with smtp(server, fake, rate=DEFAULT_RATE) as backend:
        send_all(backend, range(1))
        fake.now += 60
        send_all(backend, range(1, 4))
    assert fake.sleeps == pytest.approx([0.1, 0.1])


# Settings and secrets


def test_settings_never_show_the_password() -> None:
    plain = SmtpSettings("mail.example.org", 587, "starttls", 10.0, USERNAME, PASSWORD, 10.0)
    assert PASSWORD not in repr(plain)
    assert PASSWORD not in str(plain)
    assert USERNAME in repr(plain)


def test_credentials_come_from_the_environment() -> None:
    environ = {"SYNDICATE_SMTP_USERNAME": USERNAME, "SYNDICATE_SMTP_PASSWORD": PASSWORD}
    assert credentials(environ) == (USERNAME, PASSWORD)
    assert credentials({}) == (None, None)
    with pytest.raises(ConfigError, match="set both") as half:
        credentials({"SYNDICATE_SMTP_PASSWORD": PASSWORD})
    assert_secret_absent(half.value, PASSWORD)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"security": "tls"}, "security 'tls' is not one of"),
        ({"rate": -1.0}, "rate must be"),
        ({"username": USERNAME}, "set both"),
        ({"username": USERNAME, "password": "pässwörd-secret"}, "must be ASCII"),
    ],
)
def test_unusable_settings_are_refused_before_connecting(
    changes: dict[str, Any], complaint: str
) -> None:
    plain = SmtpSettings("localhost", 25, "none", 5.0, None, None, None)
    with pytest.raises(DeliveryError, match=complaint) as refused:
        SmtpBackend(replace(plain, **changes))
    assert refused.value.__context__ is None
    assert_secret_absent(refused.value, "pässwörd-secret")


def assert_secret_absent(error: BaseException, secret: str) -> None:
    """Neither *error* nor anything chained to it shows *secret*."""
    seen: BaseException | None = error
    while seen is not None:
        assert secret not in str(seen)
        assert secret not in repr(seen)
        assert all(secret not in repr(arg) for arg in seen.args)
        seen = seen.__cause__ or seen.__context__


# Outbox


def test_the_outbox_writes_one_file_per_key(tmp_path: Path) -> None:
    folder = outbox_folder(tmp_path, "2026-01-01-0a1b2c3d4e")
    assert folder == tmp_path / "outbox" / "2026-01-01-0a1b2c3d4e"
    with OutboxBackend(folder) as outbox:
        for number in range(3):
            outbox.send(message(number), SENDER, reader(number), key=f"{number:032x}")
        outbox.send(message(9), SENDER, reader(1), key=f"{1:032x}")
    assert sorted(path.name for path in folder.iterdir()) == [f"{n:032x}.eml" for n in range(3)]
    assert (folder / f"{1:032x}.eml").read_bytes() == message(9)
    assert (folder / f"{2:032x}.eml").read_bytes() == message(2)


def test_the_outbox_keeps_the_old_file_when_a_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = OutboxBackend(tmp_path)
    outbox.send(message(1), SENDER, reader(1), key="k")

    def full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DeliveryError, match="No space left on device"):
        outbox.send(message(2), SENDER, reader(1), key="k")
    assert [path.name for path in tmp_path.iterdir()] == ["k.eml"]
    assert (tmp_path / "k.eml").read_bytes() == message(1)


@pytest.mark.parametrize("key", [reader(1), "../escape", "a/b", ".hidden", "", "x" * 201])
def test_the_outbox_refuses_keys_that_are_no_plain_file_name(tmp_path: Path, key: str) -> None:
    with pytest.raises(DeliveryError, match="cannot be a file name"):
        OutboxBackend(tmp_path).send(message(1), SENDER, reader(1), key=key)
    assert list(tmp_path.iterdir()) == []


def test_the_outbox_is_the_default_without_an_smtp_host(tmp_path: Path, server: SmtpServer) -> None:
    assert isinstance(backend(None, tmp_path), OutboxBackend)
    with closing(backend(settings(server), tmp_path)) as chosen:
        assert isinstance(chosen, SmtpBackend)
    with pytest.raises(DeliveryError, match="digest id"):
        outbox_folder(tmp_path, "../2026")
