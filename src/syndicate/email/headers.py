"""The headers of an email: every value checked, made one line, folded, and read back.

Built with the standard ``email`` package: ``email.policy.SMTP`` and its header registry,
``email.header`` for RFC 2047 encoded-words, ``email.utils.formataddr`` for quoting
names.  Nothing encodes a header by hand.  Some
headers are folded by classes of our own (registered through ``HeaderRegistry``), only at
spaces the value already has, because the registry's folder gets them wrong in the Python
versions we support (seen on 3.11.7, 3.12.1 and 3.13.0):

* it leaves the space between two encoded-words outside both, where RFC 2047 readers drop
  it: a long Vietnamese subject or name arrives with words run together (CPython
  gh-92081).  :class:`_TextHeader` and :class:`_MailboxHeader` encode the whole text with
  ``email.header``, which keeps every space inside an encoded-word;
* it drops the quotes of a quoted name too long for one line, so ``"Doe, Jane"`` becomes
  two addresses (CPython gh-80222, fixed in 2025 security releases);
* it turns a URL or list id too long for one line into an encoded-word, which no mail
  program reads inside ``<...>``: :class:`_LinksHeader` and :class:`_ListIdHeader` never
  encode them.

Whatever the Python, every header is parsed back before the message is returned
(:func:`check_round_trip`): a header that would not read back as set is an error, never
a message to someone else.  And every value is made one line first (:func:`one_line`), so
a CR, LF or other control character in a subject, name, list id or URL can never start a
header of its own.

What belongs to one reader (their address and name in To, their unsubscribe link) is
never quoted in an error: the error names the header and the problem, and the caller
names the reader (by their line in the list).  A reader whose address needs SMTPUTF8
(RFC 6531: a local part that is not ASCII) gets a To header in UTF-8 (RFC 6532); every
other header, and every other reader's To, stays ASCII.
"""

from __future__ import annotations

import hashlib
import re
from email.errors import NonASCIILocalPartDefect, ObsoleteHeaderDefect
from email.header import Header
from email.headerregistry import (
    Address,
    AddressHeader,
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UniqueUnstructuredHeader,
)
from email.message import EmailMessage
from email.parser import HeaderParser
from email.policy import SMTP, Policy, default
from email.utils import formataddr, quote
from typing import Any
from urllib.parse import urlsplit

from ..errors import RenderError

#: RFC 5322 2.1.1: no line of a message may be longer than this, CRLF excluded.
MAX_LINE_OCTETS = 998
#: The URLs of List-Unsubscribe each get a line of their own at most (RFC 5322 2.1.1).
MAX_URL_LENGTH = 900

#: C0 and C1 controls (CR, LF, tab, NUL, vertical tab, NEL...), space, DEL, and the
#: Unicode line and paragraph separators: none of them may survive inside a header value.
_BREAKS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")
#: RFC 5322 3.2.3 atext, and dot-atom-text (RFC 2919 list ids, message ids).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_PHRASE_ATOMS = re.compile(rf"(?:{_ATEXT}+ ?)*{_ATEXT}+")
_LIST_ID = re.compile(r"(?P<phrase>.*?) ?<(?P<id>[^<>]*)>")
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
#: The headers that hold a reader's own address or link: errors never quote their values.
_PRIVATE = frozenset({"To", "List-Unsubscribe"})


def message_id(digest_id: str, recipient: str, domain: str) -> str:
    """``<digest-id.hash@domain>``: the same for every retry of one digest to one reader.

    The reader's address is hashed with the digest id (SHA-256, 128 bits), so the
    id differs per reader and per digest without showing the address.
    """
    if not _DOT_ATOM.fullmatch(digest_id):
        raise RenderError(f"digest id {digest_id!r} cannot be part of a Message-ID")
    address = mailbox(recipient, "To", smtputf8=True).addr_spec
    token = hashlib.sha256(f"{digest_id}\n{address}".encode()).hexdigest()[:32]
    return f"<{digest_id}.{token}@{_domain(domain)}>"


def one_line(value: str) -> str:
    """*value* with each run of whitespace and control characters (CR, LF, tab, NUL...)
    made one space, and trimmed: text that can never start a header line of its own."""
    return _BREAKS.sub(" ", value).strip(" ")


def mailbox(value: str, field: str, *, smtputf8: bool = False) -> Address:
    """The one mailbox in *value* ("Name <address>" or "address"), its address checked
    for syntax by email-validator (never DNS) and its domain in ASCII (IDNA).

    Raises :class:`RenderError` unless *value* is exactly one mailbox.  Line breaks
    in the name become spaces; inside the address they are refused, never dropped.
    An address whose local part is not ASCII is refused too, unless *smtputf8* (the
    transport then needs SMTPUTF8).  For the To header the error never quotes *value*.
    """
    from email_validator import EmailNotValidError, validate_email

    text = one_line(value)
    shown = "the reader's address" if field in _PRIVATE else repr(value)
    problem = f"{field}: {shown} is not one address, such as 'Name <name@example.org>'"
    try:
        header: Any = default.header_factory(field, text)
    except Exception as error:  # the parser raises IndexError, too, on some broken input
        raise RenderError(problem) from None if field in _PRIVATE else error
    groups = header.groups
    allowed = (ObsoleteHeaderDefect, NonASCIILocalPartDefect) if smtputf8 else ObsoleteHeaderDefect
    if (
        len(groups) != 1
        or groups[0].display_name is not None
        or len(groups[0].addresses) != 1
        # An obsolete form ("J. Smith" unquoted) is fine; anything broken is not.
        or not all(isinstance(defect, allowed) for defect in header.defects)
    ):
        raise RenderError(problem)
    parsed: Address = groups[0].addresses[0]
    if parsed.addr_spec not in text:
        # "name @example.org" parses as name@example.org: a space inside the address
        # (a line break, once made one line) is a mistake to report, not to repair.
        raise RenderError(problem)
    try:
        valid = validate_email(parsed.addr_spec, check_deliverability=False)
    except EmailNotValidError as error:
        if field in _PRIVATE:
            raise RenderError(f"{field}: not a valid address") from None
        raise RenderError(f"{field}: {value!r}: {error}") from error
    if valid.ascii_email is not None:
        return Address(display_name=parsed.display_name, addr_spec=valid.ascii_email)
    if not smtputf8:
        raise RenderError(f"{field}: {shown} needs SMTPUTF8, which syndicate does not use here")
    # Address(addr_spec=...) refuses a local part that is not ASCII; its parts do not.
    return Address(
        display_name=parsed.display_name, username=valid.local_part, domain=valid.ascii_domain
    )


def reader_mailbox(name: str, address: str) -> Address:
    """A reader's To mailbox: *address* checked as :func:`mailbox` checks one (a local part
    that is not ASCII allowed: SMTPUTF8), *name* as it is, made one line."""
    spec = mailbox(address, "To", smtputf8=True)
    return Address(display_name=one_line(name), username=spec.username, domain=spec.domain)


def list_id(value: str) -> str:
    """The List-Id value (RFC 2919) of "Description <label.namespace>": the description
    one line and quoted when it needs to be, the list id checked."""
    match = _LIST_ID.fullmatch(one_line(value))
    if match is None or not _DOT_ATOM.fullmatch(match["id"]) or "." not in match["id"]:
        raise RenderError(f"List-Id: {value!r} is not 'Description <label.namespace>' (RFC 2919)")
    if len(match["id"]) > 255:
        raise RenderError(f"List-Id: {match['id']!r} is longer than 255 characters (RFC 2919)")
    phrase = match["phrase"]
    if phrase.isascii() and phrase and not _PHRASE_ATOMS.fullmatch(phrase):
        phrase = f'"{quote(phrase)}"'
    return f"{phrase} <{match['id']}>" if phrase else f"<{match['id']}>"


def list_unsubscribe(url: str, mailto: str | None) -> str:
    """The List-Unsubscribe value: the reader's own https *url* (never quoted in an error)
    and the publication's *mailto*, if any, each checked and in angle brackets."""
    links = [f"<{checked_url(url, 'https', 'unsubscribe URL', private=True)}>"]
    if mailto is not None:
        links.append(f"<{checked_url(mailto, 'mailto', 'unsubscribe mailto')}>")
    return ", ".join(links)


# typeshed types ``max_count`` differently on these two bases; at run time the header
# registry mixes a header class with BaseHeader in just this way.
class _OwnFolding(UniqueUnstructuredHeader, BaseHeader):  # type: ignore[misc]
    """A header whose value is text as given (nothing in it is decoded) and whose
    subclass decides how it is folded."""

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)
        # "=?utf-8?q?...?=" in a subject is text to show, not an encoded-word to decode.
        kwds["decoded"] = value


class _TextHeader(_OwnFolding):
    """Subject: folded by the registry when it is short-worded ASCII, otherwise
    RFC 2047-encoded whole by ``email.header``, so that every space survives."""

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        room = (policy.max_line_length or MAX_LINE_OCTETS) - len(self.name) - 2
        if value.isascii() and "=?" not in value and all(len(w) <= room for w in value.split()):
            return super().fold(policy=policy)
        return f"{self.name}: {_encode(value, self.name, policy)}{policy.linesep}"


class _ListIdHeader(_OwnFolding):
    """List-Id: the description RFC 2047-encoded when it is not ASCII, the list id never."""

    def fold(self, *, policy: Policy) -> str:
        phrase, _, rest = str(self).rpartition("<")
        phrase = phrase.rstrip(" ")
        head = f"{self.name}:"
        if phrase:
            head += " " + (phrase if phrase.isascii() else _encode(phrase, self.name, policy))
        return _fold_words(head, [f"<{rest}"], policy)


class _LinksHeader(_OwnFolding):
    """List-Unsubscribe: URLs in angle brackets, folded between them, never encoded."""

    def fold(self, *, policy: Policy) -> str:
        return _fold_words(f"{self.name}:", str(self).split(" "), policy)


class _MailboxHeader(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    """From, To, Reply-To: one mailbox, its name RFC 2047-encoded whole by ``email.header``
    when it is not ASCII, or quoted by ``email.utils.formataddr`` when it must be."""

    def fold(self, *, policy: Policy) -> str:
        if len(self.addresses) != 1:
            return super().fold(policy=policy)
        (address,) = self.addresses
        name, spec = address.display_name, address.addr_spec
        if not name:
            return _fold_words(f"{self.name}:", [spec], policy)
        if not name.isascii() or "=?" in name:
            encoded = _encode(name, self.name, policy)
            return _fold_words(f"{self.name}: {encoded}", [f"<{spec}>"], policy)
        phrase = formataddr((name, spec)).removesuffix(f" <{spec}>")
        # Atoms may fold at their spaces; a quoted-string stays whole, on one line.
        words = [phrase] if phrase.startswith('"') else phrase.split(" ")
        return _fold_words(f"{self.name}:", [*words, f"<{spec}>"], policy)


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("from", "to", "reply-to"):
        registry.map_to_type(name, _MailboxHeader)
    registry.map_to_type("subject", _TextHeader)
    registry.map_to_type("list-id", _ListIdHeader)
    registry.map_to_type("list-unsubscribe", _LinksHeader)
    return registry


#: SMTP's CRLF line ends and 78-character lines; no 8-bit or UTF-8 headers.
POLICY = SMTP.clone(header_factory=_registry())
#: The same, with UTF-8 allowed in headers: for the To header of an SMTPUTF8 address.
POLICY_UTF8 = POLICY.clone(utf8=True)


def _encode(text: str, name: str, policy: Policy) -> str:
    maxlen = policy.max_line_length or MAX_LINE_OCTETS
    header = Header(text, "utf-8", maxlinelen=maxlen, header_name=name)
    return header.encode(linesep=policy.linesep)


def _fold_words(head: str, words: list[str], policy: Policy) -> str:
    """*head* and *words*, a space between each, a line break before a word that would
    pass the policy's line length: folding only, at spaces that are there already."""
    maxlen = policy.max_line_length or MAX_LINE_OCTETS
    lines = head.split(policy.linesep)
    for word in words:
        # Never straight after "Name:": the value would read back with a leading space.
        if len(lines[-1]) + 1 + len(word) > maxlen and not lines[-1].endswith(":"):
            lines.append("")
        lines[-1] += " " + word
    return policy.linesep.join(lines) + policy.linesep


def checked_url(value: str, scheme: str, what: str, *, private: bool = False) -> str:
    """*value* checked as a URL of *scheme* for a header; a *private* one (a reader's own
    link) is not quoted in the error."""
    url = value.strip()
    shown = "the link" if private else repr(value)
    parts = urlsplit(url)
    if parts.scheme != scheme or not (parts.netloc if scheme == "https" else "@" in parts.path):
        example = "https://..." if scheme == "https" else "mailto:name@example.org"
        rfc = " (RFC 8058 one-click unsubscribe needs one)" if scheme == "https" else ""
        raise RenderError(f"{what}: {shown} must be a {example} URL{rfc}")
    if not url.isascii() or _BREAKS.search(url) or "<" in url or ">" in url:
        raise RenderError(
            f"{what}: {shown} must be ASCII, without spaces, line breaks or '<>' "
            "(percent-encode them)"
        )
    if len(url) > MAX_URL_LENGTH:
        raise RenderError(f"{what}: {shown} is longer than {MAX_URL_LENGTH} characters")
    return url


def _domain(value: str) -> str:
    try:
        domain = value.strip().lower().encode("idna").decode("ascii")
    except UnicodeError as error:
        raise RenderError(f"domain {value!r} is not a host name") from error
    if not _HOSTNAME.fullmatch(domain):
        raise RenderError(f"domain {value!r} is not a host name")
    return domain


def checked_message_id(value: str) -> str:
    left, at, right = value.removeprefix("<").removesuffix(">").partition("@")
    if not (value.startswith("<") and value.endswith(">") and at):
        raise RenderError(f"Message-ID: {value!r} is not '<left@domain>'")
    if not (_DOT_ATOM.fullmatch(left) and _DOT_ATOM.fullmatch(right)):
        raise RenderError(f"Message-ID: {value!r} is not '<left@domain>'")
    return value


def _squeezed(addresses: Any) -> list[tuple[str, str]]:
    return [(a.addr_spec, "".join(a.display_name.split())) for a in addresses]


def check_round_trip(message: EmailMessage) -> None:
    """Parse the headers of *message* back as a reader's mail program would, and refuse
    any that does not come back as it was set, or that has a line longer than SMTP allows."""
    policy = message.policy
    charset = "utf-8" if getattr(policy, "utf8", False) else "ascii"
    for name, value in message.items():
        folded = policy.fold_binary(name, value)
        if any(len(line) > MAX_LINE_OCTETS for line in folded.splitlines()):
            raise RenderError(f"{name}: {_shown(name, value)} has a line longer than SMTP allows")
    folded = b"".join(policy.fold_binary(name, value) for name, value in message.items())
    parsed = HeaderParser(policy=default).parsestr(folded.decode(charset) + "\r\n")
    for name, value in message.items():
        back = parsed.get_all(name) or []
        if len(back) != 1:
            raise RenderError(f"{name}: {_shown(name, value)} does not read back as one header")
        if isinstance(value, AddressHeader):
            # Python's parser (3.11.7 to 3.13.0 at least) reads a name of several
            # encoded-words back with a space between each, which RFC 2047 6.2 says to
            # drop: that is the parser, not the message.  Any other difference is refused.
            if _squeezed(back[0].addresses) != _squeezed(value.addresses):
                raise RenderError(
                    f"{name}: {_shown(name, value)} cannot be written so that it reads back "
                    "the same"
                )
        elif str(back[0]).strip() != str(value).strip():  # folded, it reads back after a space
            raise RenderError(f"{name}: {_shown(name, value)} does not read back the same")


def _shown(name: str, value: object) -> str:
    """*value* quoted for an error about header *name*, unless it is a reader's own."""
    if name in _PRIVATE:
        return "the reader's name and address" if name == "To" else "the reader's link"
    return repr(str(value))
