"""`syndicate preview`: the publication and its next email on 127.0.0.1 only, built into a
folder of its own with the server's address, rebuilt on every change, and reloaded in a
real browser without anyone pressing reload."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from browser import ARGS, chromium, in_a_thread
from conftest import NOW, SITE, MakePublication, article
from syndicate.config import load_config
from syndicate.pipeline import PreviewTarget, build
from syndicate.preview import EMAIL, EVENTS, PREVIEW, PreviewServer, make_server, with_reloader

CONFIG = SITE + '\n[email]\nfrom = "Test Times <news@example.org>"\n'
#: A one-pixel PNG, for an article's image.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@contextmanager
def serving(server: PreviewServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url.rstrip("/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_preview_shows_the_next_email_at_two_widths_with_its_text_and_subject(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article("Hello <world>", body="First words.")}, CONFIG)
    report = build(root, NOW)
    [email] = report.due
    server = make_server(port=0)
    server.folder = root / "feeds"
    server.show(load_config(root), report)
    assert server.server_address[0] == "127.0.0.1"
    with serving(server) as address:
        page = get(address + PREVIEW)
        assert "Subject: Test Times: Hello &lt;world&gt;" in page
        assert f'src="{EMAIL}" width="600"' in page
        assert f'src="{EMAIL}" width="375"' in page
        assert "First words." in page  # the plain-text part
        assert f'new EventSource("{EVENTS}?since=1")' in page  # it reloads too
        assert get(address + EMAIL) == email.html
        assert get(f"{address}/digests/{email.digest.id}/") == with_reloader(
            email.web.encode(), 1
        ).decode("utf-8")
        assert get(address + "/rss.xml").startswith("<?xml")


def test_preview_without_a_newsletter_says_so(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()})
    server = make_server(port=0)
    server.show(load_config(root), build(root, NOW))
    with serving(server) as address:
        assert "No email to preview" in get(address + PREVIEW)


def test_the_reloader_goes_before_the_end_of_the_body_or_at_the_end() -> None:
    assert with_reloader(b"<p>a</p></BODY></html>", 7).startswith(b"<p>a</p><script>")
    assert with_reloader(b"<p>a</p></BODY></html>", 7).endswith(b"</script>\n</BODY></html>")
    assert b"since=7" in with_reloader(b"<p>a</p>", 7)


def test_a_preview_build_shows_drafts_and_future_articles_at_its_own_address_only(
    publication: MakePublication,
) -> None:
    root = publication(
        {
            "content/a.md": article("Published", body="![A pixel](/pixel.png)"),
            "content/draft.md": article("Not yet", draft="true"),
            "content/later.md": article("Next year", date="2026-06-01"),
            "static/pixel.png": PIXEL,
        },
        CONFIG,
    )
    folder = root / ".syndicate" / "preview"
    url = "http://127.0.0.1:8123/"
    report = build(root, NOW, preview=PreviewTarget(folder, url, drafts=True, future=True))
    assert report.published == 3
    site = folder / "site"
    page = (site / "posts" / "a" / "index.html").read_text()
    assert f'src="{url}pixel.png"' in page
    assert "news.example.org" not in page
    assert (site / "posts" / "draft" / "index.html").is_file()
    assert (site / "posts" / "later" / "index.html").is_file()
    assert f"{url}posts/later/" in (site / "index.html").read_text()
    # Nothing of it anywhere else: no feeds/, no state, no build cache of the real build's.
    assert not (root / "feeds").exists()
    assert not (root / ".syndicate" / "state.json").exists()
    assert not (root / ".syndicate" / "cache").exists()
    # The real build after it knows nothing of the draft or the future article.
    real = build(root, NOW)
    assert real.published == 1
    assert not (root / "feeds" / "posts" / "draft").exists()
    assert "Not yet" not in (root / "feeds" / "atom.xml").read_text()
    # Without the flags, the preview shows what the site shows, and forgets the rest.
    build(root, NOW, preview=PreviewTarget(folder, url))
    assert not (site / "posts" / "draft").exists()
    assert not (site / "posts" / "later").exists()


@contextmanager
def previewing(root: Path, *args: str) -> Iterator[str]:
    """``syndicate preview ARGS`` running on a free port: its address, once it is built."""
    command = [sys.executable, "-m", "syndicate", "preview", "-C", str(root), "--port", "0"]
    with subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline()]
            while not lines[-1].startswith("Built the preview") and len(lines) < 10:
                lines.append(process.stdout.readline())
            assert lines[0].startswith("Serving the preview at http://127.0.0.1:"), lines
            assert "email preview" in lines[1], lines
            yield lines[0].split(" at ", 1)[1].split()[0].rstrip("/")
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_preview_command_serves_drafts_only_when_asked(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article("Hello"), "content/draft.md": article("Wip", draft="true")},
        CONFIG,
    )
    with previewing(root) as address:
        assert "Subject: Test Times: Hello" in get(address + PREVIEW)
        assert status(f"{address}/posts/draft/") == 404
        assert f"{address}/posts/a/" in get(address + "/")
    with previewing(root, "--drafts") as address:
        assert "Wip" in get(f"{address}/posts/draft/")
        assert "Subject: Test Times: " in get(address + PREVIEW)
    assert not (root / "feeds").exists()
    assert not (root / ".syndicate" / "state.json").exists()


# --- in a real browser ------------------------------------------------------------------


@contextmanager
def browser_page(address: str) -> Iterator[Page]:
    """A tab of headless Chromium that runs scripts (the preview reloads itself with one)
    and may reach the preview server only."""

    def route(request: Route) -> None:
        if request.request.url.startswith(address + "/"):
            request.continue_()
        else:
            request.abort("blockedbyclient")

    # The project's flags, but for the loopback address the preview listens on.
    args = [
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
        if arg.startswith("--host-resolver-rules=")
        else arg
        for arg in ARGS
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=args)
        try:
            context = browser.new_context(service_workers="block")
            context.set_default_timeout(20_000)
            context.route("**/*", route)
            yield context.new_page()
        finally:
            browser.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    # As an editor saves: a new file put in the old one's place.
    temporary = path.with_name(path.name + ".tmp~")
    temporary.write_text(text.replace(old, new))
    temporary.replace(path)


def test_the_open_page_shows_each_change_without_a_manual_reload(
    publication: MakePublication,
) -> None:
    root = publication(
        {"content/a.md": article("Hello", body="First words."), "static/note.txt": "one\n"},
        CONFIG,
    )
    with previewing(root, "--drafts") as address:
        in_a_thread(lambda: edit_and_watch(root, address))
    assert not (root / "feeds").exists()


def edit_and_watch(root: Path, address: str) -> None:
    with browser_page(address) as page:
        page.goto(f"{address}/posts/a/")
        page.get_by_text("First words.").wait_for()
        page.evaluate("window.untouched = true")

        # An article: its page reloads itself with the new text.
        edit(root / "content" / "a.md", "First words.", "Second thoughts.")
        page.get_by_text("Second thoughts.").wait_for()
        assert page.evaluate("window.untouched") is None, "the page was reloaded"

        # A template of the publication's own.
        template = root / "templates" / "site" / "article.html.j2"
        template.parent.mkdir(parents=True)
        template.write_text("<!doctype html><body><p>Own template: {{ article.title }}</p>\n")
        page.get_by_text("Own template: Hello").wait_for()

        # A broken article: the page keeps the last good build and says what is wrong...
        edit(root / "content" / "a.md", "title: Hello", "title: [Hello")
        problems = page.locator("#syndicate-problems")
        problems.wait_for()
        assert "content/a.md" in problems.inner_text()
        assert "error" in problems.inner_text()
        # ...until it is fixed.
        edit(root / "content" / "a.md", "title: [Hello", "title: Hello again")
        page.get_by_text("Own template: Hello again").wait_for()
        assert page.locator("#syndicate-problems").count() == 0

        # The configuration, and the email preview reloads too.
        page.goto(address + PREVIEW)
        page.get_by_text("Subject: Test Times: Hello again").wait_for()
        edit(root / "syndicate.toml", 'title = "Test Times"', 'title = "Evening Times"')
        page.get_by_text("Subject: Evening Times: Hello again").wait_for()

        # A static file.
        page.goto(f"{address}/note.txt")
        assert "one" in page.content()
        edit(root / "static" / "note.txt", "one", "two")
        deadline = time.monotonic() + 20
        while "two" not in page.content() and time.monotonic() < deadline:
            time.sleep(0.2)
            page.reload()  # a text file runs no script: this one is reloaded by hand
        assert "two" in page.content()


@pytest.mark.parametrize("flag", ["--drafts", "--future"])
def test_preview_flags_are_in_its_help(flag: str) -> None:
    from click.testing import CliRunner

    from syndicate.cli import main

    assert flag in CliRunner().invoke(main, ["preview", "--help"]).output
