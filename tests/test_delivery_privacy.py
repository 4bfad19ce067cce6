"""Readers' privacy in delivery (issue 23, promises 1 and 2).

1. Nothing an article contains can place, copy or learn a reader's unsubscribe link or
   address: each reader's link goes only where syndicate's templates put it.
2. No address and no unsubscribe token appears in any error, warning, log line or job
   summary, whatever the cause: problems name the subscriber list's line instead.

Real parts: messages sent to aiosmtpd on 127.0.0.1 (tests/smtp_server.py), the CLI run
through CliRunner, and hypothesis over hostile article text and over the classes of
addresses and names a subscriber list can hold.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from click.testing import CliRunner
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mailing
from conftest import NOW, MakePublication, article, tree
from leaks import SECRET
from smtp_server import SmtpServer
from syndicate import markdown
from syndicate.cli import main
from syndicate.config import load_config
from syndicate.content import read_article, read_body
from syndicate.delivery.send import deliver
from syndicate.delivery.subscribers import token
from syndicate.email.digest import Digest
from syndicate.email.render import RenderedDigest, letter, render_digest
from syndicate.errors import SyndicateError
from syndicate.pipeline import permalink, publish

#: What the templates' slot stood for until this fix: an article could contain it.
OLD_MARKER = "https://unsubscribe.invalid/syndicate-personal-link"


def personal(address: str) -> tuple[str, str]:
    """The reader's unsubscribe link as the tests' config makes it, and its token."""
    secret = token(SECRET.encode(), address)
    return mailing.UNSUBSCRIBE_URL.format(email=quote(address, safe=""), token=secret), secret


def assert_only_in_the_slots(text: str, page: str, address: str) -> None:
    """The reader's link is in the text part once and in the HTML part once (the footer's
    slot in each default template), and their token and address nowhere else."""
    link, secret = personal(address)
    encoded = quote(address, safe="")
    assert (text.count(link), text.count(secret), text.count(encoded)) == (1, 1, 1)
    assert (page.count(html.escape(link)), page.count(secret), page.count(encoded)) == (1, 1, 1)
    assert address not in text + page


# --- 1. the link goes only where the templates put it ------------------------------------

HOSTILE_BODY = f"""\
Read [the offer]({OLD_MARKER}) or [this](https://tracker.example.net/?u={OLD_MARKER}).

![pixel](https://tracker.example.net/p.png?u={OLD_MARKER})

<img src="{OLD_MARKER}"> <a href="https://unsubscribe.invalid/">x</a>

Plain text: {OLD_MARKER} {{{{ unsubscribe_url }}}} {{email}} {{token}} %40 &amp;
"""


@pytest.mark.parametrize("mode", ["digest", "article"])
def test_an_article_cannot_place_or_copy_a_readers_link(
    publication: MakePublication, mode: str
) -> None:
    """The old marker and every shape of URL, in the body (whose Markdown source is the
    text part in "article" mode), the title, the summary and a remote image."""
    hostile = article(
        f"Offer {OLD_MARKER}",
        body=HOSTILE_BODY,
        summary=f'"Click {OLD_MARKER}"',
        image=f"https://tracker.example.net/i.png?u={OLD_MARKER}",
    )
    readers = [(f"reader{n}@example.org", f"Reader {n}") for n in range(3)]
    with SmtpServer() as server:
        config = mailing.config(server.port, email=f'mode = "{mode}"\n')
        root = publication(
            {"content/a.md": hostile, "subscribers.csv": mailing.subscribers(readers)}, config
        )
        publish(root, NOW, environ=mailing.ENV, sleep=mailing.no_wait)
        assert mailing.received(server) == {address: 1 for address, _ in readers}
        for received in server.messages:
            message = mailing.parsed(received.data)
            text, page = mailing.parts(message)
            assert OLD_MARKER in text and OLD_MARKER in page  # left as the article wrote it
            assert_only_in_the_slots(text, page, received.recipients[0])


PIECES = st.sampled_from(
    [
        OLD_MARKER,
        "https://unsubscribe.invalid/",
        "https://unsubscribe.invalid/0123456789abcdef0123456789abcdef",
        "https://news.example.org/unsubscribe?email=",
        "{email}",
        "{token}",
        "{{ unsubscribe_url }}",
        "unsubscribe_url",
        "%40",
        "&amp;",
        "](",
        "![x](",
        "<img src=",
        '<a href="',
        ")",
        '">',
        "\n\n",
        " ",
    ]
)
HOSTILE = st.lists(PIECES | st.text(max_size=5), max_size=10).map("".join)
TITLES = st.lists(PIECES | st.text(st.characters(categories=("L", "N", "P")), max_size=5))
SITE_CONFIG = mailing.config(25)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    for mode in ("digest", "article"):
        root = tmp_path_factory.mktemp("privacy") / mode
        (root / "content").mkdir(parents=True)
        (root / "syndicate.toml").write_text(
            mailing.config(25, email=f'mode = "{mode}"\n'), encoding="utf-8"
        )
        made[mode] = root
    return made


def rendered(root: Path, title: str, body: str, image: str) -> RenderedDigest | None:
    """The email of one article with this *title*, *body* and remote *image*."""
    config = load_config(root)
    front = {"title": title, "date": "2025-05-01", "image": image}
    post = root / "content/post.md"
    post.write_text(f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n{body}\n")
    loaded, _ = read_article(post, config)
    if loaded is None:
        return None
    url = permalink(config, loaded)
    body_html = markdown.render(read_body(loaded), loaded, url, config.site.url)
    digest = Digest("2025-05-01-0123456789", loaded.date, (loaded,), sent=False)
    return render_digest(config, digest, {loaded.slug: url}, {loaded.slug: body_html}, {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["digest", "article"]),
    title=TITLES.map("".join).filter(str.strip),
    body=HOSTILE,
    image=HOSTILE.map(lambda text: "https://images.example.net/" + quote(text)),
    local=st.from_regex(r"[a-z][a-z0-9]{3,12}", fullmatch=True),
)
def test_whatever_an_article_says_each_link_fills_only_the_templates_slots(
    sites: dict[str, Path], mode: str, title: str, body: str, image: str, local: str
) -> None:
    email = rendered(sites[mode], title, body, image)
    assume(email is not None)
    assert email is not None
    address = f"zq-{local}@example.org"
    link, _ = personal(address)
    made = letter(load_config(sites[mode]), email, link)
    assert_only_in_the_slots(made.text, made.html, address)


def test_a_template_that_changes_the_link_is_an_error_not_an_email_without_it(
    publication: MakePublication,
) -> None:
    root = publication(
        {
            "content/a.md": article(),
            "templates/email/digest.txt.j2": "Unsubscribe: {{ unsubscribe_url | upper }}\n",
        },
        mailing.config(25),
    )
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert (
        "email/digest.txt.j2: unsubscribe_url must be written as it is, "
        "{{ unsubscribe_url }}, without filters" in result.output
    )


# --- 2. no address and no token in what a run says ----------------------------------------


def assert_names_nobody(said: str, readers: list[tuple[str, str]]) -> None:
    """Neither the address (in any case, its domain in Unicode or in IDNA), nor its local
    part when long enough to be a name, nor the reader's token is in *said*."""
    folded = said.casefold()
    for address, _ in readers:
        local, _, domain = address.rpartition("@")
        _, secret = personal(address)
        ascii_domain = domain.encode("idna").decode("ascii")
        pieces = [address, quote(address, safe=""), f"{local}@{ascii_domain}", secret]
        pieces += [local] if len(local) >= 5 else []
        for piece in pieces:
            assert piece.casefold() not in folded, piece


#: The readers of the tests below, each with what goes wrong for them.
TROUBLED = [
    ("refused-zq@bücher.example", "Refused"),  # 550 naming it, its domain in IDNA
    ("deferred-zq@example.org", "Deferred"),  # 452 naming it, in capitals too
    ("longname-zq@example.org", "N" * 1200),  # no header line can hold that name
    ("l" * 61 + "@" + ".".join(c * 60 for c in "def") + ".example", "Long"),  # link too long
    ("fine-zq@example.org", "Fine"),
]
#: Long enough that the longest address makes a link no header line can hold.
PADDED = mailing.UNSUBSCRIBE_URL + "&pad=" + "p" * 600


def troubled(publication: MakePublication, server: SmtpServer) -> Path:
    server.refuse("refused-zq@xn--bcher-kva.example", 550)
    files = {"content/a.md": article(), "subscribers.csv": mailing.subscribers(TROUBLED)}
    return publication(files, mailing.config(server.port, unsubscribe_url=PADDED))


def test_no_diagnostic_or_log_line_names_a_reader_whatever_goes_wrong(
    publication: MakePublication, caplog: pytest.LogCaptureFixture
) -> None:
    """A refusal and a deferral whose replies echo the address (in other forms too), a name
    too long for any header, an address too long for its link: lines, never readers."""
    caplog.set_level(logging.DEBUG, logger="syndicate")
    with SmtpServer() as server:
        server.defer("deferred-zq@example.org")
        root = troubled(publication, server)
        _, delivery = publish(root, NOW, environ=mailing.ENV, sleep=mailing.no_wait)
        assert mailing.received(server) == {"fine-zq@example.org": 1}
    said = [d.format(relative_to=root) for d in delivery.diagnostics]
    assert_names_nobody("\n".join([*said, *(r.getMessage() for r in caplog.records)]), TROUBLED)
    assert [line.split(": ", 2)[:2] for line in said] == [
        ["subscribers.csv:2", "warning"],
        ["subscribers.csv:4", "warning"],
        ["subscribers.csv:5", "warning"],
        ["subscribers.csv:3", "warning"],
    ]
    assert re.search(r"refused for good by the mail server: .* 550 5\.1\.1 <…@…>: no such", said[0])
    assert "not mailed: To: the reader's name and address has a line longer" in said[1]
    assert "not mailed: unsubscribe URL: the link is longer than 900 characters" in said[2]
    assert "deferred to the next run" in said[3] and "mailbox of …@… is full" in said[3]
    files = {**tree(root / ".syndicate"), **tree(root / "feeds")}
    for address, _ in TROUBLED:
        assert [name for name, data in files.items() if address.encode() in data] == []


def test_no_output_or_job_summary_names_a_reader(
    publication: MakePublication, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    with SmtpServer() as server:
        server.defer("deferred-zq@example.org", times=1)  # taken on the first retry
        root = troubled(publication, server)
        result = CliRunner().invoke(
            main,
            ["-C", str(root), "publish"],
            env={**mailing.ENV, "GITHUB_STEP_SUMMARY": str(summary)},
        )
        assert mailing.received(server) == {"fine-zq@example.org": 1, "deferred-zq@example.org": 1}
    assert result.exit_code == 0, result.output
    assert_names_nobody(result.output + summary.read_text(), TROUBLED)
    for line in (2, 4, 5):
        assert f"subscribers.csv:{line}: warning: " in result.output


def test_an_unsubscribe_url_that_cannot_work_is_reported_without_any_readers_link(
    publication: MakePublication,
) -> None:
    with SmtpServer() as server:
        root = publication(
            {
                "content/a.md": article(),
                "subscribers.csv": mailing.subscribers([("zq-one@example.org", "One")]),
            },
            mailing.config(
                server.port, unsubscribe_url="https://news.example.org/u?e={email} t={token}"
            ),
        )
        result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=mailing.ENV)
        assert result.exit_code == 3
        assert server.messages == []
    assert (
        "email.unsubscribe_url: 'https://news.example.org/u?e={email} t={token}' does not make "
        "a usable link: unsubscribe URL: the link must be ASCII, without spaces" in result.output
    )
    assert_names_nobody(result.output, [("zq-one@example.org", "One")])


# The classes of address a list can hold: ASCII, an internationalised domain, a local part
# that is not ASCII (SMTPUTF8); and of names: empty, plain, quoted, encoded-word lookalikes,
# right-to-left, controls, far too long for a header line.
LOCALS = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,62}[a-z0-9]", fullmatch=True) | st.text(
    st.characters(categories=("Ll", "Lo")), min_size=1, max_size=20
)
DOMAINS = st.sampled_from(
    ["example.org", "bücher.example", "例え.example", "xn--bcher-kva.example", "a.b.example.org"]
)
NAMES = st.text(max_size=40) | st.sampled_from(
    [
        "",
        '"Quoted, Name"',
        "=?utf-8?q?Encoded?=",
        'Ana\\ "O\'Brien"',
        "\u202eevil\u202c",
        "x" * 990,
        "Ngày mới " * 80,
        "a\r\nBcc: victim@example.net",
    ]
)


@pytest.fixture(scope="module")
def due(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RenderedDigest, dict[str, str]]:
    root = tmp_path_factory.mktemp("names") / "pub"
    (root / "content").mkdir(parents=True)
    (root / "syndicate.toml").write_text(SITE_CONFIG.split("\n[email.smtp]")[0], encoding="utf-8")
    email = rendered(root, "Hello", "Body.", "https://images.example.net/a.png")
    assert email is not None
    [slug] = [a.slug for a in email.digest.articles]
    return root, email, {slug: "tag:news.example.org,2025:hello"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local=LOCALS, domain=DOMAINS, name=NAMES)
def test_no_diagnostic_names_the_reader_whatever_their_address_and_name(
    due: tuple[Path, RenderedDigest, dict[str, str]], local: str, domain: str, name: str
) -> None:
    root, email, ids = due
    try:
        address = validate_email(f"{local}@{domain}", check_deliverability=False).normalized
    except EmailNotValidError:
        assume(False)
        return
    (root / "subscribers.csv").write_text(mailing.subscribers([(address, name)]))
    shutil.rmtree(root / "outbox", ignore_errors=True)  # each example a first send
    config = load_config(root)
    try:
        delivery = deliver(config, [email], ids, now=NOW, environ=mailing.ENV)
    except SyndicateError as error:
        said = "\n".join([str(error), *map(str, error.diagnostics)])
    else:
        said = "\n".join(map(str, delivery.diagnostics))
        assert delivery.outcomes[0].sent + delivery.skipped == 1  # sent, or skipped by line
    assert_names_nobody(said, [(address, name)])
    for word in (w for w in name.split() if len(w) >= 8):
        assert word not in said
