"""After a send, `syndicate publish` leaves the output folder and the state as a build run
right afterwards would: the archive page and the landing page show the email as sent.

A real SMTP server (aiosmtpd) listens on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from conftest import NOW, SITE, MakePublication, article, tree
from leaks import SECRET
from smtp_server import SmtpServer
from syndicate.pipeline import build, publish

ENV = {"SYNDICATE_SECRET": SECRET}


def newsletter(publication: MakePublication, port: int) -> Path:
    config = SITE + (
        '\n[email]\nfrom = "Test Times <news@example.org>"\n'
        'unsubscribe_url = "https://news.example.org/unsubscribe?email={email}&token={token}"\n'
        'subscribers = "subscribers.csv"\nrate = 0\n'
        f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5\n'
    )
    rows = "email,name,status\nreader@example.org,Reader,subscribed\n"
    files = {
        "content/a.md": article("Hello", "2025-01-10"),
        "content/b.md": article("World", "2025-01-11", categories="[Tech]"),
        "subscribers.csv": rows,
    }
    return publication(files, config)


def test_a_publish_that_sent_leaves_what_a_build_makes_afterwards(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        report, delivery = publish(root, NOW, environ=ENV, sleep=lambda _: None)
        assert [o.complete for o in delivery.outcomes] == [True]
    archive = (root / "feeds/digests/index.html").read_text()
    assert report.emails[0].web_url in archive and "next to go out" not in archive
    output, state = tree(root / "feeds"), (root / ".syndicate/state.json").read_bytes()
    again = build(root, NOW)
    assert again.written == () and again.removed == ()
    assert tree(root / "feeds") == output
    assert (root / ".syndicate/state.json").read_bytes() == state
    # The report tells of the whole publish: the build's files and the archive's update.
    assert {"index.html", "digests/index.html", "rss.xml"} <= set(report.written)
    assert report.unchanged == 0


def test_a_dry_run_publish_writes_nothing(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        report, delivery = publish(root, NOW, environ=ENV, dry_run=True, sleep=lambda _: None)
        assert server.messages == [] and delivery.dry_run
    assert not (root / "feeds").exists() and not (root / ".syndicate/state.json").exists()
    assert "digests/index.html" in report.written
