"""Feed validators for the test suite.

Each public function takes the raw bytes of a feed and returns a list of human-readable
problems; an empty list means the feed passed every check.  Every problem starts with a
bracketed tag naming the rule that produced it, e.g. ``[MissingTitle] line 3: ...``.  Where a
rule mirrors an error of the W3C Feed Validation Service (https://github.com/w3c/feedvalidator),
the tag is that service's message name, so its documentation page
(``https://validator.w3.org/feed/docs/error/<Name>.html``) explains the rule.

The checks were written from reading feedvalidator's rules, not by copying its code.  A few
rules are stricter than feedvalidator, which only *warns* about them; each says so in its
comment.

* RSS 2.0 and Atom 1.0 are parsed with feedparser (its ``bozo`` exceptions are reported)
  and with lxml, which the rules inspect.  Atom is also validated against the RELAX NG
  schema of RFC 4287 (``schemas/atom.rnc``).
* JSON Feed 1.1 is validated against ``schemas/jsonfeed-1.1.schema.json``.  It is *not*
  passed to feedparser: the installed feedparser (6.0.x) has no JSON Feed support and
  reports every JSON document as malformed XML.
"""

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import feedparser
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from lxml import etree

__all__ = ["atom_problems", "json_feed_problems", "rss_problems"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
ATOM_RNC = SCHEMA_DIR / "atom.rnc"
JSON_FEED_SCHEMA = SCHEMA_DIR / "jsonfeed-1.1.schema.json"

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
MEDIA_NS = "http://search.yahoo.com/mrss/"

Element: TypeAlias = etree._Element
Rule: TypeAlias = Callable[[Element], Iterator[str]]


# --------------------------------------------------------------------------------------------
# Value checks shared by the rules
# --------------------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_HIERARCHICAL_SCHEMES = frozenset({"http", "https", "ftp"})


def _has_scheme(value: str) -> bool:
    """True if ``value`` is an absolute URI reference (it starts with a scheme)."""
    return bool(_SCHEME_RE.match(value.strip()))


def _is_full_uri(value: str) -> bool:
    """An absolute URI/IRI without whitespace; http(s)/ftp ones also need a host."""
    if not value or any(char.isspace() for char in value) or not _has_scheme(value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() not in _HIERARCHICAL_SCHEMES or bool(parts.hostname)


def _is_http_url(value: str) -> bool:
    return _is_full_uri(value) and urlsplit(value).scheme.lower() in {"http", "https"}


_TAG_URI_RE = re.compile(
    r"^tag:(?:[A-Za-z0-9._%+\-]+@)?[A-Za-z0-9.\-]+,[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?:\S*$"
)
_UUID_URN_RE = re.compile(r"^urn:uuid:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.I)
_URN_RE = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9\-]{1,31}:\S+$", re.I)


def _identifier_problem(value: str) -> tuple[str, str] | None:
    """Check an Atom id / RSS permalink; return (message name, reason) if it is not valid."""
    scheme = value.split(":", 1)[0].lower()
    if scheme == "tag" and not _TAG_URI_RE.match(value):
        return "InvalidTAG", "is not a valid tag: URI (RFC 4151)"
    if value.lower().startswith("urn:uuid:") and not _UUID_URN_RE.match(value):
        return "InvalidUUID", "is not a valid urn:uuid: URN"
    if scheme == "urn" and not _URN_RE.match(value):
        return "InvalidURN", "is not a valid URN"
    if not _is_full_uri(value):
        return "InvalidFullLink", "must be a full, absolute IRI"
    return None


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+"
_MIME_RE = re.compile(rf'^{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|"(?:[^"\\]|\\.)*"))*$')

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z0-9][A-Za-z0-9\-]*$"
)

# ISO 639-1 two-letter codes (plus the withdrawn iw/in/ji, still seen in the wild).
_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik in io is it iu iw ja ji jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn
    no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn
    so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa
    wo xh yi yo za zh zu
"""
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
_LANGUAGE_RE = re.compile(r"^(?:[A-Za-z]{2,3}|[IiXx])(?:-[A-Za-z0-9]{1,8})*$")


def _language_ok(value: str) -> bool:
    """RFC 5646-shaped tag whose two-letter primary subtag is a real ISO 639-1 code.

    Three-letter (ISO 639-2/3) primary subtags are accepted without a lookup.  The 4- and
    5-8-letter primary subtags of RFC 5646 are refused: none is registered, and allowing
    them would let values such as "english" through.
    """
    if not _LANGUAGE_RE.match(value):
        return False
    primary = value.split("-", 1)[0].lower()
    return len(primary) != 2 or primary in _ISO_639_1


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC822_RE = re.compile(
    rf"^(?:(?P<dow>{'|'.join(_DAYS)}), )?"
    rf"(?P<day>[0-9]{{1,2}}) (?P<month>{'|'.join(_MONTHS)}) (?P<year>[0-9]{{2,4}}) "
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"(?: (?P<zone>[+-][0-9]{4}|UT|GMT|[ECMP][SD]T|Z))?$"
)


def _rfc822_problem(value: str) -> tuple[str, str] | None:
    """Check an RSS date; return (message name, reason) if it is not a strict RFC 822 date."""
    match = _RFC822_RE.match(value)
    if not match:
        example = "'Mon, 02 Jan 2006 15:04:05 +0000'"
        return "InvalidRFC2822Date", f"is not an RFC 822 date-time like {example}"
    if match["zone"] is None:
        return "InvalidRFC2822Date", "has no timezone"
    if len(match["year"]) != 4:
        return "InvalidRFC2822Date", "must use a 4-digit year"
    zone = match["zone"]
    if zone[0] in "+-" and (int(zone[1:3]) > 23 or int(zone[3:]) > 59):
        return "InvalidRFC2822Date", "has an impossible timezone offset"
    try:
        date = dt.date(int(match["year"]), _MONTHS.index(match["month"]) + 1, int(match["day"]))
    except ValueError:
        return "InvalidRFC2822Date", "is not a real calendar date"
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or int(match["second"] or 0) > 60:
        return "InvalidRFC2822Date", "has an impossible time of day"
    if match["dow"] and _DAYS[date.weekday()] != match["dow"]:
        return "IncorrectDOW", f"says {match['dow']} but that date is a {_DAYS[date.weekday()]}"
    return None


_RFC3339_RE = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?P<fraction>\.[0-9]+)?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?$"
)


def _rfc3339_problem(value: str) -> str | None:
    """Reason why ``value`` is not an RFC 3339 date-time as RFC 4287 wants it, or None."""
    match = _RFC3339_RE.match(value)
    if not match:
        return "is not an RFC 3339 date-time like '2006-01-02T15:04:05Z'"
    if match["zone"] is None:
        return "has no timezone ('Z' or an offset such as '+01:00')"
    time = match["time"].replace(":60", ":59")  # a leap second is legal in RFC 3339
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    try:
        dt.datetime.fromisoformat(f"{match['date']}T{time}{zone}")
    except ValueError:
        return "is not a real date and time"
    return None


class _UrlAttributeCollector(HTMLParser):
    """Collect the href and src attribute values of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, name, value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _relative_urls_in_html(html: str) -> list[str]:
    collector = _UrlAttributeCollector()
    collector.feed(html)
    collector.close()
    return [
        f"<{tag} {attr}={value!r}>" for tag, attr, value in collector.urls if not _has_scheme(value)
    ]


# --------------------------------------------------------------------------------------------
# Helpers for the XML formats
# --------------------------------------------------------------------------------------------


def _problem(name: str, element: Element | None, message: str) -> str:
    where = f" line {element.sourceline}" if element is not None and element.sourceline else ""
    return f"[{name}]{where}: {message}"


def _text(element: Element) -> str:
    return (element.text or "").strip()


def _xml_parser() -> etree.XMLParser:
    # Never fetch or expand anything external while validating.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parse_xml(data: bytes) -> tuple[Element | None, list[str]]:
    try:
        return etree.fromstring(data, _xml_parser()), []
    except etree.XMLSyntaxError as exc:
        # feedvalidator: SAXError
        return None, [f"[SAXError]: XML is not well-formed: {exc}"]


def _feedparser_problems(data: bytes) -> list[str]:
    result = feedparser.parse(data)
    if not result.get("bozo"):
        return []
    exc = result.get("bozo_exception")
    return [f"[bozo]: feedparser flagged the feed: {type(exc).__name__}: {exc}"]


def _run(rules: Iterable[Rule], root: Element) -> list[str]:
    return [problem for rule in rules for problem in rule(root)]


def _tag(namespace: str | None, local: str) -> str:
    return f"{{{namespace}}}{local}" if namespace else local


# --------------------------------------------------------------------------------------------
# RSS 2.0
# --------------------------------------------------------------------------------------------


def _channel(root: Element) -> Element | None:
    return root.find("channel") if root.tag == "rss" else None


def _items(root: Element) -> list[Element]:
    channel = _channel(root)
    return [] if channel is None else channel.findall("item")


def rss_version(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidRSSVersion / MissingElement (root must be <rss version="2.0">)
    if root.tag != "rss":
        yield _problem("InvalidRSSVersion", root, f"root element is <{root.tag}>, not <rss>")
        return
    if root.get("version") != "2.0":
        yield _problem("InvalidRSSVersion", root, f"rss version={root.get('version')!r}, not 2.0")
    if len(root.findall("channel")) != 1:
        yield _problem("MissingElement", root, "rss must contain exactly one <channel>")


def rss_channel_required(root: Element) -> Iterator[str]:
    # feedvalidator: MissingTitle / MissingLink / MissingDescription
    channel = _channel(root)
    if channel is None:
        return
    for name, message in (
        ("title", "MissingTitle"),
        ("link", "MissingLink"),
        ("description", "MissingDescription"),
    ):
        if channel.find(name) is None:
            yield _problem(message, channel, f"channel is missing <{name}>")


def rss_item_title_or_description(root: Element) -> Iterator[str]:
    # feedvalidator: ItemMustContainTitleOrDescription
    for item in _items(root):
        if item.find("title") is None and item.find("description") is None:
            yield _problem(
                "ItemMustContainTitleOrDescription", item, "item has neither title nor description"
            )


_RSS_SINGLETONS = {
    "channel": (
        "title",
        "link",
        "description",
        "language",
        "copyright",
        "managingEditor",
        "webMaster",
        "pubDate",
        "lastBuildDate",
        "generator",
        "docs",
        "ttl",
        "image",
    ),
    "item": ("title", "link", "description", "author", "comments", "guid", "pubDate", "source"),
}


def rss_duplicate_elements(root: Element) -> Iterator[str]:
    # feedvalidator: DuplicateElement
    channel = _channel(root)
    if channel is None:
        return
    for parent in (channel, *_items(root)):
        for name in _RSS_SINGLETONS[str(parent.tag)]:
            if len(parent.findall(name)) > 1:
                message = f"{parent.tag} has more than one <{name}>"
                yield _problem("DuplicateElement", parent, message)


_RSS_TEXT_ELEMENTS = (
    "title",
    "link",
    "description",
    "language",
    "copyright",
    "managingEditor",
    "webMaster",
    "pubDate",
    "lastBuildDate",
    "generator",
    "docs",
    "author",
    "comments",
    "guid",
    "category",
)


def rss_text_only(root: Element) -> Iterator[str]:
    # feedvalidator: UndefinedElement (markup inside a text element must be escaped or CDATA)
    channel = _channel(root)
    if channel is None:
        return
    for parent in (channel, *_items(root)):
        for name in _RSS_TEXT_ELEMENTS:
            for element in parent.findall(name):
                for child in element:
                    if isinstance(child.tag, str):
                        yield _problem(
                            "UndefinedElement",
                            child,
                            f"<{name}> contains an unescaped <{etree.QName(child).localname}> "
                            "element; escape the HTML or wrap it in CDATA",
                        )


_AUTHOR_NAMED_RE = re.compile(r"^(?P<addr>\S+)\s*\([^()]*\)$")
_AUTHOR_BRACKETED_RE = re.compile(r"^[^<>]*<(?P<addr>[^<>]+)>$")


def rss_author_is_email(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidContact (author/managingEditor/webMaster must hold an email
    # address such as "jane@example.com (Jane Doe)"; a bare name belongs in dc:creator)
    channel = _channel(root)
    if channel is None:
        return
    elements = [*channel.findall("managingEditor"), *channel.findall("webMaster")]
    elements += [author for item in _items(root) for author in item.findall("author")]
    for element in elements:
        value = _text(element)
        # "addr (Name)" is the RSS convention; "Name <addr>" is tolerated (a warning in
        # feedvalidator); anything else must be a bare address.
        match = _AUTHOR_NAMED_RE.match(value) or _AUTHOR_BRACKETED_RE.match(value)
        address = match["addr"] if match else value
        if address.lower().startswith("mailto:"):
            address = address[len("mailto:") :]
        if not _EMAIL_RE.match(address):
            yield _problem(
                "InvalidContact",
                element,
                f"<{element.tag}> {value!r} is not an email address; put plain names in "
                "<dc:creator>",
            )


def rss_guid(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidHttpGUID / InvalidPermalink / InvalidBooleanAttribute
    for item in _items(root):
        for guid in item.findall("guid"):
            flag = guid.get("isPermaLink")
            if flag is not None and flag not in ("true", "false"):
                yield _problem(
                    "InvalidBooleanAttribute", guid, f"isPermaLink={flag!r} is not true/false"
                )
            if flag == "false":
                continue
            value = _text(guid)
            if value.lower().startswith(("tag:", "urn:")):
                yield _problem(
                    "InvalidPermalink",
                    guid,
                    f'guid {value!r} is not a URL; add isPermaLink="false"',
                )
            elif not _is_full_uri(value):
                yield _problem(
                    "InvalidHttpGUID",
                    guid,
                    f'guid {value!r} must be a full URL unless isPermaLink="false"',
                )


def rss_unique_guids(root: Element) -> Iterator[str]:
    # feedvalidator: DuplicateValue (guid values must not repeat within a feed)
    seen: set[str] = set()
    for item in _items(root):
        for guid in item.findall("guid"):
            value = _text(guid)
            if value in seen:
                yield _problem("DuplicateValue", guid, f"guid {value!r} is used more than once")
            seen.add(value)


def rss_dates(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidRFC2822Date / IncorrectDOW.  Two-digit years are only a warning
    # there (ProblematicalRFC822Date); here they are an error.
    channel = _channel(root)
    if channel is None:
        return
    elements = [*channel.findall("pubDate"), *channel.findall("lastBuildDate")]
    elements += [date for item in _items(root) for date in item.findall("pubDate")]
    for element in elements:
        value = _text(element)
        found = _rfc822_problem(value)
        if found:
            name, reason = found
            yield _problem(name, element, f"<{element.tag}> {value!r} {reason}")


def rss_links_absolute(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidFullLink (link, docs, comments, image url/link, source url).
    # Relative atom:link hrefs are checked here too (feedvalidator: RelativeSelf, a warning).
    channel = _channel(root)
    if channel is None:
        return
    targets: list[tuple[Element, str]] = []
    for parent in (channel, *_items(root)):
        for name in ("link", "docs", "comments"):
            targets += [(element, _text(element)) for element in parent.findall(name)]
        targets += [(source, source.get("url", "")) for source in parent.findall("source")]
        for link in parent.findall(_tag(ATOM_NS, "link")):
            if link.get("href") is not None:
                targets.append((link, link.get("href", "")))
    for image in channel.findall("image"):
        for name in ("url", "link"):
            targets += [(element, _text(element)) for element in image.findall(name)]
    for element, value in targets:
        if not _is_full_uri(value):
            message = f"<{etree.QName(element).localname}> {value!r} is not an absolute URL"
            yield _problem("InvalidFullLink", element, message)


def rss_atom_self_link(root: Element) -> Iterator[str]:
    # feedvalidator: MissingAtomSelfLink and SelfNotAtom (both warnings there).  We insist on
    # <atom:link rel="self" type="application/rss+xml" href="..."/> in the channel.
    channel = _channel(root)
    if channel is None:
        return
    selves = [link for link in channel.findall(_tag(ATOM_NS, "link")) if link.get("rel") == "self"]
    if not selves:
        yield _problem(
            "MissingAtomSelfLink", channel, 'channel has no <atom:link rel="self"> to its own URL'
        )
    for link in selves:
        if link.get("type") != "application/rss+xml":
            yield _problem(
                "SelfNotAtom",
                link,
                f'atom:link rel="self" has type={link.get("type")!r}, '
                "expected 'application/rss+xml'",
            )


def rss_enclosure(root: Element) -> Iterator[str]:
    # feedvalidator: MissingAttribute / InvalidURLAttribute / InvalidNonNegativeInteger /
    # InvalidMIMEAttribute
    for item in _items(root):
        for enclosure in item.findall("enclosure"):
            for attr in ("url", "length", "type"):
                if enclosure.get(attr) is None:
                    yield _problem("MissingAttribute", enclosure, f"enclosure has no {attr}")
            url, length, mime = (enclosure.get(attr) for attr in ("url", "length", "type"))
            if url is not None and not _is_http_url(url):
                yield _problem(
                    "InvalidURLAttribute", enclosure, f"enclosure url {url!r} is not http(s)"
                )
            if length is not None and not length.isdigit():
                yield _problem(
                    "InvalidNonNegativeInteger", enclosure, f"enclosure length {length!r}"
                )
            if mime is not None and not _MIME_RE.match(mime):
                yield _problem(
                    "InvalidMIMEAttribute", enclosure, f"enclosure type {mime!r} is not a MIME type"
                )


_MEDIA_MEDIUMS = ("image", "audio", "video", "document", "executable")
_MEDIA_EXPRESSIONS = ("sample", "full", "nonstop")


def _media_content_problems(content: Element) -> Iterator[str]:
    url = content.get("url")
    if url is None and content.find(_tag(MEDIA_NS, "player")) is None:
        # Media RSS: url may only be omitted when a media:player is given.
        yield _problem("MissingAttribute", content, "media:content has no url")
    elif url is not None and not _is_full_uri(url):
        yield _problem("InvalidFullLink", content, f"media:content url {url!r} is not absolute")
    medium = content.get("medium")
    if medium is not None and medium not in _MEDIA_MEDIUMS:
        yield _problem("InvalidMediaMedium", content, f"media:content medium={medium!r}")
    expression = content.get("expression")
    if expression is not None and expression not in _MEDIA_EXPRESSIONS:
        yield _problem(
            "InvalidMediaExpression", content, f"media:content expression={expression!r}"
        )
    mime = content.get("type")
    if mime is not None and not _MIME_RE.match(mime):
        yield _problem("InvalidMIMEAttribute", content, f"media:content type={mime!r}")
    for attr in ("fileSize", "width", "height"):
        value = content.get(attr)
        if value is not None and not (value.isdigit() and int(value) > 0):
            yield _problem("InvalidPositiveInteger", content, f"media:content {attr}={value!r}")
    channels = content.get("channels")
    if channels is not None and not channels.isdigit():
        yield _problem("InvalidNonNegativeInteger", content, f"media:content channels={channels!r}")
    for attr in ("bitrate", "framerate", "samplingrate", "duration"):
        value = content.get(attr)
        if value is not None and not re.fullmatch(r"[0-9]+(?:\.[0-9]*)?", value):
            yield _problem("InvalidFloat", content, f"media:content {attr}={value!r}")
    is_default = content.get("isDefault")
    if is_default is not None and is_default.lower() not in ("true", "false"):
        yield _problem("InvalidTrueFalse", content, f"media:content isDefault={is_default!r}")
    lang = content.get("lang")
    if lang is not None and not _language_ok(lang):
        yield _problem("InvalidLanguage", content, f"media:content lang={lang!r}")


def rss_media(root: Element) -> Iterator[str]:
    # feedvalidator: MediaRssNamespace, MissingAttribute, InvalidMediaMedium,
    # InvalidMediaExpression, InvalidMIMEAttribute, InvalidPositiveInteger, InvalidFloat, ...
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(
            "{http://search.yahoo.com/mrss}"
        ):
            yield _problem(
                "MediaRssNamespace",
                element,
                "Media RSS namespace lacks its trailing slash (use http://search.yahoo.com/mrss/)",
            )
            break
    for content in root.iter(_tag(MEDIA_NS, "content")):
        yield from _media_content_problems(content)
    for thumbnail in root.iter(_tag(MEDIA_NS, "thumbnail")):
        url = thumbnail.get("url")
        if url is None:
            yield _problem("MissingAttribute", thumbnail, "media:thumbnail has no url")
        elif not _is_full_uri(url):
            yield _problem(
                "InvalidFullLink", thumbnail, f"media:thumbnail url {url!r} is not absolute"
            )


def rss_language(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidLanguage
    channel = _channel(root)
    if channel is None:
        return
    elements = [*channel.findall("language"), *root.iter(_tag(DC_NS, "language"))]
    for element in elements:
        if not _language_ok(_text(element)):
            yield _problem(
                "InvalidLanguage",
                element,
                f"{_text(element)!r} is not an ISO 639 language code such as 'en' or 'en-us'",
            )


def rss_html_relative_urls(root: Element) -> Iterator[str]:
    # feedvalidator: ContainsRelRef (a warning there; an error here, since RSS has no base URI
    # that readers agree on)
    for item in _items(root):
        for element in (*item.findall("description"), *item.findall(_tag(CONTENT_NS, "encoded"))):
            for ref in _relative_urls_in_html(element.text or ""):
                label = etree.QName(element).localname
                yield _problem(
                    "ContainsRelRef", element, f"<{label}> HTML has a relative URL: {ref}"
                )


RSS_RULES: tuple[Rule, ...] = (
    rss_version,
    rss_channel_required,
    rss_item_title_or_description,
    rss_duplicate_elements,
    rss_text_only,
    rss_author_is_email,
    rss_guid,
    rss_unique_guids,
    rss_dates,
    rss_links_absolute,
    rss_atom_self_link,
    rss_enclosure,
    rss_media,
    rss_language,
    rss_html_relative_urls,
)


def rss_problems(data: bytes) -> list[str]:
    """Problems found in an RSS 2.0 document (empty when it is valid)."""
    problems = _feedparser_problems(data)
    root, syntax = _parse_xml(data)
    if root is None:
        return problems + syntax
    return problems + _run(RSS_RULES, root)


# --------------------------------------------------------------------------------------------
# Atom 1.0
# --------------------------------------------------------------------------------------------


@functools.cache
def atom_schema() -> etree.RelaxNG:
    """The RFC 4287 RELAX NG schema, converted from compact syntax once and cached."""
    return etree.RelaxNG.from_rnc_string(ATOM_RNC.read_text(encoding="utf-8"))


def _atom(local: str) -> str:
    return _tag(ATOM_NS, local)


def _entries(root: Element) -> list[Element]:
    return root.findall(_atom("entry")) if root.tag == _atom("feed") else []


def _feed_and_entries(root: Element) -> list[Element]:
    return [root, *_entries(root)] if root.tag == _atom("feed") else []


def _atom_name(element: Element) -> str:
    return f"atom:{etree.QName(element).localname}"


def atom_schema_rule(root: Element) -> Iterator[str]:
    # RFC 4287 Appendix B (RELAX NG); no single feedvalidator message
    schema = atom_schema()
    if schema.validate(root):
        return
    for error in schema.error_log:
        where = f" line {error.line}" if error.line else ""
        yield f"[RelaxNG]{where}: {error.message}"


def atom_feed_root(root: Element) -> Iterator[str]:
    # feedvalidator: UndefinedElement (the document must be an atom:feed)
    if root.tag != _atom("feed"):
        yield _problem("UndefinedElement", root, f"root element is {root.tag}, not atom:feed")


def atom_required(root: Element) -> Iterator[str]:
    # feedvalidator: MissingElement (feed and entry need id, title and updated)
    for element in _feed_and_entries(root):
        for name in ("id", "title", "updated"):
            if element.find(_atom(name)) is None:
                yield _problem(
                    "MissingElement", element, f"{_atom_name(element)} is missing atom:{name}"
                )


def atom_author(root: Element) -> Iterator[str]:
    # feedvalidator: MissingElement (author); RFC 4287 4.1.1: an entry needs an atom:author
    # unless its feed (or its atom:source) has one
    if root.tag != _atom("feed") or root.find(_atom("author")) is not None:
        return
    source_author = f"{_atom('source')}/{_atom('author')}"
    for entry in _entries(root):
        if entry.find(_atom("author")) is None and entry.find(source_author) is None:
            yield _problem(
                "MissingElement", entry, "atom:entry has no atom:author and neither does the feed"
            )


def atom_ids(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidFullLink / InvalidTAG / InvalidUUID / InvalidURN (atom:id must be
    # an absolute IRI)
    for element in _feed_and_entries(root):
        for id_element in element.findall(_atom("id")):
            value = id_element.text or ""
            found = _identifier_problem(value)
            if found:
                name, reason = found
                yield _problem(name, id_element, f"atom:id {value!r} {reason}")


def atom_dates(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidRFC3339Date (updated/published, timezone required)
    for element in root.iter(_atom("updated"), _atom("published")):
        value = element.text or ""
        reason = _rfc3339_problem(value)
        if reason:
            yield _problem(
                "InvalidRFC3339Date", element, f"{_atom_name(element)} {value!r} {reason}"
            )


def atom_links(root: Element) -> Iterator[str]:
    # feedvalidator: MissingHref / InvalidMIMEType
    for link in root.iter(_atom("link")):
        if link.get("href") is None:
            yield _problem("MissingHref", link, "atom:link has no href")
        mime = link.get("type")
        if mime is not None and not _MIME_RE.match(mime):
            yield _problem("InvalidMIMEType", link, f"atom:link type={mime!r} is not a MIME type")


def atom_uris_absolute(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidFullLink / RelativeSelf.  feedvalidator accepts references that
    # xml:base resolves; we require every link, icon, logo, uri and src to be absolute.
    targets: list[tuple[Element, str, str]] = []
    for link in root.iter(_atom("link")):
        if link.get("href") is not None:
            targets.append((link, "href", link.get("href", "")))
    for name in ("icon", "logo", "uri"):
        targets += [(element, "", element.text or "") for element in root.iter(_atom(name))]
    for element in root.iter(_atom("generator"), _atom("content")):
        for attr in ("uri", "src"):
            if element.get(attr) is not None:
                targets.append((element, attr, element.get(attr, "")))
    for element, attr, value in targets:
        if not _is_full_uri(value):
            name = "RelativeSelf" if element.get("rel") == "self" else "InvalidFullLink"
            where = f"{_atom_name(element)} {attr}".strip()
            yield _problem(name, element, f"{where} {value!r} is not an absolute URL")


def atom_self_link(root: Element) -> Iterator[str]:
    # feedvalidator: MissingSelf / SelfNotAtom (warnings there)
    if root.tag != _atom("feed"):
        return
    selves = [link for link in root.findall(_atom("link")) if link.get("rel") == "self"]
    if not selves:
        yield _problem("MissingSelf", root, 'atom:feed has no atom:link rel="self"')
    for link in selves:
        mime = link.get("type")
        if mime is not None and mime.split(";")[0].strip() != "application/atom+xml":
            yield _problem(
                "SelfNotAtom", link, f'rel="self" link has type={mime!r}, not application/atom+xml'
            )


def atom_enclosure(root: Element) -> Iterator[str]:
    # feedvalidator: MissingAttribute (as for RSS enclosures) / InvalidNonNegativeInteger.
    # RFC 4287 only says length SHOULD be given, so a missing length is not reported.
    for link in root.iter(_atom("link")):
        if link.get("rel") != "enclosure":
            continue
        if link.get("type") is None:
            yield _problem("MissingAttribute", link, 'atom:link rel="enclosure" has no type')
        length = link.get("length")
        if length is not None and not length.isdigit():
            yield _problem("InvalidNonNegativeInteger", link, f"enclosure link length={length!r}")


def atom_content_or_alternate(root: Element) -> Iterator[str]:
    # feedvalidator: MissingContentOrAlternate
    for entry in _entries(root):
        alternates = [
            link
            for link in entry.findall(_atom("link"))
            if link.get("rel", "alternate") == "alternate"
        ]
        if entry.find(_atom("content")) is None and not alternates:
            yield _problem(
                "MissingContentOrAlternate",
                entry,
                'atom:entry needs atom:content or an atom:link rel="alternate"',
            )


def atom_duplicate_alternate(root: Element) -> Iterator[str]:
    # feedvalidator: DuplicateAtomLink (one alternate link per type and hreflang)
    for element in _feed_and_entries(root):
        seen: set[tuple[str | None, str | None]] = set()
        for link in element.findall(_atom("link")):
            if link.get("rel", "alternate") != "alternate":
                continue
            key = (link.get("type"), link.get("hreflang"))
            if key in seen:
                yield _problem(
                    "DuplicateAtomLink",
                    link,
                    f"second alternate link with type={key[0]!r} hreflang={key[1]!r}",
                )
            seen.add(key)


_TEXT_CONSTRUCTS = ("title", "subtitle", "summary", "rights", "content")


def atom_text_escaped(root: Element) -> Iterator[str]:
    # feedvalidator: UndefinedElement / MissingXhtmlDiv.  type="text"/"html" content must
    # be escaped text; type="xhtml" must wrap its markup in one xhtml:div.
    for element in root.iter(*(_atom(name) for name in _TEXT_CONSTRUCTS)):
        kind = element.get("type", "text")
        children = [child for child in element if isinstance(child.tag, str)]
        if kind in ("text", "html") and element.get("src") is None and children:
            yield _problem(
                "UndefinedElement",
                children[0],
                f'{_atom_name(element)} type="{kind}" contains unescaped markup '
                f'<{etree.QName(children[0]).localname}>; escape it or use type="xhtml"',
            )
        if kind == "xhtml" and (len(children) != 1 or children[0].tag != _tag(XHTML_NS, "div")):
            message = f'{_atom_name(element)} type="xhtml" must contain exactly one xhtml:div'
            yield _problem("MissingXhtmlDiv", element, message)


def atom_html_relative_urls(root: Element) -> Iterator[str]:
    # feedvalidator: ContainsRelRef (a warning there; xml:base is not honoured here)
    for element in root.iter(*(_atom(name) for name in _TEXT_CONSTRUCTS)):
        kind = element.get("type", "text")
        refs: list[str] = []
        if kind == "html":
            refs = _relative_urls_in_html(element.text or "")
        elif kind == "xhtml":
            for node in element.iter():
                for attr in ("href", "src"):
                    value = node.get(attr)
                    if value is not None and not _has_scheme(value):
                        refs.append(f"<{etree.QName(node).localname} {attr}={value!r}>")
        for ref in refs:
            yield _problem(
                "ContainsRelRef", element, f"{_atom_name(element)} has a relative URL: {ref}"
            )


def atom_language(root: Element) -> Iterator[str]:
    # feedvalidator: InvalidLanguage (xml:lang and hreflang)
    lang_attr = _tag(XML_NS, "lang")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attr, label in ((lang_attr, "xml:lang"), ("hreflang", "hreflang")):
            value = element.get(attr)
            if value is None or (attr == "hreflang" and element.tag != _atom("link")):
                continue
            if value and not _language_ok(value):  # xml:lang="" is legal: "no language"
                yield _problem("InvalidLanguage", element, f"{label}={value!r}")


_ATOM_UNQUALIFIED_ATTRIBUTES = {
    "title": {"type"},
    "subtitle": {"type"},
    "summary": {"type"},
    "rights": {"type"},
    "content": {"type", "src"},
    "category": {"term", "scheme", "label"},
    "generator": {"uri", "version"},
    "link": {"href", "rel", "type", "hreflang", "title", "length"},
}


def atom_unexpected_attribute(root: Element) -> Iterator[str]:
    # feedvalidator: UnexpectedAttribute.  This is the RFC schema's `local:*` exclusion,
    # which had to be dropped from atom.rnc for rnc2rng (see the note at its top).
    for element in root.iter(f"{{{ATOM_NS}}}*"):
        allowed = _ATOM_UNQUALIFIED_ATTRIBUTES.get(etree.QName(element).localname, set())
        for attr in element.attrib:
            if not str(attr).startswith("{") and attr not in allowed:
                yield _problem(
                    "UnexpectedAttribute", element, f"{_atom_name(element)} has attribute {attr!r}"
                )


ATOM_RULES: tuple[Rule, ...] = (
    atom_schema_rule,
    atom_feed_root,
    atom_required,
    atom_author,
    atom_ids,
    atom_dates,
    atom_links,
    atom_uris_absolute,
    atom_self_link,
    atom_enclosure,
    atom_content_or_alternate,
    atom_duplicate_alternate,
    atom_text_escaped,
    atom_html_relative_urls,
    atom_language,
    atom_unexpected_attribute,
)


def atom_problems(data: bytes) -> list[str]:
    """Problems found in an Atom 1.0 feed document (empty when it is valid)."""
    problems = _feedparser_problems(data)
    root, syntax = _parse_xml(data)
    if root is None:
        return problems + syntax
    return problems + _run(ATOM_RULES, root)


# --------------------------------------------------------------------------------------------
# JSON Feed 1.1
# --------------------------------------------------------------------------------------------


@functools.cache
def json_feed_validator() -> Draft202012Validator:
    """A validator for the JSON Feed 1.1 schema, loaded once and cached."""
    schema = json.loads(JSON_FEED_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"key {key!r} appears twice in one object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_path(path: Iterable[str | int]) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _schema_message(error: ValidationError) -> str:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    if title and error.validator in ("pattern", "format", "anyOf"):
        # The schema's $defs carry short titles; they read better than a regex.
        message = f"{error.instance!r} is not a valid {title}"
    elif error.validator == "additionalProperties":
        hint = "other keys must be extensions: '_' then a letter, and no '.'"
        message = f"{error.message} ({hint})"
    elif error.context:  # anyOf/oneOf: say what each alternative wanted
        wanted = "; ".join(sorted({sub.message for sub in error.context}))
        message = f"{error.message} ({wanted})"
    else:
        message = error.message
    return f"[JSONSchema] {_json_path(error.absolute_path)}: {message}"


def _json_items(feed: Any) -> list[dict[str, Any]]:
    items = feed.get("items") if isinstance(feed, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def json_unique_item_ids(feed: Any) -> Iterator[str]:
    # feedvalidator: DuplicateValue (the JSON Feed spec: an id is unique within the feed)
    seen: dict[str, int] = {}
    for index, item in enumerate(_json_items(feed)):
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in seen:
            yield (
                f"[DuplicateValue] $.items[{index}].id: {item_id!r} is already used by "
                f"$.items[{seen[item_id]}]"
            )
        seen.setdefault(item_id, index)


def json_next_url(feed: Any) -> Iterator[str]:
    # JSON Feed 1.1 (no feedvalidator equivalent): next_url must not be the same as feed_url
    if not isinstance(feed, dict) or "next_url" not in feed:
        return
    if feed["next_url"] == feed.get("feed_url"):
        yield "[NextUrlIsFeedUrl] $.next_url: must not be the same as feed_url"


def json_dates(feed: Any) -> Iterator[str]:
    # feedvalidator: InvalidRFC3339Date.  The schema's pattern checks the syntax; this catches
    # well-formed but impossible dates such as 2024-02-30 (no date-time format checker is
    # installed for jsonschema).
    for index, item in enumerate(_json_items(feed)):
        for key in ("date_published", "date_modified"):
            value = item.get(key)
            if isinstance(value, str) and _RFC3339_RE.match(value.upper()):
                reason = _rfc3339_problem(value.upper())
                if reason:
                    yield f"[InvalidRFC3339Date] $.items[{index}].{key}: {value!r} {reason}"


def json_language(feed: Any) -> Iterator[str]:
    # feedvalidator: InvalidLanguage
    places = [("$.language", feed.get("language") if isinstance(feed, dict) else None)]
    places += [
        (f"$.items[{index}].language", item.get("language"))
        for index, item in enumerate(_json_items(feed))
    ]
    for path, value in places:
        if isinstance(value, str) and not _language_ok(value):
            yield f"[InvalidLanguage] {path}: {value!r} is not an ISO 639 language tag"


def json_html_relative_urls(feed: Any) -> Iterator[str]:
    # feedvalidator: ContainsRelRef
    for index, item in enumerate(_json_items(feed)):
        html = item.get("content_html")
        if isinstance(html, str):
            for ref in _relative_urls_in_html(html):
                yield f"[ContainsRelRef] $.items[{index}].content_html: relative URL {ref}"


JSON_RULES: tuple[Callable[[Any], Iterator[str]], ...] = (
    json_unique_item_ids,
    json_next_url,
    json_dates,
    json_language,
    json_html_relative_urls,
)


def json_feed_problems(data: bytes) -> list[str]:
    """Problems found in a JSON Feed 1.1 document (empty when it is valid)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"[JSONSyntax]: not UTF-8: {exc}"]
    try:
        feed = json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except _DuplicateKeyError as exc:
        return [f"[DuplicateElement]: {exc}"]
    except ValueError as exc:
        return [f"[JSONSyntax]: not valid JSON: {exc}"]
    validator = json_feed_validator()
    problems = [
        _schema_message(error)
        for error in sorted(validator.iter_errors(feed), key=lambda e: _json_path(e.absolute_path))
    ]
    return problems + [problem for rule in JSON_RULES for problem in rule(feed)]
