"""Issue 26, targets 2 and 6: every email syndicate sends, by the tools mail is judged with.

* SpamAssassin (Debian's, local rules: ``spamassassin -L -t``) scores each kind of message
  at 0.0 or below: the digest and article mode, on the example and the stress publication,
  and the list service's confirmation and goodbye (issue 25).
* What Gmail, Outlook (classic, Mail, and the new one) and Apple Mail lack, by caniemail's
  data (``doiuse-email``), is listed in the README for readers to know.
* The details: image ``alt`` text survives mjml-python, article mode's plain text is text,
  CJK lines wrap by display width, dark mode has no light band below the footer.

The messages are the ones delivered to each publication's outbox by ``syndicate publish``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from browser import Browser
from checkers import EMAIL_CLIENTS, SpamScore, email_support
from checkers.sites import LIST, Site, sample
from conftest import REPO

NAMES = ("example", "stress", "stress-article")


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def kinds(site: Site) -> dict[str, EmailMessage]:
    """One message of each email the publication sent (by subject): every reader of one
    email gets the same but for their own links."""
    found: dict[str, EmailMessage] = {}
    for path in site.messages():
        message = site.message(path)
        found.setdefault(str(message["Subject"]), message)
    return found


@pytest.mark.parametrize("name", [*NAMES, LIST])
def test_spamassassin_scores_every_message_at_zero_or_below(
    name: str, spam_verdicts: dict[str, list[SpamScore]]
) -> None:
    scores = spam_verdicts[name]
    assert scores, "the publication delivered mail"
    # The score and rules only: a message's text holds its reader's address.
    found = [f"message {n}: {score}" for n, score in enumerate(scores) if score.score > 0.0]
    assert found == [], "\n".join(found)


def test_the_list_services_confirmation_and_goodbye_are_scored_with_the_newsletter(
    sites: Callable[[str], Site],
) -> None:
    """Issue 26 target 2 covers "the emails of the subscriber service": both kinds are in
    what SpamAssassin scores above, beside the newsletter sent to the service's list."""
    site = sites(LIST)
    subjects = [str(site.message(path)["Subject"]) for path in sample(site.messages())]
    assert any(subject.startswith("Confirm your subscription") for subject in subjects)
    assert any(subject.startswith("You have left") for subject in subjects), subjects
    assert any(subject.startswith("Syndicate Dispatch:") for subject in subjects)


def readme_section(heading: str) -> str:
    """The README's section whose heading contains *heading* (up to the next heading of the
    same or a higher level), or "" when there is none."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"(?mi)^(#+) .*{re.escape(heading)}.*$", text)
    if match is None:
        return ""
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"(?m)^#{{1,{level}}} ", rest)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize("name", ["stress", "stress-article"])
def test_every_feature_gmail_outlook_or_apple_mail_lacks_is_listed_in_the_readme(
    name: str, sites: Callable[[str], Site]
) -> None:
    """The README's section on email clients names, in backticks as caniemail does, each
    feature of the email one of the clients does not support: what the reader of that
    client will not see, and the fallback they get instead."""
    emails = {subject: html_part(message) for subject, message in kinds(sites(name)).items()}
    section = readme_section("email clients")
    unlisted = sorted(
        f"`{feature}` (not in {', '.join(sorted(clients))})"
        for support in email_support(emails, EMAIL_CLIENTS).values()
        for feature, clients in support.unsupported.items()
        if f"`{feature}`" not in section
    )
    assert unlisted == [], "\n".join(dict.fromkeys(unlisted))


# --- target 6: the details -----------------------------------------------------------------


def test_mjml_python_still_writes_zwj_and_vs16_in_alt_text_as_rust_escapes() -> None:
    """The upstream behaviour syndicate works around: mjml-python writes U+200D (zero-width
    joiner) and U+FE0F (variation selector 16) in an attribute as the text ``\\u{200d}``
    and ``\\u{fe0f}``, which breaks every emoji sequence in an image's alt text.  When this
    fails, mjml-python has fixed it and the workaround can go."""
    from mjml import mjml2html

    alt = "family 👨\u200d👩\u200d👧 flag 🏳\ufe0f\u200d🌈"
    html = mjml2html(
        f'<mjml><mj-body><mj-section><mj-column><mj-image src="https://e.example/a.png" '
        f'alt="{alt}" /></mj-column></mj-section></mj-body></mjml>'
    )
    assert 'alt="family 👨\\u{200d}👩\\u{200d}👧 flag 🏳\\u{fe0f}\\u{200d}🌈"' in html


@pytest.mark.parametrize("name", ["stress", "stress-article"])
def test_image_alt_text_keeps_emoji_sequences_intact(
    name: str, sites: Callable[[str], Site]
) -> None:
    alts = [
        alt
        for message in kinds(sites(name)).values()
        for alt in re.findall(r'<img[^>]*\balt="([^"]*)"', html_part(message))
    ]
    assert any("👨\u200d👩\u200d👧\u200d👦" in alt for alt in alts), alts
    assert [alt for alt in alts if "\\u{" in alt] == []


def test_article_mode_plain_text_is_rendered_text_with_absolute_links(
    sites: Callable[[str], Site],
) -> None:
    texts = {subject: text_part(m) for subject, m in kinds(sites("stress-article")).items()}
    emoji = next(text for subject, text in texts.items() if "Families" in subject)
    long = next(text for subject, text in texts.items() if "A very long title" in subject)
    markdown = re.compile(r"^\|[ :-]+\||\]\(|^#+ |<img|<p>|<a ", re.M)
    assert markdown.findall(emoji) == []
    assert markdown.findall(long) == []
    assert "https://www.example.org/spec#section-1&x=2" in long


def display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_cjk_lines_of_the_plain_text_wrap_by_display_width(
    sites: Callable[[str], Site],
) -> None:
    (text,) = [text_part(m) for m in kinds(sites("stress")).values()]
    assert "東京都内" in text
    cjk = [line for line in text.splitlines() if display_width(line) > len(line)]
    assert cjk, "the CJK article is in the digest"
    assert [line for line in cjk if display_width(line) > 78] == []


#: The background of the page behind the email, as Chromium paints it, in dark mode.
BACKGROUND = """(() => {
  const colour = (el) => getComputedStyle(el).backgroundColor;
  const body = colour(document.body);
  return body === 'rgba(0, 0, 0, 0)' ? colour(document.documentElement) : body;
})()"""


@pytest.mark.parametrize("name", ["example", "stress"])
def test_dark_mode_paints_no_light_band_below_the_footer(
    name: str, sites: Callable[[str], Site], browser: Browser, tmp_path: Path
) -> None:
    """In a client that honours ``prefers-color-scheme: dark`` the page behind the email is
    dark too: a light body shows as a band wherever the email is shorter than the window."""
    (message, *_) = kinds(sites(name)).values()
    page = tmp_path / "email.html"
    page.write_text(html_part(message), encoding="utf-8")
    (colour,) = browser.run_script(page, 600, "", BACKGROUND, color_schemes=("dark",))
    channels = [int(c) for c in re.findall(r"\d+", colour)[:3]]
    assert max(channels) < 64, colour
