"""The list's store: double opt-in, leaving, the operator's commands, import and export.

Every test runs twice, on a SQLite file and on a real PostgreSQL database
(service_support.database).  Time enters as ``now=``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import NOW, MakePublication
from leaks import SECRET
from service_support import list_config
from syndicate.config import load_config
from syndicate.delivery.subscribers import token
from syndicate.subscribers import listing, outbox, store, tokens
from syndicate.subscribers.database import HEAD, connect, upgrade
from syndicate.subscribers.store import Adding, Confirmation, Leaving, Origin, Rules, Signup

RULES = Rules(
    list_name="Test Times (https://news.example.org/)",
    confirm_for=timedelta(hours=48),
    resend_after=timedelta(minutes=15),
)
FORM = Origin("https://news.example.org/posts/hello/", "203.0.113.9")
#: SYNDICATE_SECRET, which keys the unsubscribe tokens.
KEY = SECRET.encode()


def leave(engine: sa.Engine, email: str, *, key: bytes = KEY, minutes: float = 0) -> Leaving:
    """The reader of *email* follows the unsubscribe link of an email: the token every
    email carries, ``token(SYNDICATE_SECRET, address)``."""
    later = NOW + timedelta(minutes=minutes)
    return store.unsubscribe(
        engine, token(key, email), secret=KEY, rules=RULES, origin=FORM, now=later
    )


@pytest.fixture
def engine(publication: MakePublication, database: str) -> Iterator[sa.Engine]:
    root = publication({}, list_config())
    made = connect(load_config(root), {"SYNDICATE_DATABASE_URL": database})
    yield made
    made.dispose()


def sign_up(engine: sa.Engine, email: str, *, name: str = "", minutes: float = 0) -> Signup:
    outcome, _ = store.subscribe(
        engine, email, name, rules=RULES, origin=FORM, now=NOW + timedelta(minutes=minutes)
    )
    return outcome


def confirmation_token(engine: sa.Engine, email: str) -> str:
    """The token of the newest confirmation email queued for *email* (what the reader gets)."""
    jobs = outbox.claim(engine, "test:1:x", NOW + timedelta(days=1), limit=1000)
    for job in jobs:
        outbox.release(engine, job)
    tokens = [job.secret for job in jobs if job.email == email and job.kind == "confirm"]
    assert tokens, "no confirmation queued"
    return tokens[-1]


def statuses(engine: sa.Engine) -> dict[str, str]:
    return {row[0]: row[2] for row in listing.export(engine)}


def recipients(engine: sa.Engine) -> list[str]:
    return [reader.email for reader in listing.recipients(engine)]


def test_a_new_address_is_pending_and_receives_nothing_until_confirmed(engine: sa.Engine) -> None:
    assert sign_up(engine, "ana@example.org", name="Ana") is Signup.QUEUED
    assert statuses(engine) == {"ana@example.org": "pending"}
    assert recipients(engine) == []

    token = confirmation_token(engine, "ana@example.org")
    confirmed = store.confirm(engine, token, rules=RULES, origin=FORM, now=NOW)

    assert confirmed is Confirmation.CONFIRMED
    assert [(r.email, r.name) for r in listing.recipients(engine)] == [("ana@example.org", "Ana")]


def test_signing_up_again_queues_no_second_email_too_soon_and_none_once_subscribed(
    engine: sa.Engine,
) -> None:
    assert sign_up(engine, "ana@example.org") is Signup.QUEUED
    assert sign_up(engine, "ANA@example.org", minutes=5) is Signup.THROTTLED
    assert sign_up(engine, "ana@example.org", minutes=20) is Signup.QUEUED
    assert listing.stats(engine).outbox["queued"] == 1  # the older email is cancelled
    assert listing.stats(engine).outbox["cancelled"] == 1

    token = confirmation_token(engine, "ana@example.org")
    store.confirm(engine, token, rules=RULES, origin=FORM, now=NOW + timedelta(minutes=21))

    assert sign_up(engine, "ana@example.org", minutes=60) is Signup.ALREADY
    assert statuses(engine) == {"ana@example.org": "subscribed"}


def test_the_confirmation_link_expires(engine: sa.Engine) -> None:
    sign_up(engine, "ana@example.org")
    token = confirmation_token(engine, "ana@example.org")
    late = NOW + RULES.confirm_for + timedelta(seconds=1)

    assert store.confirm(engine, token, rules=RULES, origin=FORM, now=late) is Confirmation.EXPIRED
    assert recipients(engine) == []


def test_only_the_newest_link_confirms_and_confirming_twice_is_harmless(
    engine: sa.Engine,
) -> None:
    sign_up(engine, "ana@example.org")
    first = confirmation_token(engine, "ana@example.org")
    sign_up(engine, "ana@example.org", minutes=30)
    newest = confirmation_token(engine, "ana@example.org")
    later = NOW + timedelta(minutes=31)

    assert store.confirm(engine, first, rules=RULES, origin=FORM, now=later) is Confirmation.UNKNOWN
    assert store.confirm(engine, newest, rules=RULES, origin=FORM, now=later) is (
        Confirmation.CONFIRMED
    )
    assert store.confirm(engine, newest, rules=RULES, origin=FORM, now=later) is (
        Confirmation.ALREADY
    )
    assert store.confirm(engine, "x" * 32, rules=RULES, origin=FORM, now=later) is (
        Confirmation.UNKNOWN
    )


def subscribed(engine: sa.Engine, email: str) -> listing.Recipient:
    sign_up(engine, email)
    store.confirm(engine, confirmation_token(engine, email), rules=RULES, origin=FORM, now=NOW)
    return next(r for r in listing.recipients(engine) if r.email == email)


def test_leaving_by_token_is_idempotent_and_coming_back_needs_a_new_confirmation(
    engine: sa.Engine,
) -> None:
    subscribed(engine, "ana@example.org")

    assert leave(engine, "ana@example.org", minutes=60) is Leaving.UNSUBSCRIBED
    assert leave(engine, "ana@example.org", minutes=60) is Leaving.ALREADY
    assert recipients(engine) == []

    assert sign_up(engine, "ana@example.org", minutes=120) is Signup.QUEUED
    assert statuses(engine) == {"ana@example.org": "pending"}
    assert recipients(engine) == []
    assert store.unsubscribe(engine, "0" * 32, secret=KEY, rules=RULES, origin=FORM, now=NOW) is (
        Leaving.UNKNOWN
    )


def test_the_token_that_leaves_is_the_newsletters_own_and_no_other(engine: sa.Engine) -> None:
    """The newsletter's links carry ``token(SYNDICATE_SECRET, address)``: the service finds
    the reader by it, including readers added after it started (an import, a command),
    and a token made with another secret finds nobody."""
    cli = Origin("command line")
    store.add(engine, "ana@example.org", "", rules=RULES, origin=cli, now=NOW)
    assert tokens.key_tokens(engine, KEY) == 1  # as the service does when it starts
    store.add(engine, "bob@example.org", "", rules=RULES, origin=cli, now=NOW)

    assert leave(engine, "ana@example.org", key=b"another secret") is Leaving.UNKNOWN
    assert leave(engine, "bob@example.org") is Leaving.UNSUBSCRIBED  # keyed as it is asked for
    assert leave(engine, "ana@example.org") is Leaving.UNSUBSCRIBED
    assert recipients(engine) == []


def test_a_new_secret_makes_every_token_again(engine: sa.Engine) -> None:
    cli = Origin("command line")
    for email in ("ana@example.org", "bob@example.org"):
        store.add(engine, email, "", rules=RULES, origin=cli, now=NOW)
    assert tokens.key_tokens(engine, KEY) == 2
    assert tokens.key_tokens(engine, KEY) == 0  # nothing to do: the same key made them

    assert tokens.key_tokens(engine, b"a new secret") == 2

    old = store.unsubscribe(
        engine, token(KEY, "ana@example.org"), secret=b"a new secret", rules=RULES,
        origin=FORM, now=NOW,
    )  # fmt: skip
    new = store.unsubscribe(
        engine, token(b"a new secret", "ana@example.org"), secret=b"a new secret",
        rules=RULES, origin=FORM, now=NOW,
    )  # fmt: skip
    assert (old, new) == (Leaving.UNKNOWN, Leaving.UNSUBSCRIBED)


def test_an_old_confirmation_link_cannot_bring_back_a_reader_who_left(engine: sa.Engine) -> None:
    sign_up(engine, "ana@example.org")
    link = confirmation_token(engine, "ana@example.org")
    store.confirm(engine, link, rules=RULES, origin=FORM, now=NOW)
    leave(engine, "ana@example.org")

    assert store.confirm(engine, link, rules=RULES, origin=FORM, now=NOW) is Confirmation.UNKNOWN
    assert recipients(engine) == []


def test_an_unknown_address_that_unsubscribes_is_kept_out_of_later_imports(
    engine: sa.Engine, tmp_path: Path
) -> None:
    left = store.unsubscribe_address(engine, "ana@example.org", rules=RULES, origin=FORM, now=NOW)
    csv = "email,name,status\nana@example.org,Ana,subscribed\nbob@example.org,Bob,subscribed\n"

    report = listing.import_csv(engine, tmp_path / "old.csv", csv, now=NOW)

    assert left is Leaving.UNSUBSCRIBED
    assert (report.added, report.kept_out) == (1, 1)
    assert recipients(engine) == ["bob@example.org"]
    assert [d.format() for d in report.diagnostics] == [
        f"{tmp_path / 'old.csv'}:2: warning: email: unsubscribed on the list; not subscribed "
        "again (an opt-out wins over an import)"
    ]


def test_the_proof_of_consent_says_when_from_where_and_to_what(engine: sa.Engine) -> None:
    sign_up(engine, "ana@example.org")
    token = confirmation_token(engine, "ana@example.org")
    store.confirm(
        engine, token, rules=RULES, origin=Origin("the confirmation page", "198.51.100.4"),
        now=NOW + timedelta(hours=2),
    )  # fmt: skip

    events = listing.proof(engine, "Ana@Example.org")

    assert events is not None
    assert [(e.event, e.at, e.source, e.ip) for e in events] == [
        ("requested", NOW, "https://news.example.org/posts/hello/", "203.0.113.9"),
        ("confirmed", NOW + timedelta(hours=2), "the confirmation page", "198.51.100.4"),
    ]
    assert "Test Times (https://news.example.org/)" in events[0].detail
    assert f"valid until {(NOW + timedelta(hours=48)).isoformat()}" in events[0].detail
    assert f"emailed at {NOW.isoformat()}" in events[1].detail


def test_forget_erases_the_address_its_proof_and_its_queued_email(engine: sa.Engine) -> None:
    sign_up(engine, "ana@example.org")
    sign_up(engine, "bob@example.org")

    assert store.forget(engine, "ANA@example.org") is True
    assert store.forget(engine, "ana@example.org") is False

    assert listing.proof(engine, "ana@example.org") is None
    assert statuses(engine) == {"bob@example.org": "pending"}
    assert listing.stats(engine).outbox["queued"] == 1
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT count(*) FROM consent")).scalar()
    assert kept == 1  # Bob's


def test_a_bounced_reader_receives_no_more_and_the_operator_cannot_add_them_back(
    engine: sa.Engine,
) -> None:
    reader = subscribed(engine, "ana@example.org")

    assert store.mark_bounced(
        engine, reader.id, reason="550 5.1.1 no such user", rules=RULES, now=NOW
    )
    assert not store.mark_bounced(engine, reader.id, reason="550", rules=RULES, now=NOW)
    assert recipients(engine) == []
    added = store.add(engine, "ana@example.org", "", rules=RULES, origin=Origin("cli"), now=NOW)
    assert added is Adding.REFUSED
    assert recipients(engine) == []


def test_the_operator_adds_and_removes_on_their_word(engine: sa.Engine) -> None:
    cli = Origin("command line")
    assert store.add(engine, "ana@example.org", "Ana", rules=RULES, origin=cli, now=NOW) is (
        Adding.ADDED
    )
    assert store.add(engine, "ana@example.org", "Ana", rules=RULES, origin=cli, now=NOW) is (
        Adding.ALREADY
    )
    assert recipients(engine) == ["ana@example.org"]
    removed = store.unsubscribe_address(
        engine, "ana@example.org", rules=RULES, origin=cli, now=NOW, by_reader=False
    )
    assert removed is Leaving.UNSUBSCRIBED
    events = listing.proof(engine, "ana@example.org")
    assert events is not None
    assert [e.event for e in events] == ["added", "removed"]
    assert "vouches" in events[0].detail


def test_recipients_stream_in_pages_in_the_order_readers_joined(engine: sa.Engine) -> None:
    cli = Origin("command line")
    for n in range(10):
        store.add(engine, f"reader{n}@example.org", "", rules=RULES, origin=cli, now=NOW)
        sign_up(engine, f"pending{n}@example.org")

    streamed = [r.email for r in listing.recipients(engine, batch=3)]

    assert streamed == [f"reader{n}@example.org" for n in range(10)]
    ids = [r.id for r in listing.recipients(engine, batch=3)]
    assert ids == sorted(ids) and len(set(ids)) == 10
    assert listing.count_recipients(engine) == 10


def test_import_merges_a_csv_and_reports_bad_rows_without_their_address(
    engine: sa.Engine, tmp_path: Path
) -> None:
    subscribed(engine, "kept@example.org")
    csv = (
        "email,name,status\n"
        "ana@example.org,Ana,subscribed\n"
        "bob@example.org,Bob,unsubscribed\n"
        "not-an-address@,X,subscribed\n"
        "cy@example.org,Cy,maybe\n"
        "kept@example.org,Kept,bounced\n"
        "ANA@example.org,Ana B,subscribed\n"
    )

    report = listing.import_csv(engine, tmp_path / "list.csv", csv, now=NOW, batch=2)

    assert (report.added, report.updated, report.unchanged, report.invalid) == (2, 2, 0, 2)
    assert statuses(engine) == {
        "kept@example.org": "bounced",
        "ana@example.org": "subscribed",
        "bob@example.org": "unsubscribed",
    }
    assert [(r.email, r.name) for r in listing.recipients(engine)] == [("ana@example.org", "Ana B")]
    lines = [d.format() for d in report.diagnostics]
    assert [line.split(": ")[0] for line in lines] == [
        f"{tmp_path / 'list.csv'}:4",
        f"{tmp_path / 'list.csv'}:5",
    ]
    assert not any("not-an-address" in line or "cy@" in line for line in lines)


def test_an_export_imports_into_another_list_unchanged(
    engine: sa.Engine, publication: MakePublication, tmp_path: Path
) -> None:
    cli = Origin("command line")
    for n in range(5):
        store.add(engine, f"reader{n}@example.org", f"Reader {n}", rules=RULES, origin=cli, now=NOW)
    store.unsubscribe_address(engine, "gone@example.org", rules=RULES, origin=cli, now=NOW)
    rows = list(listing.export(engine))
    text = "\n".join(",".join(row) for row in [listing.COLUMNS, *rows]) + "\n"
    other = connect(
        load_config(publication({}, list_config())),
        {"SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"},
    )
    try:
        report = listing.import_csv(other, tmp_path / "export.csv", text, now=NOW)
        assert report.added == 6 and not report.diagnostics
        assert [row[:3] for row in listing.export(other)] == [row[:3] for row in rows]
    finally:
        other.dispose()


def test_one_address_signed_up_from_many_threads_at_once_is_one_row_and_one_email(
    engine: sa.Engine,
) -> None:
    outcomes: list[Signup] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        outcomes.append(sign_up(engine, "ana@example.org"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.value for o in outcomes) == ["queued"] + ["throttled"] * 7
    assert statuses(engine) == {"ana@example.org": "pending"}
    assert listing.stats(engine).outbox["queued"] == 1


def test_the_schema_is_at_the_newest_migration_and_upgrading_again_does_nothing(
    engine: sa.Engine,
) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import syndicate.subscribers.database as database

    scripts = Config()
    scripts.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(scripts).get_current_head() == HEAD
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [
            (HEAD,)
        ]
        tables = set(sa.inspect(connection).get_table_names())
    assert {"subscribers", "consent", "outbox"} <= tables


def test_several_processes_opening_a_new_list_at_once_migrate_it_once(
    publication: MakePublication, database: str
) -> None:
    config = load_config(publication({}, list_config()))
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def open_list() -> None:
        start.wait()
        try:
            connect(config, {"SYNDICATE_DATABASE_URL": database}).dispose()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=open_list) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    engine = connect(config, {"SYNDICATE_DATABASE_URL": database})
    try:
        with engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert versions.all() == [(HEAD,)]
    finally:
        engine.dispose()


def migrate(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    """Alembic's own upgrade (or downgrade) of *engine*'s list to *revision*."""
    from alembic import command
    from alembic.config import Config

    import syndicate.subscribers.database as database

    scripts = Config()
    scripts.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    with engine.begin() as connection:
        scripts.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(scripts, revision)


def test_a_list_made_before_keyed_tokens_keeps_its_readers_and_their_links_work(
    publication: MakePublication, database: str
) -> None:
    config = load_config(publication({}, list_config()))
    environ = {"SYNDICATE_DATABASE_URL": database}
    old = connect(config, environ, migrate=False)
    migrate(old, "0001")
    with old.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO subscribers (email, email_key, name, status, token, created, "
                "changed) VALUES ('ana@example.org', 'ana@example.org', 'Ana', 'subscribed', "
                "'a-random-token-of-phase-one', :now, :now)"
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
    old.dispose()

    engine = connect(config, environ)  # migrated to the newest schema
    try:
        readers = [(r.email, r.name) for r in listing.recipients(engine)]
        assert readers == [("ana@example.org", "Ana")]
        assert tokens.key_tokens(engine, KEY) == 1
        migrate(engine, "0001", down=True)  # a downgrade gives each reader a token again
        migrate(engine, "head")
        assert tokens.key_tokens(engine, KEY) == 1
        assert leave(engine, "ana@example.org") is Leaving.UNSUBSCRIBED
    finally:
        engine.dispose()
