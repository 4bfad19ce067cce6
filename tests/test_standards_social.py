"""Issue 26, target 3: every social post text is right by each platform's own code.

* X: the official ``twitter-text`` (npm) and its Python port both find every post valid, and
  syndicate's own count is never below either (a post it thinks fits must fit).
* Bluesky: the post's facets are exactly, to the byte, the ones ``@atproto/api``'s
  ``RichText.detectFacets`` finds in its text: every link and every hashtag, nothing else.
* Nobody is mentioned by accident: text from an article (``@name@instance`` in a title, an
  ``@handle`` in a summary) mentions no account on X, Mastodon or Bluesky.

The texts are the ones ``syndicate publish`` wrote to ``social/<slug>.json``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from twitter_text import parse_tweet
from twitter_text.regexp.emoji import emoji_list

from checkers import REPO, bluesky_facets, twitter_text
from checkers.sites import Site
from syndicate.social.counting import count
from syndicate.social.facets import detect_facets
from syndicate.social.text import compose

PUBLICATIONS = ["example", "stress"]

#: Mastodon's own rule for a mention (``Account::MENTION_RE`` in app/models/account.rb):
#: ``@user`` or ``@user@domain``, not after a word character, ``=`` or ``/`` (so not in a URL).
MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", re.IGNORECASE
)


def posts(site: Site) -> dict[str, dict[str, Any]]:
    """Each article's posts by platform, by the article's social file name."""
    return {path.name: json.loads(path.read_bytes())["posts"] for path in site.posts()}


@pytest.mark.parametrize("name", PUBLICATIONS)
def test_every_x_post_is_valid_and_never_counted_shorter_than_twitter_text_counts_it(
    name: str, sites: Callable[[str], Site]
) -> None:
    found = posts(sites(name))
    x = {file: platforms["x"] for file, platforms in found.items()}
    official = dict(zip(x, twitter_text([post["text"] for post in x.values()]), strict=True))
    wrong = []
    for file, post in x.items():
        port = parse_tweet(post["text"])
        counts = f"twitter-text {official[file]['weightedLength']}, port {port.weightedLength}"
        if not official[file]["valid"] or not port.valid:
            wrong.append(f"{file}: not a valid post ({counts})")
        if post["length"] < max(official[file]["weightedLength"], port.weightedLength):
            wrong.append(f"{file}: syndicate counts {post['length']} ({counts})")
    assert wrong == [], "\n".join(wrong)


def _facets(facets: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """Facets as comparable tuples; the optional ``$type`` of a facet itself is left out."""
    return sorted(
        (f["index"]["byteStart"], f["index"]["byteEnd"], json.dumps(f["features"])) for f in facets
    )


@pytest.mark.parametrize("name", PUBLICATIONS)
def test_every_bluesky_post_has_exactly_the_facets_detect_facets_finds(
    name: str, sites: Callable[[str], Site]
) -> None:
    bluesky = {file: platforms["bluesky"] for file, platforms in posts(sites(name)).items()}
    official = bluesky_facets([post["text"] for post in bluesky.values()])
    wrong = [
        f"{file}: syndicate {_facets(post.get('facets', []))}\n  detectFacets {_facets(theirs)}"
        for (file, post), theirs in zip(bluesky.items(), official, strict=True)
        if _facets(post.get("facets", [])) != _facets(theirs)
    ]
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("name", PUBLICATIONS)
def test_no_post_mentions_anyone_on_x_mastodon_or_bluesky(
    name: str, sites: Callable[[str], Site]
) -> None:
    found = posts(sites(name))
    x = [platforms["x"]["text"] for platforms in found.values()]
    mentioned = [m for parsed in twitter_text(x) for m in parsed["mentions"]]
    mentioned += [
        match.group()
        for platforms in found.values()
        for match in MASTODON_MENTION.finditer(platforms["mastodon"]["text"])
    ]
    bluesky = [platforms["bluesky"]["text"] for platforms in found.values()]
    mentioned += [
        feature["did"]
        for facets in bluesky_facets(bluesky)
        for facet in facets
        for feature in facet["features"]
        if feature["$type"].endswith("#mention")
    ]
    assert mentioned == []


def test_the_mention_rules_see_what_each_platform_links() -> None:
    text = "Ask @alice@mastodon.example or @bob, not ana@example.org or https://example.org/@carol"
    assert [m.group() for m in MASTODON_MENTION.finditer(text)] == [
        "@alice@mastodon.example",
        "@bob",
    ]
    assert twitter_text([text])[0]["mentions"] == ["bob"]


# --- syndicate's own rules, held to the platforms' code on harder text than the publications' -


def test_x_counts_every_emoji_as_twitter_text_does_and_never_below_its_port() -> None:
    # Every emoji of the port's list (Unicode's emoji-test.txt 12.0: sequences, skin tones,
    # ZWJ families, flags, keycaps, each also with a stray variation selector), alone and
    # between letters; and sequences newer than either library knows.
    found = sorted({e.emoji for e in emoji_list} | {e.emoji + "\ufe0f" for e in emoji_list})
    texts = [*found, *(f"a{emoji}b" for emoji in found), "🧑🏽\u200d💻", "🫠", "🐦\u200d🔥"]
    official = twitter_text(texts)
    wrong = []
    for text, theirs in zip(texts, official, strict=True):
        ours, port = count("x", text), parse_tweet(text).weightedLength
        official_count = theirs["weightedLength"]
        # Never below either; above the official count only where the port counts more
        # (see counting.py).
        if ours < max(official_count, port) or ours not in (official_count, port):
            wrong.append(f"{text!r}: {ours}, twitter-text {official_count}, port {port}")
    assert wrong == [], "\n".join(wrong[:20])


HARD = [
    "see https://example.org/a?b=1&c=2. Then (https://example.org/x_(y)) and https://x.org/a)",
    "HTTPS://EXAMPLE.ORG/up and Example.ORG/path and example.org/path, example.invalid/x",
    "www.example.com/page! a.b c.d.e x.co/é https://joinmastodon.example/about…",
    "#Emoji #QandA. #1 #1a ＃全角 #日本語、 #a_b #tag! (#paren) #\ufe0fx #" + "a" * 70,
    "$AAPL $aapl. $A1 $TOOLONG ($X) $5 cash$TAG",
    "line\nhttps://example.org/start\n#tag\nexample.com",
    "👩🏾\u200d🔬 https://example.org/😀 🇯🇵#flag 東京 https://例え.jp/パス",
]


def test_syndicates_facets_are_detect_facets_on_hard_text() -> None:
    theirs = bluesky_facets(HARD)
    wrong = [
        f"{text!r}:\n  syndicate {_facets(list(detect_facets(text)))}\n  theirs {_facets(found)}"
        for text, found in zip(HARD, theirs, strict=True)
        if _facets(list(detect_facets(text))) != _facets(found)
    ]
    assert wrong == [], "\n".join(wrong)


def test_a_post_cut_after_a_link_leaves_the_link_out_rather_than_touch_it_with_the_ellipsis() -> (
    None
):
    # The stress article's summary, cut where the last word kept would be a link.
    summary = (
        "We spoke with Alice about moving a newsletter to the fediverse. She recommends "
        "reading https://joinmastodon.example/about and https://example.org/rss?format=atom."
    )
    cut = [
        compose("bluesky", title="T", summary=summary, url=url, categories=[])
        for url in ("https://stress.example.org/posts/" + "m" * n for n in range(30, 150, 2))
    ]
    texts = [post.text for post in cut if "…" in post.text]
    assert texts, "some of them are cut"
    assert all(not re.search(r"\S*(?:://|\.[a-z])\S*…", text) for text in texts)
    facets = bluesky_facets(texts)
    ours = [_facets(list(post.facets)) for post in cut if "…" in post.text]
    assert [_facets(found) for found in facets] == ours


def test_the_platform_data_is_what_the_installed_libraries_hold() -> None:
    # scripts/platform-data wrote it from node_modules (package-lock.json) and the port.
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "platform-data"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
