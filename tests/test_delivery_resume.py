"""A digest interrupted mid-send is finished first (issue 23, promise 7).

It goes, with the articles it started with, to exactly the readers it had not reached,
before any newer digest starts; a new article that landed between the killed run and its
rerun goes out in a digest of its own, so that no reader gets an article twice.  Real
parts: ``syndicate publish`` in a process of its own, killed with SIGKILL while the server
(aiosmtpd on 127.0.0.1) holds a message; the rerun through the CLI.
"""

from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner

import mailing
from conftest import MakePublication, article
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.state import read_state

READERS = [f"reader{n:03}@example.org" for n in range(120)]
FIRST, SECOND = "First light", "Second wind"


def titles(data: bytes) -> list[str]:
    text, _ = mailing.parts(mailing.parsed(data))
    return [title for title in (FIRST, SECOND) if title in text]


@pytest.mark.parametrize("mode", ["digest", "article"])
def test_a_killed_send_is_finished_before_a_newer_digest_and_nobody_gets_an_article_twice(
    publication: MakePublication, mode: str
) -> None:
    with SmtpServer() as server:
        rows = [(address, "") for address in READERS]
        root = publication(
            {
                "content/first.md": article(FIRST, "2025-05-01"),
                "subscribers.csv": mailing.subscribers(rows),
            },
            mailing.config(server.port, email=f'mode = "{mode}"\n'),
        )
        half = mailing.killed_half_way(root, server, len(READERS))
        assert len(READERS) // 2 <= half < len(READERS)
        (root / "content/second.md").write_text(article(SECOND, "2025-05-02"), encoding="utf-8")
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert result.exit_code == 0, result.output
        messages = list(server.messages)
    # Every reader has each article exactly once.
    got: dict[str, Counter[str]] = {address: Counter() for address in READERS}
    for message in messages:
        got[message.recipients[0]].update(titles(message.data))
    assert all(count == Counter({FIRST: 1, SECOND: 1}) for count in got.values()), got
    # The rerun finished the first digest, to the readers it had not reached, before it
    # started the next one, which carries only the new article.
    rerun = [titles(m.data) for m in messages[half:]]
    assert rerun == [[FIRST]] * (len(READERS) - half) + [[SECOND]] * len(READERS)
    assert f"{len(READERS) - half} sent, {half} already done, 0 failed" in result.output
    state, _ = read_state(root / ".syndicate/state.json")
    assert [(len(d.articles), d.open) for d in state.digests] == [(1, False), (1, False)]
