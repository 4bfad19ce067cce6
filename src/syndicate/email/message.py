"""One email as a MIME message: the text and HTML of a :class:`Letter`, addressed to one reader.

:func:`build_message` assembles the message with the standard ``email`` package
(multipart/alternative, text then HTML, each in the shorter of quoted-printable and
base64); :func:`prepare` and :func:`for_reader` make each reader's copy of one letter
without building the whole message again.  The headers themselves (what each may hold,
how it is folded, the check that it reads back as set) are :mod:`.headers`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..errors import RenderError
from .headers import (
    POLICY,
    POLICY_UTF8,
    check_round_trip,
    checked_message_id,
    list_id,
    list_unsubscribe,
    mailbox,
    one_line,
)

#: RFC 8058 3.1: the body of the one-click POST, and the header that announces it.
ONE_CLICK = "List-Unsubscribe=One-Click"
#: Bytes that quoted-printable leaves as they are (printable ASCII but "=", and whitespace).
_QP_LITERAL = bytes(range(0x20, 0x7F)).replace(b"=", b"") + b"\t\r\n"


@dataclass(frozen=True, slots=True)
class Letter:
    """What one message says; built once per digest (or per article in "article" mode)."""

    subject: str
    #: The plain-text part.
    text: str
    #: The HTML part, complete, with absolute URLs.
    html: str
    #: "Name <address>", the ``[email] from`` setting.
    sender: str
    reply_to: str | None
    #: RFC 2919 list identifier, "Description <label.namespace>".
    list_id: str
    #: The site's domain, the right-hand side of every Message-ID.
    domain: str


def build_message(
    letter: Letter,
    *,
    to: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The MIME message of *letter* for the reader *to*, ready for ``smtplib.send_message``.

    multipart/alternative, text first, then HTML, both UTF-8 in quoted-printable
    or base64 (whichever is shorter for that part), so no line is longer than 78
    octets.  Raises :class:`RenderError` for an address that is not exactly one
    mailbox, an unsubscribe URL that is not https, or anything else that cannot be
    written as a header exactly.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise RenderError(f"Date: {date.isoformat()} has no timezone")
    texts = {"Subject": letter.subject, "text": letter.text, "HTML": letter.html}
    texts |= {"From": letter.sender, "Reply-To": letter.reply_to or "", "To": to}
    texts |= {"List-Id": letter.list_id}
    for what, value in texts.items():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise RenderError(f"{what}: not valid Unicode: {error.reason}") from error
    links = list_unsubscribe(unsubscribe_url, unsubscribe_mailto)

    message = EmailMessage(policy=POLICY)
    message["Date"] = format_datetime(date)
    message["From"] = mailbox(letter.sender, "From")
    message["To"] = mailbox(to, "To")
    if letter.reply_to is not None:
        message["Reply-To"] = mailbox(letter.reply_to, "Reply-To")
    message["Subject"] = one_line(letter.subject)
    message["Message-ID"] = checked_message_id(message_id)
    message["List-Id"] = list_id(letter.list_id)
    message["List-Unsubscribe"] = links
    message["List-Unsubscribe-Post"] = ONE_CLICK
    # RFC 3834 5: "auto-generated" marks mail sent by an automatic, often periodic
    # process; vacation responders (RFC 3834 2, RFC 5230) then do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        letter.text, subtype="plain", charset="utf-8", cte=transfer_encoding(letter.text)
    )
    message.add_alternative(
        letter.html, subtype="html", charset="utf-8", cte=transfer_encoding(letter.html)
    )
    for part in message.iter_parts():
        del part["MIME-Version"]  # add_alternative gives the new part one; the top has it
    # Fixed, so that a retry is the same bytes; "=_" never occurs in quoted-printable or
    # base64, so it cannot occur in either part.
    message.set_boundary("=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32])
    check_round_trip(message)
    return message


def transfer_encoding(body: str) -> str:
    """Quoted-printable or base64, whichever writes *body* in UTF-8 shorter.

    Quoted-printable keeps mostly-ASCII text readable (and spam filters frown on
    base64 text that did not need it); base64 is a third smaller for Vietnamese,
    Thai or Chinese.  Both keep every line within 78 octets, whatever the input.
    """
    data = body.encode("utf-8")
    escaped = len(data.translate(None, _QP_LITERAL))
    # Quoted-printable writes an escaped byte in three octets, base64 every byte in 4/3.
    return "quoted-printable" if 6 * escaped <= len(data) else "base64"


#: The headers that differ from one reader to the next.
_PER_READER = ("To", "Message-ID", "List-Unsubscribe")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A letter's message built and checked once by :func:`build_message`, for
    :func:`for_reader` to copy for each reader.

    Every reader's copy differs only in its To, Message-ID and List-Unsubscribe
    headers and in the personal link inside both parts, so everything else (the
    other headers, the part headers, the boundary) is taken from this one message
    instead of being made again through the header registry thousands of times.
    """

    #: The headers common to every copy, folded as :data:`POLICY` folds them.
    head: bytes
    boundary: bytes
    #: Each part's own headers (content type, transfer encoding), folded.
    part_heads: tuple[bytes, bytes]
    ctes: tuple[str, str]
    unsubscribe_mailto: str | None


def prepare(
    letter: Letter, *, unsubscribe_mailto: str | None, date: datetime, sample: str
) -> Prepared:
    """Build *letter* once, addressed to *sample*, and keep what every copy shares."""
    message = build_message(
        letter,
        to=sample,
        unsubscribe_url="https://example.invalid/unsubscribe",
        unsubscribe_mailto=unsubscribe_mailto,
        message_id="<prepared@example.invalid>",
        date=date,
    )
    head = b"".join(
        POLICY.fold_binary(name, value)
        for name, value in message.items()
        if name not in _PER_READER
    )
    boundary = message.get_boundary()
    assert boundary is not None
    text, html = message.iter_parts()
    part_heads = tuple(
        b"".join(POLICY.fold_binary(name, value) for name, value in part.items())
        for part in (text, html)
    )
    ctes = (str(text["Content-Transfer-Encoding"]), str(html["Content-Transfer-Encoding"]))
    return Prepared(
        head, boundary.encode("ascii"), (part_heads[0], part_heads[1]), ctes, unsubscribe_mailto
    )


def for_reader(
    prepared: Prepared,
    *,
    text: str,
    html: str,
    to: str | Address,
    unsubscribe_url: str,
    message_id: str,
) -> bytes:
    """One reader's copy of a prepared letter, as bytes ready for SMTP.

    The reader's headers are made and checked exactly as :func:`build_message`
    makes them; both parts are encoded with the transfer encodings the prepared
    message chose, by the standard codecs (binascii's quoted-printable, base64).
    """
    reader = to if isinstance(to, Address) else mailbox(to, "To", smtputf8=True)
    # UTF-8 (RFC 6532) only for an address that cannot be written in ASCII.
    policy = POLICY if reader.addr_spec.isascii() else POLICY_UTF8
    own = EmailMessage(policy=policy)
    own["To"] = reader
    own["Message-ID"] = checked_message_id(message_id)
    own["List-Unsubscribe"] = list_unsubscribe(unsubscribe_url, prepared.unsubscribe_mailto)
    check_round_trip(own)
    head = b"".join(policy.fold_binary(name, value) for name, value in own.items())
    boundary = b"--" + prepared.boundary
    body = [b"\r\n"]
    for part_head, cte, content in zip(
        prepared.part_heads, prepared.ctes, (text, html), strict=True
    ):
        # The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1), not the part.
        body += [boundary, b"\r\n", part_head, b"\r\n", _encode_body(content, cte), b"\r\n"]
    body += [boundary, b"--\r\n"]
    return head + prepared.head + b"".join(body)


def _encode_body(content: str, cte: str) -> bytes:
    """*content* with CRLF line ends, ending in one, in *cte* ("quoted-printable" or
    "base64"), each line CRLF-terminated and at most 76 octets."""
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    if cte == "base64":
        data = lines.replace("\n", "\r\n").encode("utf-8")
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if cte != "quoted-printable":
        raise RenderError(f"unexpected transfer encoding {cte!r}")
    # istext: line breaks stay line breaks; "=" soft breaks keep every line within 76.
    encoded = binascii.b2a_qp(lines.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n")
