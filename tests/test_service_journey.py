"""Issue 25's "Done when": a reader joins from an article page, confirms, receives the next
digest, and leaves with one click; the digest after that no longer reaches them.

Real parts only: the publication is built by ``syndicate build`` with ``[subscribers] url``,
its ``feeds/`` served by an HTTP server on 127.0.0.1; the list service runs under uvicorn
(``syndicate subscribers serve``) on SQLite or PostgreSQL; headless Chromium, JavaScript
off, reaches both through a forwarding route standing for the sites' TLS proxies; every
email goes to aiosmtpd; ``syndicate publish`` reads the list from the service's database,
or, once, from the service over HTTPS behind a TLS front (trustme).
"""

from __future__ import annotations

import functools
import http.server
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import BrowserContext, sync_playwright

from browser import ARGS, BrowserMissing, chromium, in_a_thread
from conftest import SITE, article
from leaks import SECRET
from service_support import SERVICE_URL, Forward, Service, TlsFront, wait_for
from smtp_server import SmtpServer
from syndicate.cli import main

SITE_URL = "https://news.example.org/"
LIST_TOKEN = "list-token-" + "j" * 40


def config(smtp: SmtpServer) -> str:
    """Article pages, no cards (not what this is about); the list kept by the service,
    whose address makes the pages' form and every email's unsubscribe link."""
    return (
        SITE
        + "\n[social]\nplatforms = []\n"
        + '\n[email]\nfrom = "Test Times <news@example.org>"\nrate = 0\n'
        + f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        + "timeout = 5\n"
        + f'\n[subscribers]\nurl = "{SERVICE_URL}"\nhosts = ["127.0.0.1"]\n'
    )


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """*folder* over HTTP on 127.0.0.1, as a static host serves ``feeds/``."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def a_reader(forward: Forward) -> Iterator[BrowserContext]:
    """Chromium with JavaScript off (the form must work without it), every request going
    through *forward*."""
    try:
        executable = chromium()
    except BrowserMissing as error:
        pytest.fail(str(error), pytrace=False)
    with tempfile.TemporaryDirectory(prefix="syndicate-chromium-") as home, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=list(ARGS), env={"HOME": home, "PATH": "/usr/bin:/bin"}
        )
        try:
            context = browser.new_context(java_script_enabled=False, service_workers="block")
            context.set_default_timeout(15_000)
            context.route("**/*", forward)
            yield context
        finally:
            browser.close()
    assert forward.refused == []


def mail(smtp: SmtpServer, to: str, subject: str) -> EmailMessage:
    """The message to *to* whose subject starts with *subject* (waited for)."""

    def found() -> list[EmailMessage]:
        messages = [
            message_from_bytes(m.data, policy=policy.default)
            for m in smtp.messages
            if to in m.recipients
        ]
        return [m for m in messages if str(m["Subject"]).startswith(subject)]  # type: ignore[misc]

    wait_for(lambda: bool(found()), what=f"{subject!r} to the reader")
    return found()[-1]


def newsletter_to(smtp: SmtpServer, subject: str) -> list[str]:
    return sorted(
        r
        for m in smtp.messages
        if str(message_from_bytes(m.data, policy=policy.default)["Subject"]).startswith(subject)
        for r in m.recipients
    )


def join_from_the_pages(forward: Forward, smtp: SmtpServer) -> None:
    """In Chromium: a reader signs up on an article page and confirms with the button of
    the emailed link; another signs up on the landing page and never confirms."""
    with a_reader(forward) as browser:
        page = browser.new_page()
        page.goto(f"{SITE_URL}posts/hello/")
        page.fill("#signup-email", "reader@example.org")
        page.fill("#signup-name", "Mai Nguyen")
        page.click("form button[type=submit]")
        assert page.url == f"{SERVICE_URL}subscribe"
        assert page.locator("h1").inner_text() == "Check your inbox"

        text = mail(smtp, "reader@example.org", "Confirm").get_body(("plain",))
        assert text is not None
        link = re.search(rf"{re.escape(SERVICE_URL)}confirm/[A-Za-z0-9_-]+", text.get_content())
        assert link is not None
        page.goto(link.group())
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "You are subscribed"

        page.goto(SITE_URL)
        page.fill("#signup-email", "pending@example.org")
        page.click("form button[type=submit]")
        assert page.locator("h1").inner_text() == "Check your inbox"
    mail(smtp, "pending@example.org", "Confirm")


@pytest.mark.parametrize(
    ("store", "reads"),
    [("sqlite", "database"), ("postgresql", "database"), ("sqlite", "https")],
)
def test_a_reader_joins_from_an_article_page_confirms_receives_the_digest_and_leaves(
    tmp_path: Path, request: pytest.FixtureRequest, store: str, reads: str
) -> None:
    root = tmp_path / "pub"
    (root / "content").mkdir(parents=True)
    (root / "content/hello.md").write_text(article("Hello", date="2025-05-01"))
    if store == "sqlite":
        database = f"sqlite:///{tmp_path / 'list.db'}"
    else:
        database = request.getfixturevalue("postgresql").create_database()
    cli = CliRunner()
    with SmtpServer() as smtp:
        (root / "syndicate.toml").write_text(config(smtp))
        built = cli.invoke(main, ["-C", str(root), "build"])
        assert built.exit_code == 0, built.output
        environ = {"SYNDICATE_DATABASE_URL": database, "SYNDICATE_LIST_TOKEN": LIST_TOKEN}
        with (
            Service(root, environ) as service,
            TlsFront(service.port, tmp_path) as front,
            served(root / "feeds") as site,
        ):
            forward = Forward({SITE_URL: site, SERVICE_URL: service.base})
            try:
                in_a_thread(lambda: join_from_the_pages(forward, smtp))
            finally:
                forward.close()
            # A third reader, confirmed the same way without a browser.
            with service.client() as client:
                client.post("/subscribe", data={"email": "stays@example.org"})
                text = mail(smtp, "stays@example.org", "Confirm").get_body(("plain",))
                assert text is not None
                confirm = re.search(rf"{re.escape(SERVICE_URL)}(confirm/\S+)", text.get_content())
                assert confirm is not None
                assert client.post(f"/{confirm[1]}").status_code == 200

            if reads == "https":
                publishing = {
                    "SYNDICATE_LIST_URL": front.url,
                    "SYNDICATE_LIST_TOKEN": LIST_TOKEN,
                    "SSL_CERT_FILE": str(front.ca_file),
                }
            else:
                publishing = {"SYNDICATE_DATABASE_URL": database}
            publishing["SYNDICATE_SECRET"] = SECRET

            first = cli.invoke(main, ["-C", str(root), "publish"], env=publishing)
            assert first.exit_code == 0, first.output
            assert newsletter_to(smtp, "Test Times: Hello") == [
                "reader@example.org",
                "stays@example.org",
            ]  # exactly the confirmed, still-subscribed readers: never the pending one

            # The reader's mailbox provider takes the link from the message, and posts.
            digest = mail(smtp, "reader@example.org", "Test Times: Hello")
            assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            found = re.search(r"<(https://[^>]+)>", digest["List-Unsubscribe"])
            assert found is not None and found[1].startswith(f"{SERVICE_URL}unsubscribe/")
            with httpx.Client(base_url=service.base, timeout=30) as provider:
                left = provider.post(
                    "/" + found[1].removeprefix(SERVICE_URL),
                    content=b"List-Unsubscribe=One-Click",
                    headers={
                        "host": "lists.example.org",
                        "content-type": "application/x-www-form-urlencoded",
                    },
                )
            assert left.status_code == 200

            (root / "content/later.md").write_text(article("Later", date="2025-06-01"))
            second = cli.invoke(main, ["-C", str(root), "publish"], env=publishing)
            assert second.exit_code == 0, second.output
            assert newsletter_to(smtp, "Test Times: Later") == ["stays@example.org"]
