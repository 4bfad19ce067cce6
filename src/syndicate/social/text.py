"""Post texts for X, Mastodon, Bluesky, LinkedIn and Threads, each fitted to its platform's count.

A post is laid out as::

    title

    summary

    url

    #Tag1 #Tag2 #Tag3 suffix

Empty parts are left out with their blank line. When the whole does not fit, parts are given up
in this order: the summary is shortened (down to nothing), then the title (down to nothing), then
the hashtags are dropped whole, last first. The URL and the suffix are never shortened; when they
alone do not fit, `compose` raises ValueError.

Shortening keeps the longest prefix that ends at a word boundary and adds "…"; when not even the
first word fits (a very long word, or text without spaces such as Chinese or Japanese) the cut
falls at a grapheme-cluster boundary instead. No grapheme cluster is ever split.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate

import regex

PLATFORMS = ("x", "mastodon", "bluesky", "linkedin", "threads")

#: Each platform's usual limit, in its own unit (see `count`).
LIMITS = {"x": 280, "mastodon": 500, "bluesky": 300, "linkedin": 3000, "threads": 500}
#: Bluesky's second limit: the post text's size in UTF-8 bytes.
BLUESKY_MAX_BYTES = 3000
#: The longest tag a Bluesky tag facet may carry, in graphemes and without the "#".
TAG_MAX_GRAPHEMES = 64

ELLIPSIS = "…"

# twitter-text v3 (config/v3.json of twitter/twitter-text): scale 100, defaultWeight 200, these
# ranges weigh 100, every URL counts transformedURLLength 23, and with emojiParsingEnabled an
# emoji sequence counts defaultWeight once, however many code points it has.
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_URL_LENGTH = 23
_X_RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))

# Mastodon replaces every URL by 23 characters before counting.
_MASTODON_URL_LENGTH = 23

# An emoji as twitter-text's emoji parsing sees one: a flag, a keycap, a subdivision flag, or a
# ZWJ sequence of pictographs (each with its skin tone, or the emoji variation selector where
# the pictograph is text-style by default).
_EMOJI_ELEMENT = (
    r"(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}"
    r"|\p{Emoji_Presentation}"
    r"|[[\p{Emoji}&&\p{Extended_Pictographic}]--\p{Emoji_Presentation}]\uFE0F?)"
)
_EMOJI = regex.compile(
    r"(?V1)\p{Regional_Indicator}{2}"
    r"|[0-9#*]\uFE0F?\u20E3"
    r"|\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F"
    rf"|{_EMOJI_ELEMENT}(?:\u200D{_EMOJI_ELEMENT})*"
)

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
_SPACE = regex.compile(r"\s")
_NOT_IN_TAG = regex.compile(r"[^\p{L}\p{N}\p{M}]")
_LEADING_MARKS = regex.compile(r"^\p{M}+")
_LETTER = regex.compile(r"\p{L}")
_TRAILING_CUT = regex.compile(r"[\s\p{P}--[)\]}\"'»”’!?]]", flags=regex.V1)
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}+$")


@dataclass(frozen=True, slots=True)
class Post:
    """One platform's post text and its length under that platform's count."""

    platform: str
    text: str
    length: int
    limit: int
    #: Bluesky's rich-text facets (``app.bsky.richtext.facet``); empty for other platforms.
    facets: tuple[dict[str, object], ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The post as JSON: text, length and limit, and for Bluesky its facets."""
        out: dict[str, object] = {"text": self.text, "length": self.length, "limit": self.limit}
        if self.platform == "bluesky":
            out["facets"] = list(self.facets)
        return out


def normalize(text: str) -> str:
    """NFC, with every run of whitespace (newlines included) turned into one space."""
    return unicodedata.normalize("NFC", " ".join(unicodedata.normalize("NFC", text).split()))


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
# "©", "®", "‼" and "⁉". A stdlib `re` class finds any other character many times faster
# than `_JOINS` or `_EMOJI` can rule them out; a test checks each of these characters.
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


@lru_cache(maxsize=4096)  # a publication has few categories, and every article repeats them
def hashtag(category: str) -> str | None:
    """A hashtag for a category: "Southeast Asia" -> "#SoutheastAsia".

    Each word is capitalised and the words are run together; letters, digits and combining marks
    of any script are kept and everything else (punctuation, symbols) dropped. None when nothing
    is left, when no letter is left ("2024" is no hashtag on X or Mastodon), or when the tag is
    longer than Bluesky accepts (64 graphemes).
    """
    words: list[str] = []
    for raw in normalize(category).split(" "):
        word = _NOT_IN_TAG.sub("", raw)
        word = _LEADING_MARKS.sub("", word)
        if word:
            words.append(word[0].upper() + word[1:])
    tag = unicodedata.normalize("NFC", _PREPEND.sub("", "".join(words)))
    if not _LETTER.search(tag) or len(graphemes(tag)) > TAG_MAX_GRAPHEMES:
        return None
    return "#" + tag


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
            spans[start] = end
    return spans


# Characters outside twitter-text v3's light ranges (CJK, most symbols, emoji) weigh 200.
_X_HEAVY = regex.compile(
    "[^" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high, _ in _X_RANGES) + "]"
)


def _x_weight(text: str) -> int:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    urls = dict(_url_spans(text))
    for start, end in _bare_domains(text, urls).items():
        # Letters outside ASCII at its start X may leave out of the link ("À0.AL" is "À"
        # and the link "0.AL"): they count on their own.  The text counts as a link or as
        # text, whichever weighs more.
        begin = next((i for i in range(start, end) if text[i] < "\x80"), end)
        as_link = _x_plain_weight(text[start:begin]) + _X_URL_LENGTH * _X_SCALE
        if begin < end and as_link >= _x_plain_weight(text[start:end]):
            urls[begin] = end
    weighted = 0
    position = 0
    for start, end in [*sorted(urls.items()), (len(text), len(text))]:
        weighted += _x_plain_weight(text[position:start])
        if start < len(text):
            weighted += _X_URL_LENGTH * _X_SCALE
        position = end
    return weighted // _X_SCALE


def _x_plain_weight(text: str) -> int:
    """Weight of text with no URL in it: an emoji sequence weighs 200 as a whole, any other
    character 100 in the light ranges and 200 outside them."""
    weighted = 0
    position = 0
    for emoji in _EMOJI.finditer(text):
        rest = text[position : emoji.start()]
        weighted += _X_SCALE * len(rest) + _X_SCALE * len(_X_HEAVY.findall(rest))
        weighted += _X_DEFAULT_WEIGHT
        position = emoji.end()
    rest = text[position:]
    return weighted + _X_SCALE * len(rest) + _X_SCALE * len(_X_HEAVY.findall(rest))


def _mastodon_length(text: str) -> int:
    length = 0
    last = 0
    for start, end in _url_spans(text):
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
        and (not _NOT_PLAIN.search(text) or not _EMOJI.search(text))
    )


def _x_heavy(text: str) -> int:
    """How many code points of `text` X weighs 2 (all that are not in its light ranges)."""
    return 0 if text.isascii() else len(_X_HEAVY.findall(text))


def fits(platform: str, text: str, limit: int | None = None) -> bool:
    """Whether `text` is within the platform's limit (and, on Bluesky, its 3,000 bytes)."""
    cap = LIMITS[platform] if limit is None else limit
    if platform == "bluesky" and len(text.encode("utf-8")) > BLUESKY_MAX_BYTES:
        return False
    return count(platform, text) <= cap


#: A part of a post as a platform sees it: its count, and its size in UTF-8 bytes.
_Size = tuple[int, int]

#: What an ellipsis adds to each platform's count.
_ELLIPSIS_COUNT = {platform: count(platform, ELLIPSIS) for platform in PLATFORMS}


def _size(platform: str, block: str) -> _Size | None:
    """The size of a part of a post; None for an empty part, which is left out."""
    return (count(platform, block), len(block.encode("utf-8"))) if block else None


def _total(sizes: Iterable[_Size | None]) -> _Size:
    """The size of the post made of these parts, one blank line between each two.

    A count is the sum of the counts of the parts, 2 for each blank line between them:
    nothing a count looks for (a URL, a domain, an emoji, a cluster) spans a line break.
    So each part is counted once, not once for each form of the post tried.
    """
    length = size = parts = 0
    for part in sizes:
        if part is not None:
            length += part[0]
            size += part[1]
            parts += 1
    between = 2 * max(parts - 1, 0)
    return length + between, size + between


@dataclass(frozen=True, slots=True)
class _Article:
    """What each platform's post of one article starts from."""

    title: str
    summary: str
    tags: tuple[str, ...]


@lru_cache(maxsize=16)  # the posts of an article, one for each platform, come together
def _article(title: str, summary: str, categories: tuple[str, ...], hashtags: int) -> _Article:
    tags: list[str] = []
    for category in categories:
        tag = hashtag(category)
        if tag and tag.casefold() not in (t.casefold() for t in tags) and len(tags) < hashtags:
            tags.append(tag)
    return _Article(normalize(title), normalize(summary), tuple(tags))


def _tail(tags: Sequence[str], suffix: str) -> str:
    return " ".join([*tags, suffix] if suffix else tags)


@lru_cache(maxsize=4096)
def _cut_after(character: str) -> bool:
    """Whether a shortened text gives up `character` at its end (a space, most punctuation)."""
    return _TRAILING_CUT.fullmatch(character) is not None


class _Shortened(Sequence[str]):
    """Every shortened form of `text`, longest first, each ending in "…": made only when
    looked at, as a search for the longest that fits looks at few of them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.clusters = clusters = _clusters(text)

        def kept(n: int) -> int:
            while n and _cut_after(clusters[n - 1][-1]):
                n -= 1
            # A cluster that would fuse with the ellipsis (a prepended mark) goes too.
            while n and _fuses(clusters[n - 1]):
                n -= 1
            return n

        at_words = [i for i in range(len(clusters) - 1, 0, -1) if clusters[i] == " "]
        # After the word boundaries, for when not even the first word fits: cuts inside it.
        first_word_end = at_words[-1] if at_words else len(clusters)
        cuts = [*at_words, *range(first_word_end - 1, 0, -1)]
        # Different cuts can leave the same text: each form once, where it first comes.
        self.lengths = [n for n in dict.fromkeys(map(kept, cuts)) if n]
        # Where each form's clusters end in `text`.
        if len(clusters) == len(text):
            self.ends = self.lengths
        else:
            offsets = [0, *accumulate(map(len, clusters))]
            self.ends = [offsets[n] for n in self.lengths]
        self.simple: dict[str, bool] = {}

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self.text[: self.ends[index]] + ELLIPSIS

    def size(self, platform: str, index: int) -> _Size:
        """``_size(platform, self[index])``; for simple text (most), without making the form."""
        simple = self.simple.get(platform)
        if simple is None:
            simple = self.simple[platform] = _simple(platform, self.text)
        end = self.ends[index]
        if not simple:
            form = self[index]
            return count(platform, form), _utf8(form)
        length = end + _ELLIPSIS_COUNT[platform]
        if platform == "x":
            length += bisect_left(self.heavy, end)
        size = end if self.text.isascii() else _utf8(self.text[:end])
        return length, size + _utf8(ELLIPSIS)

    @cached_property
    def heavy(self) -> list[int]:
        """Where the code points X weighs 2 are in `text`."""
        return [match.start() for match in _X_HEAVY.finditer(self.text)]


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


@lru_cache(maxsize=4096)
def _fuses(cluster: str) -> bool:
    """Whether `cluster` and an ellipsis after it make one grapheme cluster, not two."""
    return len(graphemes(cluster + ELLIPSIS)) != 2


@lru_cache(maxsize=16)  # each platform's post of an article shortens the same summary
def _forms(text: str) -> _Shortened:
    return _Shortened(text)


def _shortened(text: str) -> list[str]:
    """Every shortened form of `text`, longest first, each ending in "…"."""
    return list(_forms(text))


def _longest(forms: int, ok: Callable[[int], bool]) -> int | None:
    """The first of `forms` forms (longest first) that is `ok`, or None when none is."""
    low, high = 0, forms  # binary search: a shorter form never counts more
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    # `high` only ever moves to a form that is ok
    return low if low < forms else None


def _shorten(platform: str, text: str, ok: Callable[[_Size], bool]) -> tuple[str, _Size | None]:
    """The longest shortened form of `text` whose size is `ok`, with that size; "" when none is."""
    forms = _forms(text)
    best = _longest(len(forms), lambda index: ok(forms.size(platform, index)))
    if best is None:
        return "", None
    return forms[best], forms.size(platform, best)


def compose(
    platform: str,
    *,
    title: str,
    summary: str,
    url: str,
    categories: Sequence[str],
    hashtags: int = 3,
    suffix: str = "",
    limit: int | None = None,
) -> Post:
    """The post for `platform`, shortened as the module docstring describes until it fits.

    `limit` replaces the platform's usual one (a Mastodon instance that allows more). Raises
    ValueError for an unknown platform, a URL with spaces in it, or when the URL and the suffix
    alone do not fit.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    cap = LIMITS[platform] if limit is None else limit
    link = unicodedata.normalize("NFC", url.strip())
    if not link or _SPACE.search(link):
        raise ValueError(f"a post's URL must be one word, not {url!r}")
    article = _article(title, summary, tuple(categories), hashtags)
    title, summary, tags, suffix = article.title, article.summary, article.tags, normalize(suffix)

    def fits(*sizes: _Size | None) -> bool:
        length, size = _total(sizes)
        return length <= cap and (platform != "bluesky" or size <= BLUESKY_MAX_BYTES)

    at = _size(platform, link)
    if not fits(at, _size(platform, suffix)):
        alone = "\n\n".join(part for part in (link, suffix) if part)
        raise ValueError(
            f"{platform}: the URL and suffix alone need {count(platform, alone)},"
            f" more than the limit of {cap}"
        )
    tail = _tail(tags, suffix)
    heading, lead, end = _size(platform, title), _size(platform, summary), _size(platform, tail)
    if not fits(heading, lead, at, end):
        summary, lead = _shorten(platform, summary, lambda form: fits(heading, form, at, end))
    if not fits(heading, lead, at, end):
        title, heading = _shorten(platform, title, lambda form: fits(form, lead, at, end))
    while not fits(heading, lead, at, end):
        tags = tags[:-1]
        tail = _tail(tags, suffix)
        end = _size(platform, tail)
    text = "\n\n".join(block for block in (title, summary, link, tail) if block)
    facets = _facets((title, summary), link, tags) if platform == "bluesky" else ()
    return Post(platform, text, _total((heading, lead, at, end))[0], cap, facets)


def _facets(before: Sequence[str], link: str, tags: Sequence[str]) -> tuple[dict[str, object], ...]:
    """The link facet and one tag facet per hashtag, with UTF-8 byte offsets into the text:
    `before` are the parts before the link, the tags come after it."""
    offset = sum(_utf8(block) + 2 for block in before if block)  # in bytes
    facets = [_facet(offset, link, {"uri": link}, "link")]
    offset += _utf8(link) + 2
    for tag in tags:
        facets.append(_facet(offset, tag, {"tag": tag[1:]}, "tag"))
        offset += _utf8(tag) + 1
    return tuple(facets)


def _facet(start: int, span: str, feature: dict[str, object], kind: str) -> dict[str, object]:
    return {
        "index": {"byteStart": start, "byteEnd": start + _utf8(span)},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **feature}],
    }
