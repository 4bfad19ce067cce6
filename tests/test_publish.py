"""`syndicate publish` delivers the digest to every subscriber exactly once, whatever happens.

A real SMTP server (aiosmtpd) listens on 127.0.0.1 for each test.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
import trustme
from click.testing import CliRunner

import mailing
from conftest import NOW, REPO, SITE, MakePublication, article, example_copy, tree
from leaks import SECRET, SMTP_PASSWORD
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.delivery.lock import publication_lock
from syndicate.delivery.subscribers import token
from syndicate.errors import DeliveryError
from syndicate.pipeline import publish
from syndicate.state import read_state

ENV = {"SYNDICATE_SECRET": SECRET}
READERS = 200


def readers(count: int = READERS) -> list[str]:
    return [f"reader{n:03}@example.org" for n in range(count)]


def newsletter(
    publication: MakePublication, server: SmtpServer, *, count: int = READERS, smtp: str = ""
) -> Path:
    config = SITE + (
        '\n[email]\nfrom = "Test Times <news@example.org>"\n'
        'unsubscribe_url = "https://news.example.org/unsubscribe?email={email}&token={token}"\n'
        'subscribers = "subscribers.csv"\nrate = 0\n'
        f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
        + (smtp or 'security = "none"\n')
        + "timeout = 5\n"
    )
    rows = ["email,name,status"]
    rows += [f"{address},Reader {n},subscribed" for n, address in enumerate(readers(count))]
    rows += [
        "former-reader@example.org,Former,unsubscribed",
        "returned-mail@example.org,Returned,bounced",
    ]
    files = {"content/a.md": article("Hello"), "subscribers.csv": "\n".join(rows) + "\n"}
    return publication(files, config)


def no_wait(seconds: float) -> None:
    """Retries and backoff happen, without the test waiting for them."""


def received(server: SmtpServer) -> Counter[str]:
    return Counter(r for message in server.messages for r in message.recipients)


def parsed(server: SmtpServer) -> list[EmailMessage]:
    return [
        message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
        for m in server.messages
    ]


def exactly_once(server: SmtpServer, count: int = READERS) -> None:
    assert received(server) == Counter(readers(count))


def test_a_digest_reaches_every_subscriber_exactly_once(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server)
        report, delivery = publish(root, NOW, environ=ENV, sleep=no_wait)
        exactly_once(server)
        [outcome] = delivery.outcomes
        assert (outcome.sent, outcome.already, outcome.failed, outcome.complete) == (
            READERS,
            0,
            0,
            True,
        )
        assert delivery.skipped == 2
        for message in parsed(server):
            address = message["To"].addresses[0].addr_spec
            link = (
                f"https://news.example.org/unsubscribe?email={address.replace('@', '%40')}"
                f"&token={token(SECRET.encode(), address)}"
            )
            assert message["List-Unsubscribe"].startswith(f"<{link}>")
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            text = message.get_body(("plain",))
            assert text is not None and link in text.get_content()
        # The state now records the digest as sent, so nothing is due any more.
        state, _ = read_state(root / ".syndicate/state.json")
        assert [d.id for d in state.digests] == [report.emails[0].digest.id]
        _, again = publish(root, NOW, environ=ENV, sleep=no_wait)
        assert again.outcomes == ()
        assert len(server.messages) == READERS


def test_temporary_refusals_are_retried(publication: MakePublication) -> None:
    with SmtpServer() as server:
        server.fail_first(3, 451)
        _, delivery = publish(newsletter(publication, server), NOW, environ=ENV, sleep=no_wait)
        exactly_once(server)
        assert delivery.outcomes[0].complete


def test_a_dropped_connection_is_reopened_and_nothing_is_sent_twice(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        server.drop_after(50)
        _, delivery = publish(newsletter(publication, server), NOW, environ=ENV, sleep=no_wait)
        exactly_once(server)
        assert len({m.connection for m in server.messages}) == 2
        assert delivery.outcomes[0].complete


def test_one_refused_address_is_reported_and_the_rest_go_on(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        server.refuse("reader007@example.org", 550)
        root = newsletter(publication, server)
        _, delivery = publish(root, NOW, environ=ENV, sleep=no_wait)
        assert received(server) == Counter(a for a in readers() if a != "reader007@example.org")
        [outcome] = delivery.outcomes
        assert (outcome.sent, outcome.failed, outcome.complete) == (READERS - 1, 1, True)
        [problem] = [d.format(relative_to=root) for d in delivery.diagnostics]
        assert problem.startswith("subscribers.csv:9: warning: refused for good by the mail server")
        assert "reader007" not in problem
        _, again = publish(root, NOW, environ=ENV, sleep=no_wait)  # a refusal is not retried
        assert again.outcomes == () and len(server.messages) == READERS - 1


def test_a_send_killed_half_way_finishes_on_the_next_run(
    publication: MakePublication,
) -> None:
    """SIGKILL while the server holds a message it has not accepted yet, then run again."""
    with SmtpServer() as server:
        root = newsletter(publication, server)
        half = mailing.killed_half_way(root, server, READERS)
        assert READERS // 2 <= half < READERS
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=ENV)
        assert result.exit_code == 0, result.output
        exactly_once(server)
        assert f"{READERS - half} sent, {half} already done, 0 failed" in result.output


def test_no_secret_no_smtp_send(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server)
        with pytest.raises(DeliveryError, match="SYNDICATE_SECRET is not set"):
            publish(root, NOW, environ={}, sleep=no_wait)
        assert server.messages == []


def test_two_publishes_at_once_never_both_send(publication: MakePublication) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server)
        with publication_lock(root), pytest.raises(DeliveryError, match="another syndicate"):
            publish(root, NOW, environ=ENV, sleep=no_wait)
        assert server.messages == []


def test_dry_run_says_what_would_be_sent_and_sends_nothing(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server)
        result = CliRunner().invoke(main, ["-C", str(root), "publish", "--dry-run"], env=ENV)
        assert result.exit_code == 0, result.output
        assert "Would send 2025-05-01-" in result.output
        assert "Test Times: Hello" in result.output
        assert "  - Hello\n" in result.output
        assert f"to {READERS} subscribers (0 already done)" in result.output
        assert server.messages == []
        # Only the (git-ignored) lock file: no state, no journal, no output.
        assert [p.name for p in (root / ".syndicate").iterdir()] == ["publish.lock"]
        assert not (root / "feeds").exists()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_certificate_the_machine_trusts(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, security: str
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    options = {"starttls_context": context} if security == "starttls" else {"ssl_context": context}
    with SmtpServer(**options, credentials=("mailer", SMTP_PASSWORD)) as server:
        root = newsletter(publication, server, count=5, smtp=f'security = "{security}"\n')
        # As a maintainer would trust a private CA: OpenSSL reads SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        env = {**ENV, "SYNDICATE_SMTP_USERNAME": "mailer", "SYNDICATE_SMTP_PASSWORD": SMTP_PASSWORD}
        publish(root, NOW, environ=env, sleep=no_wait)
        exactly_once(server, 5)


def test_subscriber_addresses_never_reach_public_or_committed_files(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        server.refuse("reader003@example.org")
        root = newsletter(publication, server, count=10)
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=ENV)
        assert result.exit_code == 0, result.output
        everything = {**tree(root / "feeds"), **tree(root / ".syndicate")}
        for address in [*readers(10), "former-reader@example.org", "returned-mail@example.org"]:
            for local in (address, address.split("@")[0]):
                assert local not in result.output
                assert [n for n, data in everything.items() if local.encode() in data] == []


# --- the outbox -------------------------------------------------------------------


def test_the_example_publication_publishes_into_its_outbox_once(tmp_path: Path) -> None:
    root = example_copy(tmp_path / "example")
    first = CliRunner().invoke(main, ["-C", str(root), "publish"], env={})
    assert first.exit_code == 0, first.output
    [folder] = (root / "outbox").iterdir()
    messages = sorted(folder.glob("*.eml"))
    assert len(messages) == 4  # 8 rows: unsubscribed, bounced, invalid and a duplicate skipped
    assert "4 sent, 0 already done, 0 failed, 4 skipped" in first.output
    to = {message_from_bytes(m.read_bytes(), policy=policy.default)["To"] for m in messages}
    assert "Dewi Lestari <Dewi.Lestari@example.com>" in to
    second = CliRunner().invoke(main, ["-C", str(root), "publish"], env={})
    assert "0 sent, 4 already done" in second.output
    assert sorted(folder.glob("*.eml")) == messages


def test_every_message_is_dkim_signed_when_asked(publication: MakePublication) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"mail._domainkey.example.org." else None

    with SmtpServer() as server:
        dkim_table = '\n[email.dkim]\ndomain = "example.org"\nselector = "mail"\n'
        root = newsletter(publication, server, count=3)
        config = root / "syndicate.toml"
        config.write_text(config.read_text() + dkim_table)
        publish(root, NOW, environ={**ENV, "SYNDICATE_DKIM_KEY": key}, sleep=no_wait)
        exactly_once(server, 3)
        for message in server.messages:
            assert dkim.verify(message.data, dnsfunc=lookup)
            signature = message_from_bytes(message.data, policy=policy.default)["DKIM-Signature"]
            signed = str(signature).replace(" ", "").lower()
            assert "list-unsubscribe:list-unsubscribe-post" in signed.replace("\r\n", "")


def test_dkim_without_its_key_is_an_error_before_anything_is_sent(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = newsletter(publication, server, count=3)
        config = root / "syndicate.toml"
        config.write_text(config.read_text() + '\n[email.dkim]\ndomain = "a.org"\nselector = "s"\n')
        with pytest.raises(DeliveryError, match="SYNDICATE_DKIM_KEY holds no private key"):
            publish(root, NOW, environ=ENV, sleep=no_wait)
        assert server.messages == []


def test_the_token_is_the_one_the_readme_documents() -> None:
    import hashlib
    import hmac

    documented = hmac.new(b"k", b"syndicate unsubscribe\0ana@example.org", hashlib.sha256)
    assert token(b"k", "ana@example.org") == documented.hexdigest()[:32]
    assert "syndicate unsubscribe\\0" in (REPO / "README.md").read_text()


def test_a_real_subscriber_list_tracked_by_git_is_warned_about(
    publication: MakePublication,
) -> None:
    config = SITE + (
        '\n[email]\nfrom = "Test Times <news@example.org>"\n'
        'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
        'subscribers = "list.csv"\n'
    )
    root = publication(
        {"content/a.md": article(), "list.csv": "email,status\nana@realmail.net,subscribed\n"},
        config,
    )
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "list.csv"], check=True)
    result = CliRunner().invoke(main, ["-C", str(root), "publish"], env={})
    assert result.exit_code == 0, result.output
    assert "list.csv: warning: the subscriber list is tracked by git" in result.output
    assert "realmail" not in result.output
