"""The MIME message of one email: every header, both parts, and what hostile text cannot do.

Each test builds a message, writes it to bytes, and reads the bytes back with
Python's own ``email`` parser, as a mail program would.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import NOW
from syndicate.email.headers import MAX_LINE_OCTETS, message_id
from syndicate.email.message import ONE_CLICK, Letter, build_message, transfer_encoding
from syndicate.errors import RenderError

DOMAIN = "syndicate-news.github.io"
DIGEST = "2026-01-01-0a1b2c3d4e"
READER = "mai.nguyen@example.org"
UNSUBSCRIBE = f"https://{DOMAIN}/unsubscribe?token=6f1c0e5a9b7d4c3e8f2a1b0c9d8e7f6a"
MAILTO = "mailto:unsubscribe@syndicate-news.example.org?subject=unsubscribe"
BCC = "Bcc: victim@example.org"

LETTER = Letter(
    subject="Syndicate Dispatch: Open source in Southeast Asia",
    text="Open source in Southeast Asia\n\nRead it at https://example.org/posts/open-source/\n",
    html="<!doctype html>\n<html><body><p>Open source in Southeast Asia</p></body></html>\n",
    sender="Syndicate Dispatch <news@syndicate-news.example.org>",
    reply_to="Editors <editors@syndicate-news.example.org>",
    list_id=f"Syndicate Dispatch <syndicate-dispatch.{DOMAIN}>",
    domain=DOMAIN,
)


def build(
    letter: Letter = LETTER,
    *,
    to: str = READER,
    unsubscribe_url: str = UNSUBSCRIBE,
    unsubscribe_mailto: str | None = MAILTO,
    date: datetime = NOW,
    **changes: Any,
) -> EmailMessage:
    """The message of *letter* (with *changes*) for *to*."""
    return build_message(
        replace(letter, **changes),
        to=to,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto,
        message_id=message_id(DIGEST, READER, DOMAIN),
        date=date,
    )


def read(raw: bytes) -> EmailMessage:
    """*raw* as a mail program reads it."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> list[EmailMessage]:
    found = list(message.iter_parts())
    assert all(isinstance(part, EmailMessage) for part in found)
    return found  # type: ignore[return-value]


def body_lines(raw: bytes) -> list[bytes]:
    """The physical lines of everything after the top-level header block of *raw*."""
    return raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")


def header_lines(raw: bytes) -> list[bytes]:
    """The physical lines of the top-level header block of *raw*."""
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def field_lines(raw: bytes, name: bytes) -> list[bytes]:
    """The physical lines of the top-level header *name* of *raw*, folded as sent."""
    lines: list[bytes] = []
    for line in header_lines(raw):
        if line.startswith(name + b":") or (lines and line[:1] in b" \t"):
            lines.append(line)
        elif lines:
            break
    return lines


# -- Headers ---------------------------------------------------------------------------------


def test_every_header_the_delivery_stage_needs_reads_back() -> None:
    back = read(build().as_bytes())

    assert back["Date"] == "Thu, 01 Jan 2026 12:00:00 +0000"
    assert back["Date"].datetime == NOW
    assert back["Message-ID"] == message_id(DIGEST, READER, DOMAIN)
    assert [(a.display_name, a.addr_spec) for a in back["From"].addresses] == [
        ("Syndicate Dispatch", "news@syndicate-news.example.org")
    ]
    assert [a.addr_spec for a in back["To"].addresses] == [READER]
    assert [(a.display_name, a.addr_spec) for a in back["Reply-To"].addresses] == [
        ("Editors", "editors@syndicate-news.example.org")
    ]
    assert back["Subject"] == "Syndicate Dispatch: Open source in Southeast Asia"
    assert back["List-Id"] == f"Syndicate Dispatch <syndicate-dispatch.{DOMAIN}>"
    assert back["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>, <{MAILTO}>"
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" == ONE_CLICK
    assert back["Auto-Submitted"] == "auto-generated"
    assert back["MIME-Version"] == "1.0"


def test_a_retry_of_the_same_message_is_the_same_bytes() -> None:
    assert build().as_bytes() == build().as_bytes()


def test_text_that_is_not_valid_unicode_is_refused() -> None:
    with pytest.raises(RenderError, match="not valid Unicode"):
        build(html="<p>\udcff</p>")


def test_precedence_is_not_sent() -> None:
    # Never standardised (RFC 2076 calls it discouraged); Auto-Submitted and List-Id
    # already tell responders and filters what this mail is.
    assert "Precedence" not in read(build().as_bytes())


def test_every_header_comes_back_exactly_as_set() -> None:
    message = build(
        subject="Tin Tức: Nguyễn Thị Mai viết về mã nguồn mở ở Đông Nam Á, và nhiều điều nữa",
        sender="Nguyễn Thị Mai <mai@example.org>",
        list_id=f"Tin Tức Hà Nội <tin-tuc.{DOMAIN}>",
    )
    back = read(message.as_bytes())

    assert list(back.keys()) == list(message.keys())
    for name in message:
        assert [str(v) for v in back.get_all(name, [])] == [str(message[name])], name


def test_date_keeps_the_offset_it_was_given() -> None:
    saigon = datetime(2026, 1, 1, 19, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

    back = read(build(date=saigon).as_bytes())

    assert back["Date"] == format_datetime(saigon) == "Thu, 01 Jan 2026 19:00:00 +0700"
    assert back["Date"].datetime == saigon


def test_a_date_without_timezone_is_refused() -> None:
    with pytest.raises(RenderError, match="no timezone"):
        build(date=datetime(2026, 1, 1, 12, 0))


def test_reply_to_is_sent_only_when_given() -> None:
    assert "Reply-To" not in read(build(reply_to=None).as_bytes())


def test_list_unsubscribe_has_only_the_https_url_without_a_mailto() -> None:
    back = read(build(unsubscribe_mailto=None).as_bytes())

    assert back["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_long_unsubscribe_url_is_folded_between_urls_never_encoded() -> None:
    url = f"https://{DOMAIN}/unsubscribe?email=mai.nguyen%40example.org&token={'ab' * 40}"

    raw = build(unsubscribe_url=url).as_bytes()

    assert f"<{url}>,".encode() in raw
    assert read(raw)["List-Unsubscribe"] == f"<{url}>, <{MAILTO}>"
    assert max(len(line) for line in raw.split(b"\r\n")) <= MAX_LINE_OCTETS


@pytest.mark.parametrize(
    "url",
    [
        f"http://{DOMAIN}/unsubscribe",
        f"ftp://{DOMAIN}/unsubscribe",
        "javascript:alert(1)",
        f"//{DOMAIN}/unsubscribe",
        "/unsubscribe",
        "https:///no-host",
        "",
    ],
)
def test_an_unsubscribe_url_that_is_not_https_is_refused(url: str) -> None:
    with pytest.raises(RenderError, match="RFC 8058"):
        build(unsubscribe_url=url)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{DOMAIN}/u?t=1\r\n{BCC}",
        f"https://{DOMAIN}/u?t=1 2",
        f"https://{DOMAIN}/u?t=1>, <https://evil.example.org/",
        f"https://{DOMAIN}/hủy-đăng-ký",
    ],
)
def test_an_unsubscribe_url_must_be_one_plain_ascii_uri(url: str) -> None:
    with pytest.raises(RenderError, match="percent-encode"):
        build(unsubscribe_url=url)


def test_an_unsubscribe_url_too_long_for_a_line_is_refused() -> None:
    with pytest.raises(RenderError, match="longer than"):
        build(unsubscribe_url=f"https://{DOMAIN}/u?t={'a' * 1000}")


@pytest.mark.parametrize(
    "mailto", ["unsubscribe@example.org", "mailto:", f"https://{DOMAIN}/", "mailto:a\r\nb@x.org"]
)
def test_an_unsubscribe_mailto_must_be_a_mailto_uri(mailto: str) -> None:
    with pytest.raises(RenderError, match="mailto"):
        build(unsubscribe_mailto=mailto)


# -- The two parts ---------------------------------------------------------------------------


def test_the_message_is_multipart_alternative_with_the_text_part_first() -> None:
    back = read(build().as_bytes())

    assert back.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts(back)] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts(back)] == ["utf-8", "utf-8"]
    assert back.get_body(("plain",)) is parts(back)[0]
    assert back.get_body(("html", "plain")) is parts(back)[1]


def test_both_parts_decode_to_the_exact_input() -> None:
    text = "Xin chào Mai,\n\nTin mới: “Mã nguồn mở” ở Đông Nam Á 🌏\n\nTạm biệt\n"
    html = '<!doctype html>\n<html lang="vi"><body><p>Xin chào — “Tin mới” 🌏</p></body></html>\n'

    text_part, html_part = parts(read(build(text=text, html=html).as_bytes()))

    # Text travels with CRLF line breaks, the canonical form of text/* (RFC 2046 4.1.1).
    assert text_part.get_content() == text.replace("\n", "\r\n")
    assert html_part.get_content() == html.replace("\n", "\r\n")


def test_the_body_is_7bit_clean_whatever_the_input() -> None:
    raw = build(text="Đông Nam Á 🌏\n", html="<p>ภาษาไทย 中文</p>\n").as_bytes()

    assert raw.isascii()


def test_a_5000_character_html_line_is_wrapped_within_the_smtp_line_limit() -> None:
    html = "<p>" + " ".join(f"word{i}" for i in range(1000))[:4993] + "</p>"
    assert len(html) == 5000 and "\n" not in html

    raw = build(html=html).as_bytes()

    assert max(len(line) for line in raw.split(b"\r\n")) <= MAX_LINE_OCTETS
    assert max(len(line) for line in body_lines(raw)) <= 78
    assert parts(read(raw))[1].get_content() == html + "\r\n"


def test_a_5000_character_non_ascii_html_line_is_wrapped_too() -> None:
    html = "<p>" + "Mã nguồn mở " * 420 + "</p>"

    raw = build(html=html).as_bytes()

    assert max(len(line) for line in body_lines(raw)) <= 78
    assert parts(read(raw))[1].get_content() == html + "\r\n"


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("Open source in Southeast Asia\n", "quoted-printable"),
        ('<a href="https://example.org/">Open source</a>\n', "quoted-printable"),
        ("Café, crème brûlée and the week's open source news.\n", "quoted-printable"),
        ("Xin chào, đây là bản tin của chúng tôi.\n", "base64"),
        ("ภาษาไทยเป็นภาษาที่มีความซับซ้อน\n", "base64"),
        ("开源软件在东南亚\n", "base64"),
    ],
)
def test_each_part_is_encoded_in_whichever_of_qp_and_base64_is_shorter(
    body: str, encoding: str
) -> None:
    assert transfer_encoding(body) == encoding
    text_part, _ = parts(read(build(text=body).as_bytes()))
    assert text_part["Content-Transfer-Encoding"] == encoding
    assert text_part.get_content() == body.replace("\n", "\r\n")


# -- Non-ASCII headers -----------------------------------------------------------------------


def test_a_non_ascii_subject_is_rfc_2047_encoded_and_decodes_back() -> None:
    subject = "Tin Tức: Mã nguồn mở ở Đông Nam Á"

    raw = build(subject=subject).as_bytes()

    assert b"=?utf-8?" in raw
    assert raw.isascii()
    assert read(raw)["Subject"] == subject


def test_a_long_non_ascii_subject_keeps_every_space_when_folded() -> None:
    # Python's own folder drops spaces between encoded-words here (CPython gh-92081).
    subject = "Tin Tức: " + "Nguyễn Thị Mai viết về mã nguồn mở ở Đông Nam Á, " * 5 + "và hơn nữa"

    raw = build(subject=subject).as_bytes()

    lines = field_lines(raw, b"Subject")
    assert len(lines) > 2
    assert max(len(line) for line in lines) <= 78
    assert read(raw)["Subject"] == subject


def test_a_long_ascii_subject_is_folded_and_reads_back() -> None:
    subject = "Syndicate Dispatch: " + "open source in Southeast Asia, " * 8 + "and more"

    raw = build(subject=subject).as_bytes()

    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]
    assert read(raw)["Subject"] == subject


def test_a_subject_that_looks_like_an_encoded_word_is_shown_as_written() -> None:
    subject = "How =?utf-8?q?this?= works"

    assert read(build(subject=subject).as_bytes())["Subject"] == subject


def test_a_non_ascii_display_name_is_encoded_and_decodes_back() -> None:
    raw = build(sender="Nguyễn Thị Mai <mai@example.org>", to="Trần Văn An <an@example.org>")

    back = read(raw.as_bytes())

    assert b"From: =?utf-8?" in raw.as_bytes()
    assert [(a.display_name, a.addr_spec) for a in back["From"].addresses] == [
        ("Nguyễn Thị Mai", "mai@example.org")
    ]
    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        ("Trần Văn An", "an@example.org")
    ]


def test_a_long_non_ascii_display_name_keeps_every_space() -> None:
    # Python's own folder leaves spaces between encoded-words, where readers drop them.
    name = "Bản tin Mã nguồn mở Đông Nam Á của Syndicate và những người bạn thân thiết nhất"

    raw = build(sender=f"{name} <news@example.org>").as_bytes()

    lines = field_lines(raw, b"From")
    assert len(lines) > 1 and max(len(line) for line in lines) <= 78
    words = b" ".join(lines).decode("ascii").removeprefix("From: ").split()
    assert words[-1] == "<news@example.org>"
    # Decoded by the letter of RFC 2047 (email.header), the name is exact...
    assert str(make_header(decode_header(" ".join(words[:-1])))) == name
    # ...while Python's address parser adds a space between encoded-words (RFC 2047 6.2
    # says to drop it), so it is compared without spaces.
    (address,) = read(raw)["From"].addresses
    assert address.addr_spec == "news@example.org"
    assert address.display_name.replace(" ", "") == name.replace(" ", "")


def test_a_long_ascii_display_name_is_folded_between_its_words() -> None:
    name = "The Syndicate Dispatch Weekly Digest of Open Source News from Southeast Asia"

    raw = build(sender=f"{name} <news@example.org>").as_bytes()

    assert len(field_lines(raw, b"From")) > 1
    assert read(raw)["From"].addresses[0].display_name == name


def test_a_display_name_with_specials_is_quoted() -> None:
    back = read(build(sender='"Dispatch, The" <news@example.org>').as_bytes())

    assert back["From"].addresses[0].display_name == "Dispatch, The"
    assert len(back["From"].addresses) == 1


def test_an_unquoted_name_with_a_period_is_accepted_and_sent_quoted() -> None:
    raw = build(sender="J. Smith <j@example.org>").as_bytes()

    assert b'From: "J. Smith" <j@example.org>' in raw
    assert read(raw)["From"].addresses[0].display_name == "J. Smith"


def test_an_internationalised_domain_is_sent_in_ascii() -> None:
    back = read(build(to="An <an@tin-tức.vn>").as_bytes())

    assert back["To"].addresses[0].addr_spec == "an@xn--tin-tc-fr8b.vn"


def test_a_non_ascii_list_description_is_encoded_and_the_list_id_is_not() -> None:
    raw = build(list_id=f"Tin Tức Hà Nội <tin-tuc.{DOMAIN}>").as_bytes()

    assert f"<tin-tuc.{DOMAIN}>".encode() in raw
    assert read(raw)["List-Id"] == f"Tin Tức Hà Nội <tin-tuc.{DOMAIN}>"


def test_a_list_description_with_specials_is_quoted() -> None:
    back = read(build(list_id=f"Dispatch: weekly <dispatch.{DOMAIN}>").as_bytes())

    assert back["List-Id"] == f'"Dispatch: weekly" <dispatch.{DOMAIN}>'


def test_a_list_id_may_have_no_description() -> None:
    assert read(build(list_id=f"<dispatch.{DOMAIN}>").as_bytes())["List-Id"] == (
        f"<dispatch.{DOMAIN}>"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Syndicate Dispatch",
        "Syndicate Dispatch <nodot>",
        f"Syndicate Dispatch <dispatch.{DOMAIN}",
        f"Syndicate Dispatch <dis patch.{DOMAIN}>",
        "Syndicate Dispatch <dispatch.exa\r\nmple.org>",
        f"Syndicate Dispatch <{'a' * 250}.{DOMAIN}>",
    ],
)
def test_a_list_id_that_is_not_rfc_2919_is_refused(value: str) -> None:
    with pytest.raises(RenderError, match="List-Id"):
        build(list_id=value)


# -- Hostile text ----------------------------------------------------------------------------

BREAKS = ["\r\n", "\n", "\r", "\x00", "\x0b", "\r\n\r\n", "\t\r\n ", "\u2028", "\x85"]


def assert_no_injection(raw: bytes, name: str) -> EmailMessage:
    """*raw* has exactly one *name* header and no Bcc: nothing started a header of its own."""
    back = read(raw)
    assert len(back.get_all(name, [])) == 1
    assert "Bcc" not in back
    assert not any(line.lower().startswith(b"bcc") for line in header_lines(raw))
    assert back.get_body(("plain",)) is not None
    return back


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_the_subject_cannot_start_a_header(brk: str) -> None:
    raw = build(subject=f"Hello{brk}{BCC}").as_bytes()

    back = assert_no_injection(raw, "Subject")
    assert back["Subject"] == f"Hello {BCC}"


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_a_non_ascii_subject_cannot_start_a_header(brk: str) -> None:
    raw = build(subject=f"Xin chào{brk}{BCC}").as_bytes()

    assert assert_no_injection(raw, "Subject")["Subject"] == f"Xin chào {BCC}"


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("header", ["From", "Reply-To", "To"])
def test_a_line_break_in_a_display_name_cannot_start_a_header(header: str, brk: str) -> None:
    value = f'"Evil{brk}{BCC}" <news@example.org>'
    changes = {"From": {"sender": value}, "Reply-To": {"reply_to": value}, "To": {"to": value}}

    raw = build(**changes[header]).as_bytes()

    back = assert_no_injection(raw, header)
    assert [(a.display_name, a.addr_spec) for a in back[header].addresses] == [
        (f"Evil {BCC}", "news@example.org")
    ]


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_a_non_ascii_display_name_cannot_start_a_header(brk: str) -> None:
    raw = build(to=f'"Nguyễn{brk}{BCC}" <mai@example.org>').as_bytes()

    back = assert_no_injection(raw, "To")
    assert back["To"].addresses[0].display_name == f"Nguyễn {BCC}"


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_the_list_id_cannot_start_a_header(brk: str) -> None:
    raw = build(list_id=f"Dispatch{brk}{BCC} <dispatch.{DOMAIN}>").as_bytes()

    back = assert_no_injection(raw, "List-Id")
    assert back["List-Id"] == f'"Dispatch {BCC}" <dispatch.{DOMAIN}>'


def test_an_unquoted_name_with_a_line_break_is_refused_as_not_one_address() -> None:
    # Made one line it reads "Evil Bcc: victim@example.org <...>", an RFC 5322 group.
    with pytest.raises(RenderError, match="not one address"):
        build(sender=f"Evil\r\n{BCC} <news@example.org>")


def test_a_long_quoted_name_stays_one_address() -> None:
    # Python's own folder drops the quotes of a quoted name too long for a line, making
    # it several addresses (CPython gh-80222): the reader's name must never do that.
    name = "Nguyen, Mai; " * 8 + "the reader with the longest name, victim@example.org"

    back = read(build(to=f'"{name}" <mai@example.org>').as_bytes())

    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        (name, "mai@example.org")
    ]


# -- Addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "a@example.org, b@example.org",
        "Mai <a@example.org>, An <b@example.org>",
        "no-at-sign",
        "Mai <no-at-sign>",
        "mai\r@example.org",
        "mai\r\n@example.org",
        "Mai <mai@exa\r\nmple.org>",
        "Mai <mai@example.org> trailing",
        "Readers: a@example.org, b@example.org;",
        "alice@example.org)<bob@example.org>",
        "mai@",
        "@example.org",
        "Mai <>",
        "mai@localhost",
        "δοκιμή@example.org",
        "",
    ],
)
@pytest.mark.parametrize("keyword", ["to", "sender", "reply_to"])
def test_a_value_that_is_not_exactly_one_address_is_refused(keyword: str, value: str) -> None:
    with pytest.raises(RenderError):
        build(**{keyword: value})


# -- Message-ID ------------------------------------------------------------------------------


def test_message_id_is_the_same_for_a_retry_of_the_same_message() -> None:
    assert message_id(DIGEST, READER, DOMAIN) == message_id(DIGEST, READER, DOMAIN)
    assert message_id(DIGEST, f"Mai <{READER}>", DOMAIN) == message_id(DIGEST, READER, DOMAIN)


def test_message_id_differs_per_recipient_and_per_digest() -> None:
    ids = {
        message_id(DIGEST, READER, DOMAIN),
        message_id(DIGEST, "an.tran@example.org", DOMAIN),
        message_id("2026-01-08-5f6e7d8c9b", READER, DOMAIN),
    }
    assert len(ids) == 3


def test_message_id_is_on_the_site_domain_and_hides_the_address() -> None:
    value = message_id(DIGEST, READER, DOMAIN)

    assert value.startswith(f"<{DIGEST}.")
    assert value.endswith(f"@{DOMAIN}>")
    assert READER not in value
    assert "mai.nguyen" not in value
    assert "example.org" not in value


def test_message_id_reads_back_as_one_message_id() -> None:
    value = message_id(DIGEST, READER, DOMAIN)

    back = read(build().as_bytes())

    assert back["Message-ID"] == value
    assert back["Message-ID"].defects == ()


def test_message_id_of_an_internationalised_domain_is_ascii() -> None:
    assert message_id(DIGEST, READER, "Tin-Tức.vn").endswith("@xn--tin-tc-fr8b.vn>")


@pytest.mark.parametrize(
    ("digest", "recipient", "domain"),
    [
        ("2026 01 01", READER, DOMAIN),
        (DIGEST, "not an address", DOMAIN),
        (DIGEST, READER, "not a domain"),
        (DIGEST, READER, f"{DOMAIN}>\r\n{BCC}"),
    ],
)
def test_message_id_refuses_what_cannot_be_part_of_one(
    digest: str, recipient: str, domain: str
) -> None:
    with pytest.raises(RenderError):
        message_id(digest, recipient, domain)


@pytest.mark.parametrize("value", ["no-brackets@example.org", "<no-at>", "<a b@example.org>"])
def test_build_message_refuses_a_malformed_message_id(value: str) -> None:
    with pytest.raises(RenderError, match="Message-ID"):
        build_message(
            LETTER,
            to=READER,
            unsubscribe_url=UNSUBSCRIBE,
            unsubscribe_mailto=None,
            message_id=value,
            date=NOW,
        )


# -- Through a real SMTP server --------------------------------------------------------------


@dataclass
class Received:
    """What the SMTP server was given, one entry a message."""

    host: str
    port: int
    envelopes: list[Any] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Received]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it is sent."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    received = Received("127.0.0.1", port)

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.envelopes.append(envelope)
            return "250 Message accepted for delivery"

    controller = Controller(Keep(), hostname=received.host, port=port)
    controller.start()
    try:
        yield received
    finally:
        controller.stop()


def test_a_message_sent_through_smtp_arrives_byte_for_byte(smtp_server: Received) -> None:
    html = "<p>" + "Mã nguồn mở " * 420 + "</p>\n.\n..leading dots, which SMTP escapes\n"
    message = build(
        subject="Tin Tức: " + "Mã nguồn mở ở Đông Nam Á, " * 4 + "và hơn nữa",
        sender="Nguyễn Thị Mai <mai@example.org>",
        html=html,
    )

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        refused = client.send_message(message)

    assert refused == {}
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "mai@example.org"
    assert envelope.rcpt_tos == [READER]
    assert envelope.content == message.as_bytes()
    back = read(envelope.content)
    for name in message:
        assert [str(v) for v in back.get_all(name, [])] == [str(message[name])], name
    assert [p.get_content() for p in parts(back)] == [
        LETTER.text.replace("\n", "\r\n"),
        html.replace("\n", "\r\n"),
    ]
