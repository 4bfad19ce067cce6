"""A reader joins and leaves through a real Chromium, and every page of the service passes
axe-core.

The browser (Debian's Chromium, headless, JavaScript off, as tests/browser.py starts it)
reaches two https sites that exist only in the test: a static page of the publication
carrying the sign-up form of the README, and the list service, whose requests this test
forwards to the real service under uvicorn on 127.0.0.1 as a TLS proxy would (the Host
kept, X-Forwarded-For and X-Forwarded-Proto added).  The confirmation email is caught by
a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from browser import ARGS, BrowserMissing, chromium, in_a_thread
from checkers import AXE
from conftest import REPO
from service_support import SERVICE_URL, Forward, Service, list_config, wait_for
from smtp_server import SmtpServer
from syndicate.config import load_config
from syndicate.subscribers import listing
from syndicate.subscribers.database import connect

SITE_PAGE = "https://news.example.org/join/"
#: The README's form, as a reader's static page carries it.
FORM = re.search(
    r"```html\n(<form .*?</form>)\n```",
    (REPO / "README.md").read_text(encoding="utf-8"),
    re.DOTALL,
)


def axe_source() -> str:
    """axe-core, as the standards checkers use it (scripts/ensure-checkers installs it)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run scripts/ensure-checkers", pytrace=False)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, SmtpServer]]:
    root = tmp_path_factory.mktemp("pub")
    with SmtpServer() as smtp:
        (root / "syndicate.toml").write_text(
            list_config(smtp_port=smtp.port, subscribers='trusted_proxies = ["127.0.0.1"]\n')
        )
        environ = {"SYNDICATE_DATABASE_URL": f"sqlite:///{root / 'list.db'}"}
        with Service(root, environ) as service:
            yield service, smtp


class Proxy(Forward):
    """Answers the browser's requests: the site's page from here, the service's by
    forwarding them to the real service; everything else is refused."""

    def __init__(self, service: Service) -> None:
        super().__init__({SERVICE_URL: service.base})
        assert FORM is not None
        self.site_page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Join · Test Times</title></head><body><main><h1>Join Test Times</h1>"
            f"{FORM.group(1)}</main></body></html>"
        )

    def __call__(self, route: Route) -> None:
        if route.request.url == SITE_PAGE:
            route.fulfill(status=200, content_type="text/html", body=self.site_page)
            return
        super().__call__(route)


@contextmanager
def chromium_contexts(service: Service) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two contexts of one Chromium: a reader's, with JavaScript off (the form must work
    without it), and axe-core's, which needs it.  Called inside :func:`in_a_thread`: the
    session's other browser keeps an event loop running in the main thread."""
    try:
        executable = chromium()
    except BrowserMissing as error:
        pytest.fail(str(error), pytrace=False)
    proxy = Proxy(service)
    with tempfile.TemporaryDirectory(prefix="syndicate-chromium-") as home, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=list(ARGS), env={"HOME": home, "PATH": "/usr/bin:/bin"}
        )
        try:
            reader = browser.new_context(java_script_enabled=False, service_workers="block")
            checker = browser.new_context(bypass_csp=True, service_workers="block")
            for context in (reader, checker):
                context.set_default_timeout(15_000)
                context.route("**/*", proxy)
            yield reader, checker
        finally:
            browser.close()
            proxy.close()
    assert proxy.refused == []


def violations(
    context: BrowserContext, url: str, *, press: bool = False, email: str = ""
) -> list[str]:
    """axe-core's violations (every rule it runs by default: WCAG 2.x A and AA and its best
    practices) on the page at *url*, or on the page its button leads to (*press*), in light
    and in dark mode."""
    found = []
    page = context.new_page()
    try:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(url)
            if email:
                page.fill("#signup-email", f"{scheme}-{email}")
            if press:
                before = page.locator("h1").inner_text()
                page.click("button[type=submit]")
                assert page.locator("h1").inner_text() != before  # the next page
            page.evaluate(axe_source())
            result: Any = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found += [f"{scheme} {page.url}: {v['id']}: {v['help']}" for v in result["violations"]]
    finally:
        page.close()
    return found


def mail_to(smtp: SmtpServer, email: str) -> EmailMessage:
    wait_for(lambda: any(email in m.recipients for m in smtp.messages), what="the email")
    data = next(m.data for m in smtp.messages if email in m.recipients)
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def confirm_link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(rf"{re.escape(SERVICE_URL)}confirm/[A-Za-z0-9_-]+", body.get_content())
    assert found
    return found.group()


def status(service: Service, email: str) -> str | None:
    environ = {"SYNDICATE_DATABASE_URL": f"sqlite:///{service.root / 'list.db'}"}
    engine = connect(load_config(service.root), environ)
    try:
        return {row[0]: row[2] for row in listing.export(engine)}.get(email)
    finally:
        engine.dispose()


def test_a_reader_joins_from_a_page_of_the_site_confirms_and_leaves_with_one_click(
    served: tuple[Service, SmtpServer],
) -> None:
    in_a_thread(lambda: joins_confirms_and_leaves(*served))


def joins_confirms_and_leaves(service: Service, smtp: SmtpServer) -> None:
    with chromium_contexts(service) as (reader, _):
        page: Page = reader.new_page()
        page.goto(SITE_PAGE)
        page.fill("#signup-email", "reader@example.org")
        page.fill("#signup-name", "Mai Nguyen")
        page.click("button[type=submit]")

        assert page.url == f"{SERVICE_URL}subscribe"
        assert page.locator("h1").inner_text() == "Check your inbox"
        message = mail_to(smtp, "reader@example.org")
        assert message["To"] == "Mai Nguyen <reader@example.org>"

        page.goto(confirm_link(message))
        assert status(service, "reader@example.org") == "pending"  # opening is not enough
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "You are subscribed"
        assert status(service, "reader@example.org") == "subscribed"

    unsubscribe = re.search(r"<(https://[^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"])
    assert unsubscribe is not None
    path = unsubscribe.group(1).removeprefix(SERVICE_URL)
    with service.client() as mailbox_provider:
        answer = mailbox_provider.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert status(service, "reader@example.org") == "unsubscribed"


def test_every_page_of_the_service_passes_axe(served: tuple[Service, SmtpServer]) -> None:
    service, smtp = served
    with service.client() as client:
        client.post("/subscribe", data={"email": "pages@example.org"})
    message = mail_to(smtp, "pages@example.org")
    confirm = confirm_link(message)
    unsubscribe = re.search(r"<(https://[^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"])
    assert unsubscribe is not None
    leave = unsubscribe.group(1)

    def check() -> list[str]:
        with chromium_contexts(service) as (_, checker):
            return [
                *violations(checker, SERVICE_URL),  # the sign-up page
                *violations(checker, SITE_PAGE, press=True, email="axe@example.org"),  # sent
                *violations(checker, confirm),  # the button to confirm
                *violations(checker, confirm, press=True),  # thank you
                *violations(checker, leave),  # the button to leave
                *violations(checker, leave, press=True),  # unsubscribed
                *violations(checker, f"{SERVICE_URL}nowhere"),  # an error page
            ]

    found = in_a_thread(check)

    assert found == [], json.dumps(found, indent=1)
