"""The service's emails: queued with the change that calls for them, sent once, through the
newsletter's transport, message builder and DKIM signing, to a real SMTP server.

The outbox worker is driven here one batch at a time (``Mailer.run_once``) with a clock the
test moves; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import NOW, MakePublication
from leaks import SECRET
from service_support import list_config
from smtp_server import SmtpServer
from syndicate.config import load_config
from syndicate.delivery.subscribers import token
from syndicate.subscribers import listing, outbox, store
from syndicate.subscribers.database import connect
from syndicate.subscribers.mailer import Mailer, Transport
from syndicate.subscribers.store import Origin, Rules

RULES = Rules(list_name="Test Times (https://news.example.org/)", goodbye=True)
FORM = Origin("https://news.example.org/", None)
KEY = SECRET.encode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_list(root: Path, database: str, clock: Clock, **environ: str) -> tuple[sa.Engine, Mailer]:
    env = {"SYNDICATE_DATABASE_URL": database, "SYNDICATE_SECRET": SECRET, **environ}
    config = load_config(root)
    engine = connect(config, env)
    return engine, Mailer(engine, Transport.from_config(config, env), clock=clock, poll=0)


@pytest.fixture
def queue(
    publication: MakePublication, database: str, smtp: SmtpServer, clock: Clock
) -> Iterator[tuple[sa.Engine, Mailer]]:
    root = publication({}, list_config(smtp_port=smtp.port))
    engine, mailer = open_list(root, database, clock)
    yield engine, mailer
    engine.dispose()


def sign_up(engine: sa.Engine, email: str, clock: Clock) -> None:
    store.subscribe(engine, email, "", rules=RULES, origin=FORM, now=clock.now)


def one_confirmation(root: Path, database: str, clock: Clock, **environ: str) -> None:
    """Ana signs up to the list of the publication at *root*, and the queue runs once."""
    engine, mailer = open_list(root, database, clock, **environ)
    try:
        sign_up(engine, "ana@example.org", clock)
        mailer.run_once()
    finally:
        engine.dispose()


def recipients(smtp: SmtpServer) -> list[str]:
    return [r for message in smtp.messages for r in message.recipients]


def test_a_signed_up_address_gets_one_confirmation_however_often_the_queue_runs(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    sign_up(engine, "ana@example.org", clock)
    sign_up(engine, "bob@example.org", clock)

    assert mailer.run_once() is True
    assert mailer.run_once() is False

    assert sorted(recipients(smtp)) == ["ana@example.org", "bob@example.org"]
    assert listing.stats(engine).outbox["sent"] == 2


def test_a_temporary_refusal_is_tried_again_later_and_the_email_goes_once(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    smtp.fail_first(1, 451)
    sign_up(engine, "ana@example.org", clock)

    mailer.run_once()
    assert recipients(smtp) == []
    assert listing.stats(engine).outbox["queued"] == 1
    assert mailer.run_once() is False  # not due yet: the pause after a failure

    clock.now += outbox.FIRST_PAUSE
    assert mailer.run_once() is True
    assert recipients(smtp) == ["ana@example.org"]
    assert listing.stats(engine).outbox["sent"] == 1


def test_a_refusal_for_good_fails_that_email_and_the_others_still_go(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    smtp.refuse("gone@example.org", 550)
    sign_up(engine, "gone@example.org", clock)
    sign_up(engine, "here@example.org", clock)

    mailer.run_once()
    clock.now += timedelta(days=1)
    mailer.run_once()

    assert recipients(smtp) == ["here@example.org"]
    counts = listing.stats(engine).outbox
    assert (counts["failed"], counts["sent"]) == (1, 1)


def test_a_message_the_server_kept_without_answering_in_time_is_never_sent_again(
    publication: MakePublication, database: str, smtp: SmtpServer, clock: Clock
) -> None:
    config = list_config(smtp_port=smtp.port).replace(
        "timeout = 5\n", "timeout = 1\ndata_timeout = 1\n"
    )
    engine, mailer = open_list(publication({}, config), database, clock)
    try:
        smtp.slow_data(2.5)  # kept at once, the 250 only after the client gave up
        sign_up(engine, "ana@example.org", clock)
        mailer.run_once()
        clock.now += timedelta(days=1)
        mailer.run_once()
        counts = listing.stats(engine).outbox
    finally:
        engine.dispose()

    assert recipients(smtp) == ["ana@example.org"]
    assert (counts["uncertain"], counts["queued"], counts["sent"]) == (1, 0, 0)


def test_a_worker_that_died_leaves_what_it_claimed_to_others_and_never_resends(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    for name in ("one", "two", "three"):
        sign_up(engine, f"{name}@example.org", clock)
    host = mailer.worker.split(":")[0]
    dead = f"{host}:999999999:0000"  # no such process on this machine
    held = outbox.claim(engine, dead, clock.now)
    assert outbox.start_sending(engine, held[0], dead, clock.now, timedelta(minutes=5))

    mailer.run_once()

    assert sorted(recipients(smtp)) == ["three@example.org", "two@example.org"]
    counts = listing.stats(engine).outbox
    assert (counts["uncertain"], counts["sent"]) == (1, 2)


def test_a_worker_elsewhere_keeps_its_rows_until_its_lease_runs_out(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    sign_up(engine, "ana@example.org", clock)
    outbox.claim(engine, "another-machine:1:abcd", clock.now)

    mailer.run_once()
    assert recipients(smtp) == []

    clock.now += outbox.CLAIM_LEASE + timedelta(seconds=1)
    mailer.recover()
    mailer.run_once()
    assert recipients(smtp) == ["ana@example.org"]


def test_a_slow_worker_whose_claim_was_taken_back_does_not_send_it(
    queue: tuple[sa.Engine, Mailer], smtp: SmtpServer, clock: Clock
) -> None:
    engine, mailer = queue
    sign_up(engine, "ana@example.org", clock)
    (slow,) = outbox.claim(engine, "another-machine:1:abcd", clock.now)
    clock.now += outbox.CLAIM_LEASE + timedelta(seconds=1)
    mailer.recover()
    mailer.run_once()

    assert not outbox.start_sending(engine, slow, "another-machine:1:abcd", clock.now, timedelta(1))
    assert recipients(smtp) == ["ana@example.org"]


def test_a_goodbye_goes_to_a_reader_who_leaves_only_when_configured(
    publication: MakePublication, database: str, smtp: SmtpServer, clock: Clock
) -> None:
    root = publication({}, list_config(smtp_port=smtp.port, subscribers="goodbye = true\n"))
    engine, mailer = open_list(root, database, clock)
    try:
        store.add(engine, "ana@example.org", "Ana", rules=RULES, origin=FORM, now=clock.now)
        for _ in range(2):
            store.unsubscribe(
                engine, token(KEY, "ana@example.org"), secret=KEY, rules=RULES, origin=FORM,
                now=clock.now,
            )  # fmt: skip
        silent = Rules(list_name=RULES.list_name, goodbye=False)
        store.add(engine, "bob@example.org", "", rules=silent, origin=FORM, now=clock.now)
        store.unsubscribe(
            engine, token(KEY, "bob@example.org"), secret=KEY, rules=silent, origin=FORM,
            now=clock.now,
        )  # fmt: skip
        mailer.run_once()
    finally:
        engine.dispose()

    assert recipients(smtp) == ["ana@example.org"]
    message = message_from_bytes(smtp.messages[0].data, policy=policy.default)
    assert message["Subject"] == "You have left Test Times"


def test_the_service_signs_with_the_newsletters_dkim_key(
    publication: MakePublication, database: str, smtp: SmtpServer, clock: Clock
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    dkim_table = '\n[email.dkim]\ndomain = "example.org"\nselector = "news"\n'
    root = publication({}, list_config(smtp_port=smtp.port, email="") + dkim_table)
    one_confirmation(root, database, clock, SYNDICATE_DKIM_KEY=private.decode())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"news._domainkey.example.org." else None

    (received,) = smtp.messages
    assert received.data.startswith(b"DKIM-Signature:")
    assert dkim.verify(received.data, dnsfunc=lookup)


def test_without_a_mail_server_the_emails_land_in_the_outbox_folder(
    publication: MakePublication, database: str, clock: Clock
) -> None:
    root = publication({}, list_config())
    one_confirmation(root, database, clock)

    (written,) = (root / "outbox" / "subscribers").glob("*.eml")
    assert written.name == "confirm-1.eml"  # named by the queue, never by the address
    assert b"To: ana@example.org" in written.read_bytes()


def test_the_emails_carry_the_newsletters_unsubscribe_link_and_an_explicit_one_wins(
    publication: MakePublication, database: str, smtp: SmtpServer, clock: Clock
) -> None:
    """By default the link is the service's own page for the reader's token; a publication
    whose ``[email] unsubscribe_url`` names another endpoint gets that one everywhere."""
    own = f"https://lists.example.org/unsubscribe/{token(KEY, 'ana@example.org')}"
    elsewhere = "https://news.example.org/leave/{token}"
    for configured, expected in (("", own), (f'unsubscribe_url = "{elsewhere}"\n', elsewhere)):
        smtp.messages.clear()
        root = publication({}, list_config(smtp_port=smtp.port, email=configured))
        one_confirmation(root, database, clock)
        message = message_from_bytes(smtp.messages[0].data, policy=policy.default)
        link = expected.format(token=token(KEY, "ana@example.org"))
        assert message["List-Unsubscribe"].startswith(f"<{link}>")
        clock.now += timedelta(hours=1)  # past the limit per address, for the second round
