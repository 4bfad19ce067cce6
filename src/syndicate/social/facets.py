"""Bluesky's rich-text facets of a post text, found exactly as Bluesky's own code finds them.

A Bluesky post's links and hashtags are not found by the server: the client sends their
byte ranges with the text (``app.bsky.richtext.facet``).  The official client, and anyone
who posts with ``@atproto/api``, finds them with ``RichText.detectFacets``; a post syndicate
makes carries the facets it finds, to the byte, so that every link and hashtag in the text
works, whether syndicate put it there (the article's URL, its tags) or the article's text
did.  Its rules, as its source (``rich-text/detection.ts`` and ``util.ts``) has them:

* a link is ``http(s)://`` and what follows up to a space, or a domain whose top-level
  domain is in npm's ``tlds`` list, with a path; after a space, a "(" or at a line's start;
  one final ".,;:!?", and a final ")" when there is no "(", are not part of it;
* a tag is "#" or "＃" after a space or at the start, then any run of characters up to a
  space that holds something besides digits and punctuation, without its final
  punctuation, 64 graphemes at most;
* a cashtag is "$" and a letter, then at most four letters or digits.

Mentions are left out: a mention's facet names an account by its DID, which only the
network can tell, and post texts from an article hold none (see ``text.unmention``).
JavaScript's ``\\s`` and ``\\d`` are not Python's, and are spelt out here.
"""

from __future__ import annotations

import regex

from .platform_data import BLUESKY_TLDS

#: JavaScript's ``\s``: its WhiteSpace and LineTerminator characters.
_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
#: The same, for ``str.strip`` (JavaScript's ``trim``).
_SPACE_CHARACTERS = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"

_LINK = regex.compile(
    rf"(^|[{_SPACE}(])"
    rf"([hH][tT][tT][pP][sS]?://[^{_SPACE}]+"
    rf"|(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)[^{_SPACE}]*)",
    regex.MULTILINE,
)
_TAG = regex.compile(
    rf"(\A|[{_SPACE}])[#＃]"
    rf"((?!\ufe0f)[^{_SPACE}{_INVISIBLE}]*"
    rf"[^0-9{_SPACE}\p{{P}}{_INVISIBLE}]+[^{_SPACE}{_INVISIBLE}]*)?"
)
_CASHTAG = regex.compile(
    rf"(\A|[{_SPACE}(])\$([A-Za-z][A-Za-z0-9]{{0,4}})(?=[{_SPACE}]|\Z|[.,;:!?)\"'\u2019])"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+\Z")
_GRAPHEME = regex.compile(r"\X")
#: The longest tag Bluesky keeps, in graphemes.
TAG_MAX_GRAPHEMES = 64

Facet = dict[str, object]


def detect_facets(text: str) -> tuple[Facet, ...]:
    """The link and tag facets ``RichText.detectFacets`` finds in *text*, in its order:
    links, then tags, then cashtags, each with its UTF-8 byte range."""
    facets = [*_links(text), *_tags(text), *_cashtags(text)]
    return tuple(facets)


def _facet(text: str, start: int, end: int, kind: str, **feature: str) -> Facet:
    before = len(text[:start].encode("utf-8"))
    return {
        "index": {"byteStart": before, "byteEnd": before + len(text[start:end].encode("utf-8"))},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **feature}],
    }


def _valid_domain(domain: str) -> bool:
    return domain.rsplit(".", 1)[-1] in BLUESKY_TLDS


def _links(text: str) -> list[Facet]:
    found = []
    for match in _LINK.finditer(text):
        uri = match.group(2)
        if not uri.startswith("http"):  # as detectFacets compares: "HTTPS://" is no link
            domain = match.group("domain")
            if not domain or not _valid_domain(domain):
                continue
            uri = f"https://{uri}"
        start, end = match.span(2)
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        found.append(_facet(text, start, end, "link", uri=uri))
    return found


def _tags(text: str) -> list[Facet]:
    found = []
    for match in _TAG.finditer(text):
        tag = match.group(2)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip(_SPACE_CHARACTERS))
        if not tag or len(_GRAPHEME.findall(tag)) > TAG_MAX_GRAPHEMES:
            continue
        start = match.end(1)
        found.append(_facet(text, start, start + 1 + len(tag), "tag", tag=tag))
    return found


def _cashtags(text: str) -> list[Facet]:
    found = []
    for match in _CASHTAG.finditer(text):
        ticker = match.group(2)
        start = match.end(1)
        end = start + 1 + len(ticker)
        found.append(_facet(text, start, end, "tag", tag="$" + ticker.upper()))
    return found
