"""The checkers of issue 26 are really there and really judge: each finds the fault in a
small input known to be wrong, and passes one known to be right.

A checker that could not fail would make every standards test pass for nothing; these
tests are why the others mean something.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import Browser
from checkers import (
    axe,
    bluesky_facets,
    email_support,
    feed_validator,
    nu_checker,
    spamassassin,
    twitter_text,
)

GOOD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fine</title></head>
<body><main><h1>Fine</h1><p>A page with nothing wrong.</p></main></body></html>
"""

BAD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title>
<style>@media (prefers-color-scheme: dark) { body { background: #111; color: #333; } }</style>
</head>
<body><main><h1>Broken</h1>
<p><time datetime="2025-01-01T10:00:00.123456+00:00">today</time></p>
<p><a rel="noopener noreferrer">no href</a> <img src="photo.jpg"></p>
</main></body></html>
"""

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>{title}</title><link>https://feeds.example.org/</link>
<description>A feed</description>
<atom:link href="https://feeds.example.org/rss.xml" rel="self" type="application/rss+xml"/>
<item><title>One</title><link>https://feeds.example.org/one</link>
<guid>https://feeds.example.org/one</guid><pubDate>Mon, 06 Jan 2025 10:00:00 +0000</pubDate>
<description>Text</description></item>
</channel></rss>
"""

MESSAGE = """\
From: Sender <sender@example.org>
To: reader@example.org
Subject: {subject}
Date: Mon, 06 Jan 2025 10:00:00 +0000
Message-ID: <{id}@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

{body}
"""


def test_the_w3c_feed_validator_finds_html_in_a_title_and_passes_a_clean_feed(
    tmp_path: Path,
) -> None:
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_text(RSS.format(title="Plain"), encoding="utf-8")
    bad.write_text(RSS.format(title="Fish &amp; &lt;b&gt;chips&lt;/b&gt;"), encoding="utf-8")
    url = "https://feeds.example.org/rss.xml"
    found = feed_validator({good: url, bad: url}, names={good: "good", bad: "bad"})
    assert [(f.file, f.level, f.rule) for f in found] == [("bad", "warning", "ContainsHTML")]


def test_the_nu_checker_finds_each_fault_of_a_page_and_passes_a_clean_one(
    tmp_path: Path,
) -> None:
    good, bad = tmp_path / "good.html", tmp_path / "bad.html"
    good.write_text(GOOD_PAGE, encoding="utf-8")
    bad.write_text(BAD_PAGE, encoding="utf-8")
    found = nu_checker({good: "good", bad: "bad"})
    assert {f.file for f in found} == {"bad"}
    messages = " ".join(f.message for f in found if f.level == "error")
    assert "fraction of a second" in messages
    assert "“rel” attribute" in messages or "“a”" in messages
    assert "“alt” attribute" in messages


def test_axe_finds_a_missing_alt_and_dark_mode_contrast_and_passes_a_clean_page(
    tmp_path: Path, browser: Browser
) -> None:
    good, bad = tmp_path / "good.html", tmp_path / "bad.html"
    good.write_text(GOOD_PAGE, encoding="utf-8")
    bad.write_text(BAD_PAGE, encoding="utf-8")
    found = axe(browser, {good: "good", bad: "bad"}, {})
    assert {(f.file, f.rule) for f in found} == {
        ("bad (light)", "image-alt"),
        ("bad (dark)", "color-contrast"),
    }


def test_spamassassin_scores_a_spammy_message_above_a_plain_one(tmp_path: Path) -> None:
    plain, spammy = tmp_path / "plain.eml", tmp_path / "spammy.eml"
    plain.write_text(
        MESSAGE.format(subject="Minutes of Monday", id="a", body="The minutes are attached."),
        encoding="utf-8",
    )
    shouting = "BUY VIAGRA NOW!!! 100% FREE!!! CLICK HERE, ACT NOW, LIMITED TIME OFFER!!!"
    spammy.write_text(
        MESSAGE.format(subject=shouting, id="b", body=shouting + "\n" + shouting),
        encoding="utf-8",
    )
    plain_score, spammy_score = spamassassin([plain, spammy])
    assert plain_score.score <= 0.0, plain_score
    assert spammy_score.score > 1.0, spammy_score
    assert sum(spammy_score.rules.values()) == pytest.approx(spammy_score.score, abs=0.1)


def test_doiuse_email_names_what_outlook_lacks() -> None:
    html = (
        "<!doctype html><html><head><style>@media (max-width: 600px) { .a { color: red } }"
        '</style></head><body><div class="a" style="border-radius: 4px">Hi</div></body></html>'
    )
    found = email_support({"one": html})["one"].unsupported
    assert "outlook.windows" in found["border-radius"]
    assert "outlook.windows" in found["@media"]
    assert "apple-mail.ios" not in found.get("border-radius", ())


def test_twitter_text_counts_links_as_23_and_refuses_281_characters() -> None:
    short, long = twitter_text(["Read https://example.org/" + "a" * 100, "x" * 281])
    assert short["weightedLength"] == 5 + 23 and short["valid"]
    assert long["weightedLength"] == 281 and not long["valid"]
    assert twitter_text(["hello @someone"])[0]["mentions"] == ["someone"]


def test_bluesky_finds_links_tags_and_mentions_by_utf8_byte_offsets() -> None:
    (facets,) = bluesky_facets(["é https://example.org/a #tag @alice.bsky.social"])
    found = {
        (f["index"]["byteStart"], f["index"]["byteEnd"], f["features"][0]["$type"].split("#")[1])
        for f in facets
    }
    # "é" is two bytes of UTF-8: offsets are bytes, not characters.
    assert found == {(3, 24, "link"), (25, 29, "tag"), (30, 48, "mention")}
