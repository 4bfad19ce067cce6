"""``syndicate publish`` reads the list the service keeps: from its database, or from the
service itself over HTTPS; and a permanent refusal marks the reader bounced there.

The database tests run twice, on a SQLite file and on a real PostgreSQL database
(service_support.database); the HTTPS tests run the service under uvicorn behind a TLS
front with a throwaway CA (trustme).  Mail goes to a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
import trustme
from click.testing import CliRunner

from conftest import NOW, SITE, MakePublication, article
from leaks import SECRET
from service_support import SERVICE_URL, Service, TlsFront
from smtp_server import SmtpServer
from syndicate import pipeline
from syndicate.cli import main
from syndicate.config import load_config
from syndicate.delivery.subscribers import token
from syndicate.subscribers import listing, store
from syndicate.subscribers.database import DEFAULT_PATH, connect
from syndicate.subscribers.store import Origin, Rules

RULES = Rules(list_name="Test Times (https://news.example.org/)")
CLI = Origin("command line")
LIST_TOKEN = "list-token-" + "p" * 40
ARTICLES = {"content/a.md": article("Hello", date="2025-05-01")}


def config(smtp: SmtpServer, *, email: str = "", subscribers: str = "") -> str:
    """A newsletter whose list the service at :data:`SERVICE_URL` keeps: no [email]
    subscribers and no unsubscribe_url of its own.  No article pages or cards: they are
    not what these tests are about."""
    return (
        SITE
        + "pages = false\n\n[social]\nplatforms = []\n"
        + '\n[email]\nfrom = "Test Times <news@example.org>"\nrate = 0\n'
        + email
        + f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        + "timeout = 5\n"
        + f'\n[subscribers]\nurl = "{SERVICE_URL}"\n'
        + subscribers
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def a_list(root: Path, environ: dict[str, str]) -> sa.Engine:
    """The list of the publication at *root* (where *environ* says), with two subscribed
    readers, and one each pending, unsubscribed and bounced."""
    engine = connect(load_config(root), environ)
    for email in ("ana@example.org", "bob@example.org", "left@example.org", "gone@example.org"):
        store.add(engine, email, email[:3].title(), rules=RULES, origin=CLI, now=NOW)
    store.subscribe(engine, "pending@example.org", "", rules=RULES, origin=CLI, now=NOW)
    store.unsubscribe_address(engine, "left@example.org", rules=RULES, origin=CLI, now=NOW)
    gone = next(r.id for r in listing.recipients(engine) if r.email == "gone@example.org")
    store.mark_bounced(engine, gone, reason="550 no such user", rules=RULES, now=NOW)
    return engine


def publish(root: Path, *args: str, **environ: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["-C", str(root), "publish", *args], env={"SYNDICATE_SECRET": SECRET, **environ}
    )
    return result.exit_code, result.output


def received(smtp: SmtpServer) -> list[str]:
    """Who received the newsletter (the service sends its own confirmations too)."""
    newsletter = [m for m in smtp.messages if b"\r\nSubject: Confirm" not in m.data]
    return sorted(r for m in newsletter for r in m.recipients)


def statuses(engine: sa.Engine) -> dict[str, str]:
    return {row[0]: row[2] for row in listing.export(engine)}


@pytest.fixture
def listed(
    publication: MakePublication, database: str, smtp: SmtpServer
) -> Iterator[tuple[Path, sa.Engine, str]]:
    """A publication whose list is in *database*, as :func:`a_list` fills it."""
    root = publication(ARTICLES, config(smtp))
    engine = a_list(root, {"SYNDICATE_DATABASE_URL": database})
    yield root, engine, database
    engine.dispose()


# --- from the database --------------------------------------------------------------------


def test_publish_reaches_exactly_the_confirmed_still_subscribed_readers(
    listed: tuple[Path, sa.Engine, str], smtp: SmtpServer
) -> None:
    root, _, database = listed

    code, rehearsed = publish(root, "--dry-run", SYNDICATE_DATABASE_URL=database)
    assert code == 0, rehearsed
    assert "to 2 subscribers (0 already done)" in rehearsed
    assert smtp.messages == []

    code, output = publish(root, SYNDICATE_DATABASE_URL=database)

    assert code == 0, output
    assert received(smtp) == ["ana@example.org", "bob@example.org"]
    assert "Subscribers: the database " in output and "2 sent" in output
    assert "ana@" not in output and "bob@" not in output  # counts only, never addresses
    # The link is the service's: its example domain is named where it is set.
    line = (root / "syndicate.toml").read_text().splitlines().index(f'url = "{SERVICE_URL}"') + 1
    assert f"syndicate.toml:{line}: warning: subscribers.url: lists.example.org is an" in output


def test_every_link_points_at_the_service_unless_the_publication_names_its_own(
    listed: tuple[Path, sa.Engine, str], smtp: SmtpServer
) -> None:
    root, _, database = listed
    publish(root, SYNDICATE_DATABASE_URL=database)
    by_reader = {
        m.recipients[0]: message_from_bytes(m.data, policy=policy.default) for m in smtp.messages
    }
    own = f"{SERVICE_URL}unsubscribe/{token(SECRET.encode(), 'ana@example.org')}"

    ana = by_reader["ana@example.org"]
    assert ana["List-Unsubscribe"].startswith(f"<{own}>")
    body = ana.get_body(("plain",))
    assert body is not None and own in body.get_content()

    elsewhere = "https://news.example.org/leave/{token}"
    configured = (root / "syndicate.toml").read_text()
    (root / "syndicate.toml").write_text(
        configured.replace("rate = 0\n", f'rate = 0\nunsubscribe_url = "{elsewhere}"\n', 1)
    )
    assert load_config(root).email.unsubscribe_url == elsewhere  # type: ignore[union-attr]
    (root / "content/b.md").write_text(article("Later", date="2025-06-01"))
    smtp.messages.clear()
    publish(root, SYNDICATE_DATABASE_URL=database)
    leave = message_from_bytes(smtp.messages[0].data, policy=policy.default)["List-Unsubscribe"]
    assert leave.startswith("<https://news.example.org/leave/")


def test_a_test_send_carries_the_services_link_too(
    publication: MakePublication, smtp: SmtpServer
) -> None:
    root = publication(ARTICLES, config(smtp))

    result = CliRunner().invoke(
        main,
        ["-C", str(root), "send-test", "--to", "editor@example.org"],
        env={"SYNDICATE_SECRET": SECRET},
    )

    assert result.exit_code == 0, result.output
    (sent,) = smtp.messages
    own = f"{SERVICE_URL}unsubscribe/{token(SECRET.encode(), 'editor@example.org')}"
    assert message_from_bytes(sent.data, policy=policy.default)["List-Unsubscribe"].startswith(
        f"<{own}>"
    )


def test_a_refusal_for_good_marks_the_reader_bounced_and_a_deferral_does_not(
    listed: tuple[Path, sa.Engine, str], smtp: SmtpServer
) -> None:
    root, engine, database = listed
    smtp.refuse("ana@example.org")
    smtp.defer("bob@example.org")
    store.add(engine, "cy@example.org", "", rules=RULES, origin=CLI, now=NOW)
    ana = next(r.id for r in listing.recipients(engine) if r.email == "ana@example.org")
    environ = {"SYNDICATE_SECRET": SECRET, "SYNDICATE_DATABASE_URL": database}

    _, delivery = pipeline.publish(root, NOW, environ=environ, sleep=lambda _: None)

    (outcome,) = delivery.outcomes
    assert (outcome.sent, outcome.failed, outcome.deferred) == (1, 1, 1)
    assert received(smtp) == ["cy@example.org"]
    assert statuses(engine)["ana@example.org"] == "bounced"
    assert statuses(engine)["bob@example.org"] == "subscribed"  # tried again next run
    # Each named by their id, never their address.
    shown = "\n".join(d.format() for d in delivery.diagnostics)
    assert f"subscriber:{ana}: warning: refused for good by the mail server" in shown
    assert "ana@example.org" not in shown and "bob@example.org" not in shown


def test_nobody_is_marked_bounced_when_the_server_refused_everyone(
    listed: tuple[Path, sa.Engine, str], smtp: SmtpServer
) -> None:
    # Every reader refused: that is the server or the message, not the readers.
    root, engine, database = listed
    smtp.refuse("ana@example.org")
    smtp.refuse("bob@example.org")

    code, output = publish(root, SYNDICATE_DATABASE_URL=database)

    assert code != 0 and "nobody received it" in output
    assert (
        statuses(engine)["ana@example.org"] == statuses(engine)["bob@example.org"] == ("subscribed")
    )


def test_the_services_own_file_is_the_list_when_nothing_else_names_one(
    publication: MakePublication, smtp: SmtpServer
) -> None:
    root = publication(ARTICLES, config(smtp))

    code, output = publish(root)
    assert code != 0
    assert (
        f"[subscribers] keeps the list in {DEFAULT_PATH}, which is not here: point "
        "SYNDICATE_DATABASE_URL at the list's database" in output
    )
    assert smtp.messages == []

    engine = a_list(root, {})  # the service's default: .syndicate/subscribers.db
    engine.dispose()
    code, output = publish(root)
    assert code == 0, output
    assert received(smtp) == ["ana@example.org", "bob@example.org"]


@pytest.mark.parametrize(
    ("email", "environ", "message"),
    [
        (
            "",
            {"SYNDICATE_DATABASE_URL": "sqlite:///list.db", "SYNDICATE_SUBSCRIBERS": "a.csv"},
            "SYNDICATE_DATABASE_URL and SYNDICATE_SUBSCRIBERS are both set",
        ),
        (
            "",
            {"SYNDICATE_LIST_URL": "https://lists.example.org/", "SYNDICATE_SUBSCRIBERS": "a.csv"},
            "SYNDICATE_LIST_URL and SYNDICATE_SUBSCRIBERS are both set",
        ),
        (
            'subscribers = "a.csv"\n',
            {},
            "[email] subscribers names a CSV list, and [subscribers] has the list service keep "
            "the list: remove one of them",
        ),
        ("", {"SYNDICATE_LIST_URL": "http://lists.example.org/"}, "must be the list service's"),
        ("", {"SYNDICATE_LIST_URL": SERVICE_URL}, "SYNDICATE_LIST_TOKEN is not"),
    ],
)
def test_a_list_named_twice_or_half_named_is_an_error_and_nothing_is_sent(
    publication: MakePublication,
    smtp: SmtpServer,
    email: str,
    environ: dict[str, str],
    message: str,
) -> None:
    root = publication(
        {**ARTICLES, "a.csv": "email,name,status\nana@example.org,Ana,subscribed\n"},
        config(smtp, email=email),
    )

    code, output = publish(root, **environ)

    assert code != 0
    assert message in output
    assert smtp.messages == []


def test_a_csv_named_in_the_environment_is_read_as_before(
    publication: MakePublication, smtp: SmtpServer
) -> None:
    root = publication(
        {**ARTICLES, "a.csv": "email,name,status\nana@example.org,Ana,subscribed\n"},
        config(smtp),
    )

    code, output = publish(root, SYNDICATE_SUBSCRIBERS="a.csv")

    assert code == 0, output
    assert received(smtp) == ["ana@example.org"]
    assert "Subscribers: the CSV file a.csv" in output


# --- from the service, over HTTPS ---------------------------------------------------------


@pytest.fixture
def over_https(
    publication: MakePublication, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, sa.Engine, TlsFront]]:
    """The service (on SQLite) behind a TLS front on 127.0.0.1, trusted as a maintainer
    trusts a private CA (OpenSSL reads SSL_CERT_FILE)."""
    root = publication(ARTICLES, config(smtp, subscribers='hosts = ["127.0.0.1"]\n'))
    database = f"sqlite:///{root / 'service.db'}"
    engine = a_list(root, {"SYNDICATE_DATABASE_URL": database})
    environ = {"SYNDICATE_DATABASE_URL": database, "SYNDICATE_LIST_TOKEN": LIST_TOKEN}
    with Service(root, environ) as service, TlsFront(service.port, root.parent) as front:
        monkeypatch.setenv("SSL_CERT_FILE", str(front.ca_file))
        yield root, engine, front
    engine.dispose()


def test_publish_reads_the_list_from_the_service_over_https(
    over_https: tuple[Path, sa.Engine, TlsFront], smtp: SmtpServer
) -> None:
    root, engine, front = over_https
    smtp.refuse("bob@example.org")
    store.add(engine, "cy@example.org", "", rules=RULES, origin=CLI, now=NOW)

    code, output = publish(root, SYNDICATE_LIST_URL=front.url, SYNDICATE_LIST_TOKEN=LIST_TOKEN)

    assert code == 0, output
    assert received(smtp) == ["ana@example.org", "cy@example.org"]
    assert f"Subscribers: the list service at {front.url}" in output
    assert statuses(engine)["bob@example.org"] == "bounced"  # through POST /api/bounced
    assert LIST_TOKEN not in output


def test_a_wrong_list_token_sends_nothing_and_says_so(
    over_https: tuple[Path, sa.Engine, TlsFront], smtp: SmtpServer
) -> None:
    root, _, front = over_https

    code, output = publish(root, SYNDICATE_LIST_URL=front.url, SYNDICATE_LIST_TOKEN="x" * 40)

    assert code != 0
    assert "SYNDICATE_LIST_TOKEN was refused (401)" in output
    assert received(smtp) == []


class _CutShort(http.server.BaseHTTPRequestHandler):
    """A list service that dies half-way through the list: some readers, no last line."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        self.send_header("x-recipients", "3")
        self.send_header("connection", "close")
        self.end_headers()
        for number in (1, 2):
            line = {"id": number, "email": f"reader{number}@example.org", "name": ""}
            self.wfile.write(json.dumps(line).encode() + b"\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_list_cut_short_leaves_the_email_open_for_the_next_run(
    publication: MakePublication, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    root = publication(ARTICLES, config(smtp))
    ca.cert_pem.write_to_path(str(root.parent / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(root.parent / "ca.pem"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutShort)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        code, output = publish(root, SYNDICATE_LIST_URL=url, SYNDICATE_LIST_TOKEN=LIST_TOKEN)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    assert code != 0
    assert "the list ended before its last line, after 2 readers" in output
    state = json.loads((root / ".syndicate/state.json").read_text())
    assert [digest.get("open") for digest in state["digests"]] == [True]  # the rest next run
