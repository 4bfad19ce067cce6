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
from collections.abc import Callable
from typing import Any

import pytest
from twitter_text import parse_tweet

from checkers import bluesky_facets, twitter_text
from checkers.sites import Site

PUBLICATIONS = [
    "example",
    pytest.param(
        "stress",
        marks=pytest.mark.xfail(strict=True, reason="issue 26 target 3: fixed in phase 2"),
    ),
]

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
