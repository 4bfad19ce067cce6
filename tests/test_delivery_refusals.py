"""What a refusal costs (issue 23, promises 5 and 6).

5. A reader whose server keeps saying "not now" (4xx) is deferred to the next run after
   their retries, and the send goes on to the others; a server that says "not now" to
   everyone, or cannot be reached, stops the run instead of costing each reader a cycle.
6. A digest that nobody received (every message refused, at RCPT or at DATA) is a
   delivery failure: exit 3, not recorded as sent, and the next run tries it again.

Real parts: aiosmtpd on 127.0.0.1 (tests/smtp_server.py), the CLI through CliRunner.
Pauses are recorded, not waited for.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import mailing
from conftest import NOW, MakePublication, article
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.delivery.mailing import RETRIES, SERVER_STREAK
from syndicate.pipeline import publish
from syndicate.state import read_state

READERS = [f"reader{n:02}@example.org" for n in range(20)]
SLOW = "reader03@example.org"


def newsletter(publication: MakePublication, server: SmtpServer) -> Path:
    rows = [(address, f"Reader {n}") for n, address in enumerate(READERS)]
    files = {"content/a.md": article("Hello"), "subscribers.csv": mailing.subscribers(rows)}
    return publication(files, mailing.config(server.port))


class Pauses(list[float]):
    """Every pause the run asked for, in seconds, none of them waited."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def digests(root: Path) -> list[tuple[str, bool]]:
    state, problems = read_state(root / ".syndicate/state.json")
    assert problems == []
    return [(record.id, record.open) for record in state.digests]


# --- 5. "not now" -------------------------------------------------------------------------


def test_a_reader_deferred_again_and_again_is_left_for_the_next_run_and_the_rest_go_on(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        server.defer(SLOW)
        root = newsletter(publication, server)
        pauses = Pauses()
        report, delivery = publish(root, NOW, environ=mailing.ENV, sleep=pauses)
        assert mailing.received(server) == Counter(r for r in READERS if r != SLOW)
        [outcome] = delivery.outcomes
        assert (outcome.sent, outcome.deferred, outcome.pending, outcome.complete) == (
            19,
            1,
            0,
            False,
        )
        # One cycle of pauses for the deferred readers together, after everyone else.
        assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0][:RETRIES]
        [warning] = [d.format(relative_to=root) for d in delivery.diagnostics]
        assert warning.startswith("subscribers.csv:5: warning: deferred to the next run: ")
        assert not any(d.is_error for d in delivery.diagnostics)  # exit 0: the rest went out
        # Still open: the next run finishes it before anything newer, for that reader alone.
        [digest_id] = [email.digest.id for email in report.due]
        assert digests(root) == [(digest_id, True)]
        server.faults.deferred.clear()
        _, again = publish(root, NOW + timedelta(hours=1), environ=mailing.ENV, sleep=pauses)
        assert mailing.received(server) == Counter(READERS)
        [outcome] = again.outcomes
        assert (outcome.sent, outcome.already, outcome.complete) == (1, 19, True)
        assert digests(root) == [(digest_id, False)]


def test_a_reader_deferred_for_a_moment_gets_the_email_in_the_same_run(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        server.defer(SLOW, times=2)
        pauses = Pauses()
        _, delivery = publish(
            newsletter(publication, server), NOW, environ=mailing.ENV, sleep=pauses
        )
        assert mailing.received(server) == Counter(READERS)
        assert delivery.outcomes[0].complete and pauses == [1.0, 2.0]
        assert delivery.diagnostics == ()
        # The others did not wait for that reader.
        assert [m.recipients[0] for m in server.messages][-1] == SLOW


def test_a_server_that_says_not_now_to_everyone_stops_the_run_at_once(
    publication: MakePublication,
) -> None:
    """That is the server (a rate limit, an outage), not the readers: no cycle of pauses
    for each of them, nobody deferred, everyone left for the next run."""
    with SmtpServer() as server:
        server.fail_first(1_000, 451)
        root = newsletter(publication, server)
        pauses = Pauses()
        _, delivery = publish(root, NOW, environ=mailing.ENV, sleep=pauses)
        assert server.messages == [] and pauses == []
        [outcome] = delivery.outcomes
        assert (outcome.pending, outcome.deferred, outcome.complete) == (20, 0, False)
        [error] = [d.format(relative_to=root) for d in delivery.diagnostics]
        assert error == (
            f"syndicate.toml: error: digest {outcome.digest_id}: the mail server said not now "
            f"(4xx) to {SERVER_STREAK} recipients in a row: it is the server, not them; 20 "
            "recipients left for the next run"
        )
        assert server.faults.fail_left == 1_000 - SERVER_STREAK
        server.fail_first(0)
        publish(root, NOW, environ=mailing.ENV, sleep=pauses)
        assert mailing.received(server) == Counter(READERS)


def test_a_server_gone_mid_send_costs_one_cycle_of_retries_not_one_per_reader(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server)
        pauses = Pauses()

        def down(count: int) -> None:
            if count == 5:
                server.stall(60)  # every RCPT from now on waits past the timeout

        server.after_accept = down
        config = root / "syndicate.toml"
        config.write_text(config.read_text().replace("timeout = 5", "timeout = 0.2"))
        _, delivery = publish(root, NOW, environ=mailing.ENV, sleep=pauses)
        server.faults.stall_left = 0
    [outcome] = delivery.outcomes
    assert (outcome.sent, outcome.pending, outcome.complete) == (5, 15, False)
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert [d.is_error for d in delivery.diagnostics] == [True]


# --- 6. nobody received it ----------------------------------------------------------------


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_a_digest_everyone_refused_is_a_failure_and_goes_out_on_the_next_run(
    publication: MakePublication, at: str
) -> None:
    with SmtpServer() as server:
        server.fail_first(len(READERS), 554, at=at)
        root = newsletter(publication, server)
        first = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert server.messages == []
        assert first.exit_code == 3, first.output
        assert "0 sent, 0 already done, 20 failed" in first.output
        assert "NOT complete: run publish again" in first.output
        assert (
            "nobody received it (20 refused, 0 not mailed), so it is not recorded as sent: "
            "the next run tries it again" in first.output
        )
        assert digests(root) == []  # neither sent nor open
        second = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert second.exit_code == 0, second.output
        assert mailing.received(server) == Counter(READERS)
        assert "20 sent, 0 already done, 0 failed" in second.output


def test_a_digest_only_some_refused_counts_as_sent(publication: MakePublication) -> None:
    with SmtpServer() as server:
        server.fail_first(5, 554, at="DATA")
        root = newsletter(publication, server)
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert result.exit_code == 0, result.output
        assert "15 sent, 0 already done, 5 failed" in result.output and "complete" in result.output
        [(_, still_open)] = digests(root)
        assert not still_open
        again = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert "none is due" in again.output and len(server.messages) == 15
