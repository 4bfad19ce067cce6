"""How each platform counts a post text: X by twitter-text v3's weights, Mastodon by code
points with links and remote mentions shortened, Bluesky by grapheme clusters (and UTF-8
bytes), LinkedIn and Threads by code points.

What a platform counts as a link or an emoji is what its own library finds, from the lists
``platform_data`` holds; where two libraries X counts by disagree (the official one and its
Python port), a count is the larger, so that a post that fits here fits there.
"""

from __future__ import annotations

import re
import unicodedata

import regex

from .platform_data import X_EMOJI_UTF16, X_TLDS
from .platforms import LIMITS as LIMITS  # where text.py and the tests find them
from .platforms import PLATFORMS as PLATFORMS

#: Bluesky's second limit: the post text's size in UTF-8 bytes.
BLUESKY_MAX_BYTES = 3000

# twitter-text v3 (config/v3.json of twitter/twitter-text): scale 100, defaultWeight 200, these
# ranges weigh 100, every URL counts transformedURLLength 23, and with emojiParsingEnabled an
# emoji sequence counts defaultWeight once, however many code points it has.
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_URL_LENGTH = 23
_X_RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))

# Mastodon replaces every URL by 23 characters before counting.
_MASTODON_URL_LENGTH = 23

# An emoji as twitter-text v3 counts one: what twemoji-parser (which it calls) matches, an
# expression over UTF-16 code units, run here on the text with each character beyond the
# BMP written as its surrogate pair, so that it matches exactly what it matches there.
_X_EMOJI = re.compile(X_EMOJI_UTF16)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _surrogates(character: re.Match[str]) -> str:
    point = ord(character.group()) - 0x10000
    return chr(0xD800 + (point >> 10)) + chr(0xDC00 + (point & 0x3FF))


def x_emoji(text: str) -> list[tuple[int, int]]:
    """Where the emoji twitter-text counts as 2 each are in *text* (code point offsets)."""
    units = _ASTRAL.sub(_surrogates, text)
    if len(units) == len(text):
        return [found.span() for found in _X_EMOJI.finditer(text)]
    # The code point each UTF-16 code unit belongs to (a match never splits a pair).
    point = [i for i, character in enumerate(text) for _ in range(1 + (character > "\uffff"))]
    point.append(len(text))
    return [(point[found.start()], point[found.end()]) for found in _X_EMOJI.finditer(units)]


# An absolute http(s) URL as twitter-text finds one: a host, then a path and query made of ASCII,
# Latin and Cyrillic letters, digits and some punctuation (a Japanese path ends the URL), not
# ending in sentence punctuation.
_URL_LETTERS = "a-zA-Z0-9\u00c0-\u024f\u0400-\u04ff"
_URL = regex.compile(
    r"(?i)(?<![\w@./])https?://[^\s/?#<>\"]+"
    rf"(?:[/?#][{_URL_LETTERS}!*';:=+,.$/%#\[\]\-\u2013_~@|&()?]*)?"
)
_URL_ENDING = regex.compile(rf"[{_URL_LETTERS}+\-=_#/&]")
# Mastodon's mention: "@user@domain" counts as "@user".
_MENTION = regex.compile(r"(?i)(?<![/\w])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@[\w.-]*\w")
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of `text`."""
    return list(_GRAPHEME.findall(text))


# Every rule of UAX #29 that keeps two characters in one grapheme cluster needs one of
# these: CR (before LF), Hangul jamo, an extending mark or joiner, a spacing mark, a
# prepended mark, or a regional indicator.  Text without any is one cluster a character.
_JOINS = regex.compile(
    "[\r"
    + "".join(
        rf"\p{{Grapheme_Cluster_Break={kind}}}"
        for kind in ("L", "V", "T", "LV", "LVT", "Extend", "ZWJ", "SpacingMark", "Prepend")
    )
    + r"\p{Grapheme_Cluster_Break=Regional_Indicator}]"
)
# Characters that neither join a grapheme cluster with their neighbours nor make an emoji:
# Latin (accented letters precomposed), Greek, Cyrillic and general punctuation, but CR,
# "©", "®", "‼" and "⁉". A stdlib `re` class finds them in one pass of compiled code, where
# `_JOINS` and `_X_EMOJI` would try their alternatives at each character to rule them out; a
# test checks each of these characters.
PLAIN_CHARACTERS = (
    "\x00-\x0c\x0e-\xa8\xaa-\xad\xaf-\u02ff\u0370-\u0482\u048a-\u052f"
    "\u2010-\u2027\u2030-\u203b\u203d-\u2048\u204a-\u205e"
)
_NOT_PLAIN = re.compile(f"[^{PLAIN_CHARACTERS}]")


def grapheme_count(text: str) -> int:
    """``len(graphemes(text))``, without splitting text that has nothing to join."""
    if _one_cluster_a_character(text):
        return len(text)
    return len(_GRAPHEME.findall(text))


def _one_cluster_a_character(text: str) -> bool:
    if text.isascii():
        return "\r" not in text
    return not _NOT_PLAIN.search(text) or not _JOINS.search(text)


def _clusters(text: str) -> list[str]:
    """`graphemes`, without splitting text that has nothing to join."""
    return list(text) if _one_cluster_a_character(text) else _GRAPHEME.findall(text)


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and (
            (text[end - 1] != ")" and not _URL_ENDING.fullmatch(text[end - 1]))
            or (text[end - 1] == ")" and text.count("(", start, end) < text.count(")", start, end))
        ):
            end -= 1
        spans.append((start, end))
    return spans


# Text that looks like a domain without "https://" ("example.com"): X links it when the
# top-level domain is one it knows.  Without X's list of domains, such text counts as a
# link (23) or as its own length, whichever is more, so a count is never below X's own.
BARE_DOMAIN = regex.compile(
    # Before and after it, what twitter-text allows around a domain: anything but ASCII
    # letters and digits and a few signs (so "0.ALÀ" holds "0.AL", as X reads it).
    # Its names may be in any script, as in "café.com"; its top-level domain is ASCII
    # (X links no other without "https://"), and ends where ASCII letters do.
    r"(?i)(?<![a-z0-9@＠$#＃\u202a-\u202e])"
    r"(?:[\p{L}\p{N}\p{M}](?:[\p{L}\p{N}\p{M}\-]*[\p{L}\p{N}\p{M}])?\.)+"
    r"(?:xn--[a-z0-9-]*[a-z0-9]|[a-z]{2,})"
    r"(?![a-z0-9@+\-])"
    r"(?:/[a-z0-9!*';:=+,.$/%#\[\]\-_~@|&()?]*[a-z0-9+\-=_#/&])?"
)


def _x_tld(label: str) -> bool:
    """Whether twitter-text links a domain whose last label is *label*."""
    label = label.lower()
    return label in X_TLDS or label.startswith("xn--")


def _linked_end(text: str, start: int, host: int, end: int) -> int | None:
    """Where the link X makes of ``text[start:end]`` ends (its host from *host* on): the
    whole of it when its host ends in a top-level domain X knows, else after the last label
    of the host that is one (X reads "example.org.invalid" as "example.org"), or None."""
    stop = _HOST_END.search(text, host, end)
    host_end = stop.start() if stop else end
    labels = text[host:host_end].split(":")[0].split(".")  # without a port
    known = [index for index, label in enumerate(labels) if index and _x_tld(label)]
    if not known:
        return None
    if known[-1] == len(labels) - 1:
        return end
    return host + len(".".join(labels[: known[-1] + 1]))


_HOST_END = re.compile(r"[/?#]")


def _linked_urls(text: str) -> dict[int, int]:
    """The http(s) URLs of *text* that X links, as far as it links them (start: end).
    Mastodon counts a URL with the same library, and so the same way."""
    links = {}
    for start, end in _url_spans(text):
        linked = _linked_end(text, start, text.index("://", start) + 3, end)
        if linked is not None:
            links[start] = linked
    return links


# What every bare domain has: a dot and two letters of its top-level domain.
_DOT_LETTERS = regex.compile(r"(?i)\.[a-z]{2}")


def _bare_domains(text: str, urls: dict[int, int]) -> dict[int, int]:
    if all(
        any(s <= match.start() < e for s, e in urls.items())
        for match in _DOT_LETTERS.finditer(text)
    ):
        return {}  # the only dots before letters are in links (the post's own URL)
    spans = {}
    for match in BARE_DOMAIN.finditer(text):
        start, end = match.span()
        if not any(s <= start < e for s, e in urls.items()):
            linked = _linked_end(text, start, start, end)
            if linked is not None:
                spans[start] = linked
    return spans


# Characters outside twitter-text v3's light ranges (CJK, most symbols, emoji) weigh 200;
# and "©" and "®", which the official library counts 1 but its Python port takes for emoji
# and counts 2 (a count must be below neither).
X_HEAVY = regex.compile(
    "[^" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high, _ in _X_RANGES) + "]|[\xa9\xae]"
)
# An emoji shown as one by default, then the emoji variation selector: the official library
# counts the two 2, its Python port (whose list has the emoji without the selector) 4.
_PRESENTED_TWICE = regex.compile(r"\p{Emoji_Presentation}\ufe0f")


def _x_weight(text: str) -> int:
    """twitter-text v3's weighted length: NFC first; a link 23, an emoji (as twemoji-parser
    finds one) 2, any other character 1 in the light ranges and 2 outside them."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    urls = _linked_urls(text)
    for start, end in _bare_domains(text, urls).items():
        # Letters outside ASCII at its start X may leave out of the link ("À0.AL" is "À"
        # and the link "0.AL"): they count on their own.  The text counts as a link or as
        # text, whichever weighs more.
        begin = next((i for i in range(start, end) if text[i] < "\x80"), end)
        as_link = _x_plain_weight(text[start:begin]) + _X_URL_LENGTH * _X_SCALE
        if begin < end and as_link >= _x_plain_weight(text[start:end]):
            urls[begin] = end
    # At each place a link comes first, then an emoji, as twitter-text looks for them; what
    # one of them covers is not looked at again.
    tokens = [(start, end, _X_URL_LENGTH * _X_SCALE) for start, end in urls.items()]
    tokens += [
        (
            start,
            end,
            2 * _X_DEFAULT_WEIGHT
            if _PRESENTED_TWICE.fullmatch(text, start, end)
            else _X_DEFAULT_WEIGHT,
        )
        for start, end in x_emoji(text)
    ]
    weighted = 0
    position = 0
    for start, end, weight in sorted(tokens):
        if start >= position:
            weighted += _x_plain_weight(text[position:start]) + weight
            position = end
    return (weighted + _x_plain_weight(text[position:])) // _X_SCALE


def _x_plain_weight(text: str) -> int:
    """Weight of text with no link or emoji in it: each character 100 in the light ranges
    and 200 outside them."""
    return _X_SCALE * (len(text) + _x_heavy(text))


def _mastodon_length(text: str) -> int:
    length = 0
    last = 0
    for start, end in sorted(_linked_urls(text).items()):
        length += len(_MENTION.sub(r"@\1", text[last:start])) + _MASTODON_URL_LENGTH
        last = end
    return length + len(_MENTION.sub(r"@\1", text[last:]))


def count(platform: str, text: str) -> int:
    """The length of `text` as `platform` counts it.

    - x: twitter-text v3 weighted length (NFC; URLs 23; emoji sequences and characters outside
      the light ranges 2).
    - mastodon: code points, as Mastodon's composer counts them ([...text]), with every URL
      as 23 and "@user@domain" as "@user". The server counts grapheme clusters, never more than
      code points, so a post within this count is within the server's.
    - bluesky: extended grapheme clusters (the UTF-8 size is checked apart, see `fits`).
    - linkedin, threads: code points.
    """
    if platform not in LIMITS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    if _simple(platform, text):
        return len(text) + (_x_heavy(text) if platform == "x" else 0)
    return _counted(platform, text)


def _counted(platform: str, text: str) -> int:
    """`count` the long way, for any text."""
    if platform == "x":
        return _x_weight(text)
    if platform == "mastodon":
        return _mastodon_length(text)
    if platform == "bluesky":
        return grapheme_count(text)
    return len(text)


def _simple(platform: str, text: str) -> bool:
    """Whether `platform` counts `text` code point by code point: each 1 (on X 1 or 2, by
    its range), nothing counted as a whole: no URL, mention, bare domain, emoji or grapheme
    cluster of several code points. Then every prefix of `text` is simple too, and so is a
    prefix with an ellipsis after it.

    Most titles and summaries are simple, and a check costs little: a URL needs "://", a
    mention "@", a bare domain a dot before two letters, and an emoji or a cluster a
    character beyond `PLAIN_CHARACTERS`.
    """
    if platform in ("linkedin", "threads"):
        return True
    if platform == "bluesky":
        return _one_cluster_a_character(text)
    if platform == "mastodon":
        return "://" not in text and "@" not in text
    if "\r" in text or "://" in text or ("." in text and _DOT_LETTERS.search(text)):
        return False
    return text.isascii() or (
        unicodedata.is_normalized("NFC", text)
        and (not _NOT_PLAIN.search(text) or not _X_EMOJI.search(_ASTRAL.sub(_surrogates, text)))
    )


def _x_heavy(text: str) -> int:
    """How many code points of `text` X weighs 2 (all that are not in its light ranges)."""
    return 0 if text.isascii() else len(X_HEAVY.findall(text))


def fits(platform: str, text: str, limit: int | None = None) -> bool:
    """Whether `text` is within the platform's limit (and, on Bluesky, its 3,000 bytes)."""
    cap = LIMITS[platform] if limit is None else limit
    if platform == "bluesky" and len(text.encode("utf-8")) > BLUESKY_MAX_BYTES:
        return False
    return count(platform, text) <= cap
