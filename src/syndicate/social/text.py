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

import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate

import regex

from .counting import (
    BLUESKY_MAX_BYTES,
    LIMITS,
    PLATFORMS,
    X_HEAVY,
    _clusters,
    _simple,
    _url_spans,
    count,
    graphemes,
)
from .facets import TAG_MAX_GRAPHEMES, detect_facets

ELLIPSIS = "…"

# A word that is, or holds, a link as some platform reads one: "://", or a dot between a
# letter or digit and an ASCII letter (a domain, as Bluesky and X find one; not "2.5").
_LINK_WORD = regex.compile(r"(?<!\S)\S*(?:://|[\p{L}\p{N}]\.[A-Za-z])\S*")
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


#: What an at sign that would mention someone becomes: SMALL COMMERCIAL AT, which reads as
#: "@" and which no platform takes for one.  twitter-text's at signs are "@" and FULLWIDTH
#: COMMERCIAL AT "＠" (so "＠" would still mention on X); Mastodon's and Bluesky's, "@".
NOT_A_MENTION = "\ufe6b"

# An at sign some platform reads as the start of a mention when a name follows it: X after
# anything but an ASCII letter, digit or "_" (or after "RT" or "RT:"), Mastodon after
# anything but a word character, "=" or "/", Bluesky after a space or "(".
_MENTION_SIGN = regex.compile(
    r"(?:(?<![A-Za-z0-9_])|(?<=(?:^|[^A-Za-z0-9_+~.\-])[rR][tT]:?))[@＠](?=[A-Za-z0-9_.\-])"
)


def unmention(text: str) -> str:
    """*text* with every at sign that would mention someone on X, Mastodon or Bluesky
    written as :data:`NOT_A_MENTION`: a title such as "Interview with @alice@example.social"
    names her to readers without notifying her, or a stranger of the same name.  An at sign
    inside a link ("https://example.social/@alice") stays: it is part of the address."""
    if "@" not in text and "＠" not in text:
        return text
    links = _url_spans(text)
    return _MENTION_SIGN.sub(
        lambda sign: (
            sign.group()
            if any(start <= sign.start() < end for start, end in links)
            else NOT_A_MENTION
        ),
        text,
    )


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
    return _Article(unmention(normalize(title)), unmention(normalize(summary)), tuple(tags))


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
        maybe = "." in text or "://" in text
        links = [found.span() for found in _LINK_WORD.finditer(text)] if maybe else []
        offsets = (
            [0, *accumulate(map(len, clusters))] if links or len(clusters) != len(text) else []
        )

        def kept(n: int) -> int:
            while True:
                while n and _cut_after(clusters[n - 1][-1]):
                    n -= 1
                # A cluster that would fuse with the ellipsis (a prepended mark) goes too.
                while n and _fuses(clusters[n - 1]):
                    n -= 1
                # A link the cut ends in goes whole: Bluesky would read "…" as part of it,
                # and a link cut short leads nowhere.
                end = offsets[n] if offsets else n
                link = next((start for start, stop in links if start < end <= stop), None)
                if link is None:
                    return n
                n = bisect_left(offsets, link)

        at_words = [i for i in range(len(clusters) - 1, 0, -1) if clusters[i] == " "]
        # After the word boundaries, for when not even the first word fits: cuts inside it.
        first_word_end = at_words[-1] if at_words else len(clusters)
        cuts = [*at_words, *range(first_word_end - 1, 0, -1)]
        # Different cuts can leave the same text: each form once, where it first comes.
        self.lengths = [n for n in dict.fromkeys(map(kept, cuts)) if n]
        # Where each form's clusters end in `text`.
        self.ends = [offsets[n] for n in self.lengths] if offsets else self.lengths
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
        return [match.start() for match in X_HEAVY.finditer(self.text)]


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
    facets = detect_facets(text) if platform == "bluesky" else ()
    return Post(platform, text, _total((heading, lead, at, end))[0], cap, facets)
