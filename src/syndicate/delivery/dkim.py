"""DKIM signatures (RFC 6376) for outgoing messages, made with dkimpy.

rsa-sha256, relaxed/relaxed canonicalisation (header and body survive the re-folding and
trailing-space changes relays make), no ``l=`` (a body length would let anyone append
to a signed message).  The headers that say who sent the message, what it is and how to
leave the list are signed, and the ones that must stay single are signed one extra time
("over-signed"), so that a header added on the way breaks the signature instead of taking
over: RFC 8058 section 4 requires List-Unsubscribe and List-Unsubscribe-Post to be signed,
and a second List-Unsubscribe added by a relay must not pass for ours.

The private key comes from ``SYNDICATE_DKIM_KEY`` (PEM, PKCS#1 or PKCS#8) and appears in no
error message, log line or repr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import dkim
import dkim.crypto

from ..errors import DeliveryError

#: Where the PEM private key is read from; never from a file in the publication.
ENV_KEY = "SYNDICATE_DKIM_KEY"
#: Receivers (Gmail, Yahoo) ignore signatures made with shorter RSA keys (RFC 8301 3.2).
MIN_KEY_BITS = 1024
#: Signed once where present; a name absent from the message is signed as empty (RFC 6376
#: 5.4), so that adding it later breaks the signature.  Reply-To is listed for that
#: reason even when the publication sets none: a forged one would steal the replies.
SIGNED = (
    "from",
    "reply-to",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "auto-submitted",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
)
#: Signed a second time, to refuse a second instance of each: all but the MIME headers.
OVERSIGNED = SIGNED[: SIGNED.index("list-unsubscribe-post") + 1]
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]*[A-Za-z0-9]")
_SELECTOR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9_-]+)*")


@dataclass(frozen=True, slots=True)
class DkimSettings:
    """``[email.dkim]``: the signing domain (``d=``) and selector (``s=``), and the key."""

    domain: str
    selector: str
    #: PEM RSA private key, from :data:`ENV_KEY`.
    key: bytes = field(repr=False)


def sign(message: bytes, settings: DkimSettings) -> bytes:
    """*message* (CRLF line ends, as built for SMTP) with a DKIM-Signature header in front.

    Raises :class:`DeliveryError` for a domain or selector that is not a DNS label
    sequence, or a key that is not an RSA private key of at least :data:`MIN_KEY_BITS`.
    """
    domain, selector = _names(settings)
    _check_key(settings.key)
    try:
        header: bytes = dkim.sign(
            message,
            selector,
            domain,
            settings.key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=b"rsa-sha256",
            include_headers=[name.encode("ascii") for name in SIGNED + OVERSIGNED],
            length=False,
        )
    except dkim.DKIMException as error:
        # dkimpy's message and parameter errors; the key has been read without error above.
        raise DeliveryError(f"DKIM: cannot sign the message: {error}") from error
    return header + message


def _names(settings: DkimSettings) -> tuple[bytes, bytes]:
    if not _DOMAIN.fullmatch(settings.domain) or len(settings.domain) > 253:
        raise DeliveryError(f"DKIM: domain {settings.domain!r} is not a domain name")
    if not _SELECTOR.fullmatch(settings.selector):
        raise DeliveryError(f"DKIM: selector {settings.selector!r} is not a DNS label")
    return settings.domain.encode("ascii"), settings.selector.encode("ascii")


def _check_key(key: bytes) -> None:
    """Refuse a key dkimpy cannot sign with, saying nothing of what the key holds."""
    parsed: dict[str, Any] | None
    try:
        parsed = dkim.crypto.parse_pem_private_key(key)
    except Exception:  # dkimpy's own errors, and binascii's or IndexError on garbage
        parsed = None
    # Raised outside the except block, so that the parser's error, whose text can quote
    # the key, is not even kept as __context__ of ours.
    if parsed is None:
        raise DeliveryError(
            f"DKIM: {ENV_KEY} does not hold an RSA private key in PEM form (PKCS#1 or PKCS#8)"
        )
    bits = int(parsed["modulus"]).bit_length()
    if bits < MIN_KEY_BITS:
        raise DeliveryError(
            f"DKIM: the key in {ENV_KEY} has {bits} bits; receivers need {MIN_KEY_BITS} or more"
        )
