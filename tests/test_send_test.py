"""`syndicate send-test`: the email that is due, to a few addresses, counting for nothing.

A test send goes over the configured transport (a real SMTP server, aiosmtpd on 127.0.0.1,
or the outbox) to the addresses given and to nobody else; it writes nothing in the
publication (no journal, no state, no feeds), and the next publish sends the real email to
every subscriber as if there had been no test.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from click.testing import CliRunner, Result

import mailing
from conftest import MakePublication, article, tree
from leaks import SECRET
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.delivery.lock import publication_lock
from syndicate.delivery.subscribers import token

READERS = [f"reader{n}@example.org" for n in range(5)]
EDITOR, DESK = "editor@example.net", "desk@example.net"
#: An editor who reads the newsletter too: on the list (so in no other file).
CHIEF = "chief@example.net"
FIRST, SECOND = "First light", "Second wind"


def newsletter(publication: MakePublication, port: int, *, email: str = "") -> Path:
    """A publication whose first digest (FIRST) went to every reader, and whose second
    article (SECOND) is due."""
    root = publication(
        {
            "content/first.md": article(FIRST, "2025-05-01"),
            "subscribers.csv": mailing.subscribers((address, "") for address in READERS),
        },
        mailing.config(port, email=email),
    )
    assert cli(root, "publish").exit_code == 0
    (root / "content/second.md").write_text(article(SECOND, "2025-05-02"), encoding="utf-8")
    return root


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], env=mailing.ENV)


def subjects(server: SmtpServer) -> list[str]:
    return [str(mailing.parsed(m.data)["Subject"]) for m in server.messages]


def test_a_test_reaches_only_its_addresses_records_nothing_and_the_real_send_follows(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        server.messages.clear()
        before = tree(root)
        result = cli(root, "send-test", "--to", EDITOR, "--to", DESK)
        assert result.exit_code == 0, result.output
        [line, note] = result.stdout.splitlines()
        assert re.fullmatch(
            r"Test of 2025-05-02-[0-9a-f]{10} \(1 article\) sent to 2 of 2 addresses through "
            rf"smtp 127\.0\.0\.1:{server.port}: \[TEST\] Test Times: {SECOND}",
            line,
        ), line
        assert note == "Nothing was recorded and no reader got it: the next publish is unchanged."
        # Only the test addresses got it, marked as a test, with what the next email carries.
        assert mailing.received(server) == Counter([EDITOR, DESK])
        assert subjects(server) == [f"[TEST] Test Times: {SECOND}"] * 2
        text, _ = mailing.parts(mailing.parsed(server.messages[0].data))
        assert SECOND in text and FIRST not in text
        # Nothing in the publication changed: the journal, the state, the feeds, byte for byte.
        assert tree(root) == before
        server.messages.clear()

        published = cli(root, "publish")
        assert published.exit_code == 0, published.output
        assert "5 sent, 0 already done, 0 failed" in published.output
    assert mailing.received(server) == Counter(READERS)
    assert subjects(server) == [f"Test Times: {SECOND}"] * len(READERS)


def test_a_test_copy_is_a_message_of_its_own_with_a_link_that_unsubscribes_only_its_address(
    publication: MakePublication,
) -> None:
    """The chief editor reads the newsletter too: the test copy and the real one must both arrive
    (a Message-ID seen before gets a message dropped as a duplicate), and the test's
    unsubscribe link is the chief's own, never a reader's, and works like any other."""
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        rows = [(address, "") for address in [*READERS, CHIEF]]
        (root / "subscribers.csv").write_text(mailing.subscribers(rows), encoding="utf-8")
        server.messages.clear()
        assert cli(root, "send-test", "--to", CHIEF).exit_code == 0
        assert cli(root, "send-test", "--to", CHIEF).exit_code == 0
        assert cli(root, "publish").exit_code == 0
        to_chief = [
            mailing.parsed(m.data) for m in server.messages if m.recipients == (CHIEF,)
        ]
    assert [str(m["Subject"]) for m in to_chief] == [
        f"[TEST] Test Times: {SECOND}",
        f"[TEST] Test Times: {SECOND}",
        f"Test Times: {SECOND}",
    ]
    # CliRunner's clock moves on between the runs, so each test has an identity of its own.
    assert len({str(m["Message-ID"]) for m in to_chief}) == 3
    own = (
        f"https://news.example.org/unsubscribe?email={CHIEF.replace('@', '%40')}"
        f"&token={token(SECRET.encode(), CHIEF)}"
    )
    test_copy = to_chief[0]
    assert str(test_copy["List-Unsubscribe"]).startswith(f"<{own}>")
    text, html = mailing.parts(test_copy)
    assert own in text and own.replace("&", "&amp;") in html
    assert not any(reader.split("@")[0] in text + html for reader in READERS)


def test_a_past_digest_is_sent_again_as_a_test_by_its_id(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        [first_id] = [p.name for p in (root / "feeds/digests").iterdir() if p.is_dir()]
        server.messages.clear()
        before = tree(root)
        result = cli(root, "send-test", "--to", EDITOR, "--digest", first_id)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(
            f"Test of {first_id} (1 article, sent to readers before) sent to 1 of 1 address "
        )
        assert subjects(server) == [f"[TEST] Test Times: {FIRST}"]
        assert tree(root) == before


def test_with_nothing_due_it_says_so_and_sends_nothing(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        (root / "content/second.md").unlink()
        server.messages.clear()
        result = cli(root, "send-test", "--to", EDITOR)
        [first_id] = [p.name for p in (root / "feeds/digests").iterdir() if p.is_dir()]
        assert result.exit_code == 1
        assert result.stderr == (
            "syndicate: no email is due: nothing was published since the last one. To send a "
            "past digest as a test, name it: syndicate send-test --digest ID "
            f"(the latest: {first_id})\n"
        )
        assert not result.stdout
        unknown = cli(root, "send-test", "--to", EDITOR, "--digest", "2025-01-01-0000000000")
        assert unknown.exit_code == 1
        assert unknown.stderr == (
            f'syndicate: no digest "2025-01-01-0000000000" (the latest: {first_id})\n'
        )
        assert server.messages == []


def test_an_address_that_is_not_one_is_named_by_its_position_and_nothing_is_sent(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        server.messages.clear()
        result = cli(root, "send-test", "--to", EDITOR, "--to", "desk.example.net")
        assert result.exit_code == 2
        assert (
            "Error: Invalid value for '--to': #2, \"desk.example.net\", is not a valid address "
            "(An email address must have an @-sign.)\n"
        ) in result.stderr, result.stderr
        assert server.messages == []


def test_without_to_it_sends_to_test_to_and_without_either_it_says_what_to_do(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        addresses = f'test_to = ["{EDITOR}", "{DESK}", "Editor@example.net"]\n'
        root = newsletter(publication, server.port, email=addresses)
        server.messages.clear()
        result = cli(root, "send-test")
        assert result.exit_code == 0, result.output
        assert "sent to 2 of 2 addresses" in result.stdout
        assert mailing.received(server) == Counter([EDITOR, DESK])

        config = (root / "syndicate.toml").read_text(encoding="utf-8")
        (root / "syndicate.toml").write_text(config.replace("test_to", "# test_to"))
        nobody = cli(root, "send-test")
        assert nobody.exit_code == 1
        assert nobody.stderr == (
            "syndicate: no test address: give --to ADDRESS, or list addresses in "
            "[email] test_to\n"
        )
        (root / "syndicate.toml").write_text(config.replace(DESK, "desk.example.net"))
        wrong = cli(root, "send-test")
        assert wrong.exit_code == 1
        line = next(n for n, text in enumerate(config.splitlines(), 1) if "test_to" in text)
        assert (
            f"syndicate.toml:{line}: error: email.test_to: item 2 is not a valid address "
            "(An email address must have an @-sign.)"
        ) in wrong.stderr, wrong.stderr
        assert len(server.messages) == 2


def test_a_refused_test_address_is_reported_by_position_and_fails_the_run(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        server.messages.clear()
        server.refuse(DESK, 550)
        result = cli(root, "send-test", "--to", DESK, "--to", EDITOR)
        assert result.exit_code == 3
        assert re.search(
            r"^syndicate: --to #1: refused for good by the mail server: 127\.0\.0\.1:\d+ "
            r"refused it: 550 5\.1\.1 <…@…>: no such mailbox$",
            result.stderr,
            re.MULTILINE,
        ), result.stderr
        assert "sent to 1 of 2 addresses" in result.stdout
        assert mailing.received(server) == Counter([EDITOR])


def test_no_test_goes_out_while_a_publish_holds_the_lock(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server.port)
        server.messages.clear()
        with publication_lock(root.resolve()):
            result = cli(root, "send-test", "--to", EDITOR)
        assert result.exit_code == 3
        assert "another syndicate publish is running on this publication" in result.stderr
        assert server.messages == []


def test_in_the_outbox_a_test_has_a_folder_of_its_own_and_the_rehearsal_still_mails_everyone(
    publication: MakePublication,
) -> None:
    config = mailing.config(0)
    root = publication(
        {
            "content/first.md": article(FIRST, "2025-05-01"),
            "subscribers.csv": mailing.subscribers((address, "") for address in READERS),
        },
        config[: config.index("[email.smtp]")],
    )
    result = cli(root, "send-test", "--to", EDITOR)
    assert result.exit_code == 0, result.output
    [folder] = (root / "outbox").iterdir()
    assert re.fullmatch(r"2025-05-01-[0-9a-f]{10}\.test-\d{8}T\d{12}Z", folder.name), folder.name
    assert f"through the outbox (outbox/{folder.name}/)" in result.stdout
    assert [p.name for p in folder.iterdir()] == ["test-1.eml"]
    message = mailing.parsed((folder / "test-1.eml").read_bytes())
    assert (message["To"], message["Subject"]) == (EDITOR, f"[TEST] Test Times: {FIRST}")

    assert cli(root, "publish").exit_code == 0
    rehearsal = root / "outbox" / folder.name.split(".")[0]
    assert len(list(rehearsal.glob("*.eml"))) == len(READERS)
