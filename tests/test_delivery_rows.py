"""One subscriber row that cannot be addressed or sent never stops the others (issue 23,
promise 4).

An internationalised domain goes out in ASCII (IDNA); a local part that is not ASCII goes
out with SMTPUTF8 where the server offers it, and is otherwise reported by its line and
skipped; a name no header line can hold, and anything else email-validator accepts that
the message builder cannot make, is reported by its line and skipped.  Everyone else gets
the email on this run.  Real parts: aiosmtpd on 127.0.0.1, with and without SMTPUTF8, and
hypothesis over the classes of address and name a list can hold.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mailing
from conftest import NOW, MakePublication, article
from smtp_server import SmtpServer
from syndicate.cli import main
from syndicate.config import load_config
from syndicate.delivery.send import deliver
from syndicate.pipeline import Report, build, publish

INTERNATIONAL = [
    ("ana@bücher.example", "Ana Bücher"),  # IDN domain: sent as xn--bcher-kva
    ("ñandú@example.org", "Ñandú"),  # a local part that is not ASCII: SMTPUTF8
    ("用户@例え.example", "用户"),  # both
    ("plain@example.org", "Plain Reader"),
]


def send_to(
    publication: MakePublication, server: SmtpServer, rows: list[tuple[str, str]]
) -> tuple[Path, object]:
    files = {"content/a.md": article(), "subscribers.csv": mailing.subscribers(rows)}
    root = publication(files, mailing.config(server.port))
    return root, publish(root, NOW, environ=mailing.ENV, sleep=mailing.no_wait)[1]


def test_international_addresses_go_out_with_smtputf8_where_the_server_offers_it(
    publication: MakePublication,
) -> None:
    with SmtpServer(smtputf8=True) as server:
        _, delivery = send_to(publication, server, INTERNATIONAL)
        by_recipient = {m.recipients[0]: m for m in server.messages}
    assert sorted(by_recipient) == sorted(
        [
            "ana@xn--bcher-kva.example",
            "ñandú@example.org",
            "用户@xn--r8jz45g.example",
            "plain@example.org",
        ]
    )
    # SMTPUTF8 only where the address needs it.
    assert [
        "SMTPUTF8" in by_recipient[r].mail_options
        for r in ("ana@xn--bcher-kva.example", "ñandú@example.org", "plain@example.org")
    ] == [False, True, False]
    to = mailing.parsed(by_recipient["ñandú@example.org"].data)["To"]
    assert (to.addresses[0].display_name, to.addresses[0].username) == ("Ñandú", "ñandú")
    # Every other header stays ASCII; the plain readers' messages are ASCII throughout.
    assert by_recipient["plain@example.org"].data.isascii()
    assert by_recipient["ana@xn--bcher-kva.example"].data.isascii()
    assert delivery.outcomes[0].complete  # type: ignore[attr-defined]


def test_without_smtputf8_such_an_address_is_reported_by_its_line_and_the_rest_go_on(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        files = {"content/a.md": article(), "subscribers.csv": mailing.subscribers(INTERNATIONAL)}
        root = publication(files, mailing.config(server.port))
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert sorted(mailing.received(server)) == [
            "ana@xn--bcher-kva.example",
            "plain@example.org",
        ]
    assert result.exit_code == 0, result.output
    for line in (3, 4):
        assert (
            f"subscribers.csv:{line}: warning: not mailed: 127.0.0.1:{server.port} does not "
            "offer SMTPUTF8, which this address needs" in result.output
        )
    assert "2 sent, 0 already done, 0 failed, 2 skipped" in result.output


def test_a_name_no_header_can_hold_is_reported_by_its_line_and_the_rest_go_on(
    publication: MakePublication,
) -> None:
    rows = [("first@example.org", "First"), ("long@example.org", "L" * 1500)]
    rows += [("last@example.org", "Last")]
    with SmtpServer() as server:
        root, delivery = send_to(publication, server, rows)
        assert sorted(mailing.received(server)) == ["first@example.org", "last@example.org"]
    [problem] = [d.format(relative_to=root) for d in delivery.diagnostics]  # type: ignore[attr-defined]
    assert problem == (
        "subscribers.csv:3: warning: not mailed: To: the reader's name and address has a "
        "line longer than SMTP allows"
    )


# --- any address email-validator accepts, any name ----------------------------------------

LOCALS = (
    st.from_regex(
        r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[A-Za-z0-9_-]{1,10}){0,2}", fullmatch=True
    )
    | st.text(st.characters(categories=("Ll", "Lu", "Lo", "Mn", "Nd")), min_size=1, max_size=16)
    | st.sampled_from(["a" * 64, "ñ" * 30])
)
DOMAINS = st.sampled_from(
    [
        "example.org",
        "bücher.example",
        "例え.example",
        "EXAMPLE.ORG",
        "x.y.z.example",
        "d" * 63 + ".example",
    ]
)
NAMES = st.text(max_size=60) | st.sampled_from(
    ["", '"', "\\", "=?utf-8?b?QQ==?=", "A" * 2000, "Ngày " * 400, "\u202e", "a,b;c<d>e@f"]
)


@pytest.fixture(scope="module")
def server() -> Iterator[SmtpServer]:
    with SmtpServer(smtputf8=True) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, server: SmtpServer) -> tuple[Path, Report]:
    root = tmp_path_factory.mktemp("rows") / "pub"
    (root / "content").mkdir(parents=True)
    (root / "content/a.md").write_text(article(), encoding="utf-8")
    (root / "syndicate.toml").write_text(mailing.config(server.port), encoding="utf-8")
    return root, build(root, NOW)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local=LOCALS, domain=DOMAINS, name=NAMES)
def test_any_valid_row_is_sent_or_reported_by_its_line_and_never_stops_the_others(
    server: SmtpServer, site: tuple[Path, Report], local: str, domain: str, name: str
) -> None:
    root, report = site
    try:
        address = validate_email(f"{local}@{domain}", check_deliverability=False).normalized
    except EmailNotValidError:
        assume(False)
        return
    rows = [("before@example.org", "Before"), (address, name), ("after@example.org", "After")]
    (root / "subscribers.csv").write_text(mailing.subscribers(rows), encoding="utf-8")
    shutil.rmtree(root / ".syndicate/journal", ignore_errors=True)  # each example a first send
    start = len(server.messages)
    delivery = deliver(
        load_config(root),
        report.due,
        report.article_ids,
        now=NOW,
        environ=mailing.ENV,
        sleep=mailing.no_wait,
    )
    got = Counter(r for m in server.messages[start:] for r in m.recipients)
    assert got["before@example.org"] == got["after@example.org"] == 1
    [outcome] = delivery.outcomes
    others = sum(got.values()) - 2
    problems = [d for d in delivery.diagnostics if d.line == 3]
    # The reader in between: their one message, or a warning at their line; never both.
    assert (others, len(problems)) in ((1, 0), (0, 1)), problems
    assert (outcome.sent, outcome.skipped) == (2 + others, 1 - others)
    assert all(not d.is_error for d in delivery.diagnostics)
