"""A prepared letter copied for each reader is the same message `build_message` makes."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.email.message import Letter, build_message, for_reader, prepare

DATE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MAILTO = "mailto:editors@example.org?subject=unsubscribe"
MARK = "https://unsubscribe.invalid/personal"


def letter(text: str, html: str) -> Letter:
    return Letter(
        subject="Test Times: Ngày mới, a new day",
        text=text,
        html=html,
        sender="Test Times <news@example.org>",
        reply_to="Editors <editors@example.org>",
        list_id="Test Times <test-times.news.example.org>",
        domain="news.example.org",
    )


def both(
    text: str, html: str, to: str, url: str, message_id: str
) -> tuple[EmailMessage, EmailMessage]:
    made = build_message(
        letter(text.replace(MARK, url), html.replace(MARK, url)),
        to=to,
        unsubscribe_url=url,
        unsubscribe_mailto=MAILTO,
        message_id=message_id,
        date=DATE,
    )
    prepared = prepare(
        letter(text, html),
        unsubscribe_mailto=MAILTO,
        date=DATE,
        sample="Sample <sample@example.org>",
    )
    copied = for_reader(
        prepared,
        text=text.replace(MARK, url),
        html=html.replace(MARK, url),
        to=to,
        unsubscribe_url=url,
        message_id=message_id,
    )
    head, _, body = copied.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))  # RFC 5322 2.1.1
    assert all(len(line) <= 78 for line in body.split(b"\r\n"))
    assert b"\n" not in copied.replace(b"\r\n", b"")
    one = message_from_bytes(made.as_bytes(), policy=policy.default)
    two = message_from_bytes(copied, policy=policy.default)
    return one, two  # type: ignore[return-value]


def same(one: EmailMessage, two: EmailMessage) -> None:
    assert sorted(one.keys()) == sorted(two.keys())
    for name in one:
        if name != "Content-Type":  # its boundary comes from the message id; see below
            assert str(one[name]) == str(two[name]), name
    assert one.get_content_type() == two.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in one.iter_parts()] == ["text/plain", "text/html"]
    for left, right in zip(one.iter_parts(), two.iter_parts(), strict=True):
        assert left.get_content_type() == right.get_content_type()
        # Either encoding is right; the copy keeps the one chosen for the letter.
        assert right["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        assert left.get_content() == right.get_content()
    assert two.defects == [] and all(p.defects == [] for p in two.iter_parts())


def test_a_copy_equals_a_message_built_for_that_reader() -> None:
    text = f"Hello,\n\nRead on: https://news.example.org/\n\nUnsubscribe: {MARK}\n"
    html = f'<p>Hello <b>reader</b></p>\n<p><a href="{MARK}">Unsubscribe</a></p>' * 40
    url = "https://news.example.org/u?email=ana%40example.org&token=abc"
    same(*both(text, html, "Ana Souza <ana@example.org>", url, "<d1.x@news.example.org>"))


def test_a_copy_of_vietnamese_text_is_base64_like_the_original() -> None:
    text = f"Chào bạn! Tiếng Việt có dấu ở khắp nơi. {MARK}\n" * 30
    one, two = both(
        text,
        "<p>Xin chào</p>" * 50,
        "Nguyễn Thị Mai <mai@example.org>",
        "https://x.example/u",
        "<d2.y@news.example.org>",
    )
    same(one, two)
    assert two.get_body(("plain",))["Content-Transfer-Encoding"] == "base64"  # type: ignore[index]


names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
bodies = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=names, text=bodies, html=bodies, local=st.from_regex(r"[a-z0-9._+-]{1,20}", fullmatch=True)
)
def test_copies_equal_built_messages_for_any_name_and_text(
    name: str, text: str, html: str, local: str
) -> None:
    from email.utils import formataddr

    from hypothesis import assume

    from syndicate.errors import RenderError

    assume(not local.startswith(".") and not local.endswith(".") and ".." not in local)
    to = formataddr((name, f"{local}@example.org"))
    try:
        pair = both(
            text + MARK, html + MARK, to, "https://x.example/u?t=1", "<d3.z@news.example.org>"
        )
    except RenderError:
        return  # refused alike by both: build_message runs first and refuses for itself
    same(*pair)
