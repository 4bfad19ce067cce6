"""`syndicate preview`: the public folder and the next email, on 127.0.0.1 only."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer

from conftest import NOW, SITE, MakePublication, article
from syndicate.config import load_config
from syndicate.pipeline import build
from syndicate.preview import EMAIL, PREVIEW, make_server

CONFIG = SITE + '\n[email]\nfrom = "Test Times <news@example.org>"\n'


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def test_preview_shows_the_next_email_at_two_widths_with_its_text_and_subject(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article("Hello <world>", body="First words.")}, CONFIG)
    report = build(root, NOW)
    [email] = report.due
    server = make_server(load_config(root), email, port=0)
    assert server.server_address[0] == "127.0.0.1"
    with serving(server) as address:
        page = get(address + PREVIEW)
        assert "Subject: Test Times: Hello &lt;world&gt;" in page
        assert f'src="{EMAIL}" width="600"' in page
        assert f'src="{EMAIL}" width="375"' in page
        assert "First words." in page  # the plain-text part
        assert get(address + EMAIL) == email.html
        assert get(f"{address}/digests/{email.digest.id}/") == email.web
        assert get(address + "/rss.xml").startswith("<?xml")


def test_preview_without_a_newsletter_says_so(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()})
    build(root, NOW)
    with serving(make_server(load_config(root), None, port=0)) as address:
        assert "No email to preview" in get(address + PREVIEW)


def test_the_preview_command_builds_serves_and_stops(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("Hello")}, CONFIG)
    command = [sys.executable, "-m", "syndicate", "-C", str(root), "preview", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            check_preview(process)
        finally:
            process.terminate()
            process.wait(timeout=10)


def check_preview(process: subprocess.Popen[str]) -> None:
    """It printed the build report and the preview's address, and serves it."""
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    while "email preview" not in lines[-1] and len(lines) < 10:
        lines.append(process.stdout.readline())
    assert lines[0].startswith("1 article in 1 feeds: wrote")
    [url] = [line.split(": ", 1)[1].split()[0] for line in lines if "email preview" in line]
    assert url.startswith("http://127.0.0.1:") and url.endswith(PREVIEW)
    assert "Subject: Test Times: Hello" in get(url)
