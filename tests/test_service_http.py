"""The list service over HTTP: the real thing under uvicorn on 127.0.0.1.

One service per database (SQLite, then PostgreSQL) serves the tests of this module; it
believes the proxy on 127.0.0.1, so each test is a client of its own through
X-Forwarded-For, and every confirmation email reaches a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from leaks import SECRET
from service_support import (
    SERVICE_URL,
    SITE_ORIGIN,
    PostgreSQL,
    Service,
    list_config,
    wait_for,
)
from smtp_server import SmtpServer
from syndicate.config import load_config
from syndicate.delivery.subscribers import token, unsubscribe_link
from syndicate.subscribers import listing
from syndicate.subscribers.database import connect

LIST_TOKEN = "list-token-" + "k" * 40
_clients = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, sa.Engine, SmtpServer]]:
    """The service, the list it keeps (to look at, as an operator would), and its mail."""
    smtp = SmtpServer().start()
    request.addfinalizer(smtp.stop)
    root = tmp_path_factory.mktemp("pub")
    (root / "syndicate.toml").write_text(
        list_config(
            smtp_port=smtp.port,
            subscribers='client_rate = 3\ntrusted_proxies = ["127.0.0.1"]\n',
        )
    )
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'list.db'}"
    else:
        server: PostgreSQL = request.getfixturevalue("postgresql")
        url = server.create_database()
    environ = {"SYNDICATE_DATABASE_URL": url, "SYNDICATE_LIST_TOKEN": LIST_TOKEN}
    with Service(root, environ) as service:
        engine = connect(load_config(root), environ)
        yield service, engine, smtp
        engine.dispose()


@pytest.fixture
def service(served: tuple[Service, sa.Engine, SmtpServer]) -> Service:
    return served[0]


@pytest.fixture
def engine(served: tuple[Service, sa.Engine, SmtpServer]) -> sa.Engine:
    return served[1]


@pytest.fixture
def smtp(served: tuple[Service, sa.Engine, SmtpServer]) -> SmtpServer:
    return served[2]


@pytest.fixture
def client(service: Service) -> Iterator[httpx.Client]:
    """A client of its own, as the proxy tells the service (so rate limits are its own)."""
    address = f"203.0.113.{next(_clients)}"
    with service.client(headers={"x-forwarded-for": address}) as made:
        yield made


def sign_up(client: httpx.Client, email: str, **fields: str) -> httpx.Response:
    return client.post("/subscribe", data={"email": email, "name": "", **fields})


def mail_to(smtp: SmtpServer, email: str, *, count: int = 1) -> list[EmailMessage]:
    def found() -> list[EmailMessage]:
        return [
            message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
            for m in smtp.messages
            if email in m.recipients
        ]

    wait_for(lambda: len(found()) >= count, what=f"{count} message(s) to the address")
    return found()


def link(message: EmailMessage, kind: str) -> str:
    """The path of the *kind* link: "confirm" in the text, "unsubscribe" in the header
    List-Unsubscribe (where mail programs take it from)."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content() if kind == "confirm" else str(message["List-Unsubscribe"])
    found = re.search(rf"{re.escape(SERVICE_URL)}{kind}/[A-Za-z0-9_-]+", text)
    assert found, f"no {kind} link in the message"
    return "/" + found.group().removeprefix(SERVICE_URL)


def status(engine: sa.Engine, email: str) -> str | None:
    return {row[0]: row[2] for row in listing.export(engine)}.get(email)


def test_the_sign_up_page_is_a_form_that_works_without_script(client: httpx.Client) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert f'action="{SERVICE_URL}subscribe"' in page.text
    assert 'method="post"' in page.text
    assert '<input id="signup-email" type="email" name="email" required' in page.text
    assert "<script" not in page.text


def test_a_sign_up_answers_the_same_for_a_new_pending_or_subscribed_address(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine
) -> None:
    new = sign_up(client, "same-answer@example.org")
    pending = sign_up(client, "same-answer@example.org")
    message = mail_to(smtp, "same-answer@example.org")[0]
    client.post(link(message, "confirm"))
    subscribed = sign_up(client, "same-answer@example.org")

    assert status(engine, "same-answer@example.org") == "subscribed"
    assert new.status_code == pending.status_code == subscribed.status_code == 200
    assert new.text == pending.text == subscribed.text
    assert "Check your inbox" in new.text
    time.sleep(0.5)  # the queue had time to send anything else
    assert len(mail_to(smtp, "same-answer@example.org")) == 1


def test_the_confirmation_email_is_built_like_the_newsletter(
    client: httpx.Client, smtp: SmtpServer
) -> None:
    sign_up(client, "built@example.org", name="Built Reader")
    message = mail_to(smtp, "built@example.org")[0]

    assert message["To"] == "Built Reader <built@example.org>"
    assert message["From"] == "Test Times <news@example.org>"
    assert message["Subject"] == "Confirm your subscription to Test Times"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The newsletter's own link (the token under SYNDICATE_SECRET): one link for a reader.
    own = token(SECRET.encode(), "built@example.org")
    assert message["List-Unsubscribe"].startswith(f"<{SERVICE_URL}unsubscribe/{own}>")
    assert message["List-Id"] == "Test Times <test-times.news.example.org>"
    html = message.get_body(("html",))
    assert html is not None and link(message, "confirm")[1:] in html.get_content()


def test_the_honeypot_stores_nothing_and_answers_the_same(
    client: httpx.Client, engine: sa.Engine
) -> None:
    robot = sign_up(client, "robot@example.org", website="https://spam.example")

    assert robot.status_code == 200 and "Check your inbox" in robot.text
    assert status(engine, "robot@example.org") is None


def test_an_address_that_cannot_be_mailed_is_asked_for_again(
    client: httpx.Client, engine: sa.Engine
) -> None:
    answer = sign_up(client, "not-an-address@", name="<b>Eve</b>")

    assert answer.status_code == 400
    assert "That is not an email address we can send to" in answer.text
    assert 'value="&lt;b&gt;Eve&lt;/b&gt;"' in answer.text  # escaped, never markup
    assert [row for row in listing.export(engine) if "not-an-address" in row[0]] == []


def test_sign_ups_from_one_client_are_limited_and_other_clients_are_not(
    service: Service, engine: sa.Engine
) -> None:
    with (
        service.client(headers={"x-forwarded-for": "198.51.100.200"}) as busy,
        service.client(headers={"x-forwarded-for": "198.51.100.201"}) as other,
    ):
        answers = [sign_up(busy, f"busy{n}@example.org").status_code for n in range(4)]
        refused = sign_up(busy, "busy-late@example.org")
        elsewhere = sign_up(other, "elsewhere@example.org")

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert status(engine, "busy-late@example.org") is None
    assert elsewhere.status_code == 200


def test_confirming_takes_a_press_of_the_button_not_a_visit(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine
) -> None:
    sign_up(client, "presses@example.org")
    confirm = link(mail_to(smtp, "presses@example.org")[0], "confirm")

    page = client.get(confirm)
    assert page.status_code == 200
    assert f'<form method="post" action="{confirm}">' in page.text
    assert status(engine, "presses@example.org") == "pending"

    pressed = client.post(confirm, headers={"origin": "https://lists.example.org"})
    assert pressed.status_code == 200 and "You are subscribed" in pressed.text
    assert status(engine, "presses@example.org") == "subscribed"
    assert client.post(confirm).status_code == 200  # pressed again: still fine
    assert client.post("/confirm/" + "A" * 32).status_code == 404


def subscribed(client: httpx.Client, smtp: SmtpServer, email: str) -> EmailMessage:
    sign_up(client, email)
    message = mail_to(smtp, email)[0]
    client.post(link(message, "confirm"))
    return message


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribe_answers_200_every_time(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine, encoding: str
) -> None:
    email = f"one-click-{encoding}@example.org"
    unsubscribe = link(subscribed(client, smtp, email), "unsubscribe")
    body = {"List-Unsubscribe": "One-Click"}

    def post() -> httpx.Response:
        if encoding == "multipart":
            return client.post(unsubscribe, files={k: (None, v) for k, v in body.items()})
        return client.post(unsubscribe, data=body)

    assert status(engine, email) == "subscribed"
    first, again = post(), post()

    assert (first.status_code, again.status_code) == (200, 200)
    assert status(engine, email) == "unsubscribed"
    assert listing.proof(engine, email)[-1].source == "one-click"  # type: ignore[index]


def test_visiting_an_unsubscribe_link_shows_a_button_and_changes_nothing(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine
) -> None:
    unsubscribe = link(subscribed(client, smtp, "visits@example.org"), "unsubscribe")

    page = client.get(unsubscribe)

    assert page.status_code == 200
    assert f'<form method="post" action="{unsubscribe}">' in page.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert status(engine, "visits@example.org") == "subscribed"
    assert client.post(unsubscribe).status_code == 400  # a POST without the one-click field
    assert status(engine, "visits@example.org") == "subscribed"


def test_the_newsletters_link_unsubscribes_the_reader_it_was_made_for(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine
) -> None:
    subscribed(client, smtp, "newsletter-link@example.org")
    subscribed(client, smtp, "stays@example.org")
    pattern = "https://lists.example.org/unsubscribe/{token}"  # what the README advises
    link = unsubscribe_link(pattern, "", token(SECRET.encode(), "newsletter-link@example.org"))
    path = link.removeprefix("https://lists.example.org")

    assert client.get(path).status_code == 200
    assert status(engine, "newsletter-link@example.org") == "subscribed"
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    assert status(engine, "newsletter-link@example.org") == "unsubscribed"
    assert status(engine, "stays@example.org") == "subscribed"


def test_the_links_already_sent_with_the_address_keep_working(
    client: httpx.Client, smtp: SmtpServer, engine: sa.Engine
) -> None:
    email = "old+link@example.org"
    subscribed(client, smtp, email)
    pattern = "https://lists.example.org/unsubscribe?email={email}&token={token}"
    old = unsubscribe_link(pattern, email, token(SECRET.encode(), email))
    path = old.removeprefix("https://lists.example.org")
    forged = unsubscribe_link(pattern, email, token(b"another secret", email))

    assert client.get(path).status_code == 200
    assert client.post(forged.removeprefix("https://lists.example.org"), data={
        "List-Unsubscribe": "One-Click"
    }).status_code == 404  # fmt: skip
    assert status(engine, email) == "subscribed"
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert status(engine, email) == "unsubscribed"


def test_every_answer_carries_the_security_headers(client: httpx.Client) -> None:
    for answer in (client.get("/"), client.get("/confirm/" + "A" * 32), client.get("/nowhere")):
        headers = answer.headers
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        assert "server" not in headers


def test_a_foreign_host_or_a_foreign_page_is_refused(
    service: Service, client: httpx.Client, engine: sa.Engine
) -> None:
    with service.client(headers={"host": "evil.example"}) as elsewhere:
        assert elsewhere.get("/").status_code == 400
        assert elsewhere.get("/healthz").status_code == 200  # for health checks by address
    foreign = client.post(
        "/subscribe",
        data={"email": "framed@example.org"},
        headers={"origin": "https://evil.example"},
    )
    from_site = client.post(
        "/subscribe", data={"email": "from-site@example.org"}, headers={"origin": SITE_ORIGIN}
    )

    assert foreign.status_code == 403
    assert status(engine, "framed@example.org") is None
    assert from_site.status_code == 200
    assert status(engine, "from-site@example.org") == "pending"


def test_a_request_body_too_large_is_refused_before_it_is_read(client: httpx.Client) -> None:
    big = {"email": "big@example.org", "name": "x" * 20_000}

    def chunks() -> Iterator[bytes]:
        yield b"email=big%40example.org&name="
        for _ in range(40):
            yield b"x" * 1000

    assert client.post("/subscribe", data=big).status_code == 413
    streamed = client.post(
        "/subscribe",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413


def test_the_proof_of_consent_names_the_page_and_the_client_behind_the_proxy(
    service: Service, smtp: SmtpServer, engine: sa.Engine
) -> None:
    page = "https://news.example.org/posts/hello/"
    with service.client(headers={"x-forwarded-for": "192.0.2.77, 10.0.0.1"}) as reader:
        sign_up(reader, "proof@example.org", source=page)
        reader.post(link(mail_to(smtp, "proof@example.org")[0], "confirm"))

    events = listing.proof(engine, "proof@example.org")

    assert events is not None
    assert [(e.event, e.source, e.ip) for e in events] == [
        ("requested", page, "10.0.0.1"),
        ("confirmed", "the confirmation page", "10.0.0.1"),
    ]


def test_the_list_streams_to_a_job_holding_the_token_and_to_no_one_else(
    client: httpx.Client, smtp: SmtpServer, service: Service, engine: sa.Engine
) -> None:
    subscribed(client, smtp, "api-reader@example.org")
    sign_up(client, "api-pending@example.org")
    with service.client() as job:
        assert job.get("/api/recipients").status_code == 401
        wrong = job.get("/api/recipients", headers={"authorization": "Bearer " + "x" * 51})
        assert wrong.status_code == 401
        answer = job.get("/api/recipients", headers={"authorization": f"Bearer {LIST_TOKEN}"})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    *lines, last = [json.loads(line) for line in answer.text.splitlines()]
    emails = [line["email"] for line in lines]
    assert "api-reader@example.org" in emails and "api-pending@example.org" not in emails
    assert emails == [reader.email for reader in listing.recipients(engine)]
    assert set(lines[0]) == {"id", "email", "name"}
    # How many come, before and after: a job knows when the stream was cut short.
    assert int(answer.headers["x-recipients"]) == len(lines)
    assert last == {"end": True, "count": len(lines)}


def test_a_job_marks_a_reader_its_mail_server_refused_for_good_as_bounced(
    client: httpx.Client, smtp: SmtpServer, service: Service, engine: sa.Engine
) -> None:
    subscribed(client, smtp, "refused@example.org")
    reader = next(r for r in listing.recipients(engine) if r.email == "refused@example.org")
    refusal = {"id": reader.id, "reason": "550 5.1.1 no such user"}
    with service.client() as job:
        assert job.post("/api/bounced", json=refusal).status_code == 401
        assert status(engine, "refused@example.org") == "subscribed"
        bearer = {"authorization": f"Bearer {LIST_TOKEN}"}
        answer = job.post("/api/bounced", json=refusal, headers=bearer)
        assert job.post("/api/bounced", json={"id": "1"}, headers=bearer).status_code == 400

    assert answer.status_code == 200 and answer.json() == {"bounced": True}
    assert status(engine, "refused@example.org") == "bounced"
    events = listing.proof(engine, "refused@example.org")
    assert events is not None and "550 5.1.1 no such user" in events[-1].detail


# --- a service set up otherwise: no proxy believed, short links, no list token -------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Path]]:
    root = tmp_path_factory.mktemp("plain")
    # About two seconds to confirm.
    (root / "syndicate.toml").write_text(list_config(subscribers="confirm_hours = 0.0006\n"))
    environ = {"SYNDICATE_DATABASE_URL": f"sqlite:///{root / 'list.db'}"}
    with Service(root, environ) as service:
        yield service, root


def test_a_proxy_that_is_not_trusted_cannot_choose_the_client_address(
    plain: tuple[Service, Path],
) -> None:
    service, root = plain
    with service.client(headers={"x-forwarded-for": "192.0.2.1"}) as client:
        sign_up(client, "untrusted@example.org", source="test page")
    engine = connect(load_config(root), {"SYNDICATE_DATABASE_URL": f"sqlite:///{root / 'list.db'}"})
    try:
        events = listing.proof(engine, "untrusted@example.org")
    finally:
        engine.dispose()
    assert events is not None and events[0].ip == "127.0.0.1"


def test_an_expired_confirmation_link_says_so(plain: tuple[Service, Path]) -> None:
    service, root = plain
    with service.client() as client:
        sign_up(client, "late@example.org")
        outbox = root / "outbox" / "subscribers"
        wait_for(lambda: any(outbox.glob("confirm-*.eml")), what="the confirmation")
        message = message_from_bytes(
            next(outbox.glob("confirm-*.eml")).read_bytes(),
            policy=policy.default,  # type: ignore[arg-type]
        )
        time.sleep(2.5)
        answer = client.post(link(message, "confirm"))  # type: ignore[arg-type]

    assert answer.status_code == 410
    assert "This link has expired" in answer.text
    assert f'href="{SERVICE_URL}"' in answer.text  # to sign up again


def test_the_list_api_is_closed_without_a_list_token(plain: tuple[Service, Path]) -> None:
    service, _ = plain
    with service.client() as client:
        answer = client.get("/api/recipients", headers={"authorization": "Bearer anything"})
    assert answer.status_code == 404
