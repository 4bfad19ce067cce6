"""DKIM signatures: signed by syndicate, verified by dkimpy against the public key in a
stand-in for DNS, and broken by any change to what they cover."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace

import dkim
import dkim.util
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import NOW
from smtp_server import SmtpServer
from syndicate.delivery.backends import SmtpBackend, SmtpSettings
from syndicate.delivery.dkim import DkimSettings, sign
from syndicate.email.headers import message_id
from syndicate.email.message import Letter, build_message
from syndicate.errors import DeliveryError

DOMAIN = "news.example.org"
SELECTOR = "syndicate2026"
READER = "mai.nguyen@example.net"
UNSUBSCRIBE = "https://news.example.org/unsubscribe?token=6f1c0e5a9b7d4c3e"
#: The Message-ID's right-hand side.  Not DOMAIN: with a domain of 9 to 20 characters the
#: Message-ID is 66 to 77 long, and build_message refuses it ("does not read back the
#: same"), a folding problem of email/headers.py reported on its own.
SITE = "dispatch.news.example.org"

LETTER = Letter(
    subject="Syndicate Dispatch: Open source in Southeast Asia",
    text="Open source in Southeast Asia\n\nRead it at https://news.example.org/posts/a/\n",
    html="<!doctype html>\n<html><body><p>Open source in Southeast Asia</p></body></html>\n",
    sender="Syndicate Dispatch <news@news.example.org>",
    reply_to=None,
    list_id=f"Syndicate Dispatch <dispatch.{DOMAIN}>",
    domain=SITE,
)

DnsFunc = Callable[..., bytes | None]


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey, form: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())


@pytest.fixture
def settings(key: rsa.RSAPrivateKey) -> DkimSettings:
    return DkimSettings(DOMAIN, SELECTOR, pem(key, serialization.PrivateFormat.PKCS8))


def dns(key: rsa.RSAPrivateKey) -> DnsFunc:
    """dkimpy's DNS lookup, answering only for our selector with our public key."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def message() -> bytes:
    built = build_message(
        LETTER,
        to=f"Mai Nguyen <{READER}>",
        unsubscribe_url=UNSUBSCRIBE,
        unsubscribe_mailto=None,
        message_id=message_id("2026-01-01-0a1b2c3d4e", READER, SITE),
        date=NOW,
    )
    return built.as_bytes()


def tags(signed: bytes) -> dict[bytes, bytes]:
    header = signed.split(b"\r\n\r\n", 1)[0]
    assert header.startswith(b"DKIM-Signature: ")
    value = header.split(b": ", 1)[1].split(b"\r\nFrom:", 1)[0]
    fields: dict[bytes, bytes] = dkim.util.parse_tag_value(value)
    return fields


def signed_headers(signed: bytes) -> list[str]:
    h = b"".join(tags(signed)[b"h"].split())
    return [name.decode() for name in h.split(b":")]


def test_a_signed_message_verifies_against_the_public_key(
    key: rsa.RSAPrivateKey, settings: DkimSettings
) -> None:
    original = message()
    signed = sign(original, settings)
    assert signed.endswith(original)
    assert dkim.verify(signed, dnsfunc=dns(key))
    fields = tags(signed)
    assert fields[b"a"] == b"rsa-sha256"
    assert fields[b"c"] == b"relaxed/relaxed"
    assert (fields[b"d"], fields[b"s"]) == (DOMAIN.encode(), SELECTOR.encode())
    assert b"l" not in fields


def test_the_list_headers_are_signed_as_rfc_8058_requires(settings: DkimSettings) -> None:
    names = signed_headers(sign(message(), settings))
    for name in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
    ):
        assert name in names
    # Signed twice: a second copy added on the way breaks the signature.
    for name in ("from", "list-unsubscribe", "list-unsubscribe-post"):
        assert names.count(name) == 2


def test_a_pkcs1_key_signs_too(key: rsa.RSAPrivateKey) -> None:
    pkcs1 = DkimSettings(DOMAIN, SELECTOR, pem(key, serialization.PrivateFormat.TraditionalOpenSSL))
    assert dkim.verify(sign(message(), pkcs1), dnsfunc=dns(key))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (UNSUBSCRIBE.encode(), b"https://evil.example.com/unsubscribe?token=6f1c0e5a9b7d4c3e"),
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: Nope"),
        (b"Subject: Syndicate Dispatch", b"Subject: Syndicate Dispatches"),
        (b"Open source in Southeast Asia</p>", b"Closed source in Southeast Asia</p>"),
    ],
)
def test_any_change_to_what_is_signed_breaks_the_signature(
    key: rsa.RSAPrivateKey, settings: DkimSettings, old: bytes, new: bytes
) -> None:
    signed = sign(message(), settings)
    assert old in signed
    assert not dkim.verify(signed.replace(old, new, 1), dnsfunc=dns(key))


def test_an_added_list_unsubscribe_breaks_the_signature(
    key: rsa.RSAPrivateKey, settings: DkimSettings
) -> None:
    signed = sign(message(), settings)
    forged = b"List-Unsubscribe: <https://evil.example.com/u>\r\n"
    at = signed.index(b"\r\nFrom:") + 2
    assert not dkim.verify(signed[:at] + forged + signed[at:], dnsfunc=dns(key))
    assert not dkim.verify(forged + signed, dnsfunc=dns(key))


def test_refolding_on_the_way_does_not_break_the_signature(
    key: rsa.RSAPrivateKey, settings: DkimSettings
) -> None:
    # Relaxed canonicalisation: what relays do to whitespace leaves the signature valid.
    signed = sign(message(), settings)
    refolded = signed.replace(b"\r\nSubject: Syndicate", b"\r\nSubject:   Syndicate\r\n\t", 1)
    assert refolded != signed
    assert dkim.verify(refolded, dnsfunc=dns(key))


def test_a_signed_message_arrives_verifiable_through_smtp(
    key: rsa.RSAPrivateKey, settings: DkimSettings
) -> None:
    with SmtpServer() as server:
        smtp = SmtpSettings(server.host, server.port, "none", 5.0, None, None, None)
        with SmtpBackend(smtp) as backend:
            backend.send(sign(message(), settings), "news@news.example.org", READER, key="k")
        (received,) = server.messages
    assert dkim.verify(received.data, dnsfunc=dns(key))


def test_the_key_is_never_shown(settings: DkimSettings) -> None:
    assert b"PRIVATE KEY" in settings.key
    assert "PRIVATE" not in repr(settings)
    assert settings.key.decode() not in str(settings)


SECRET = "c2VjcmV0IGtleSBtYXRlcmlhbA"


@pytest.mark.parametrize(
    "bad",
    [
        f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}\n-----END RSA PRIVATE KEY-----\n",
        f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}!!\n-----END RSA PRIVATE KEY-----\n",
        SECRET,
        "",
    ],
)
def test_a_bad_key_is_refused_without_showing_it(settings: DkimSettings, bad: str) -> None:
    with pytest.raises(DeliveryError, match="SYNDICATE_DKIM_KEY does not hold") as refused:
        sign(message(), replace(settings, key=bad.encode()))
    assert SECRET not in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None


def small_key() -> bytes:
    """A 382-bit RSA key in PKCS#1 PEM (cryptography will not make one under 1024 bits)."""
    p, q, e = 2**255 - 19, 2**127 - 1, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    # DER INTEGERs are signed: one byte more than the bits need keeps the top bit clear.
    integers = b"".join(der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big")) for n in numbers)
    body = base64.encodebytes(der(0x30, integers))
    return b"-----BEGIN RSA PRIVATE KEY-----\n" + body + b"-----END RSA PRIVATE KEY-----\n"


def der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def test_a_short_key_is_refused(settings: DkimSettings) -> None:
    with pytest.raises(DeliveryError, match="has 382 bits; receivers need 1024 or more"):
        sign(message(), replace(settings, key=small_key()))


@pytest.mark.parametrize(
    ("domain", "selector", "complaint"),
    [
        ("news.example.org; x=1", SELECTOR, "is not a domain name"),
        ("localhost", SELECTOR, "is not a domain name"),
        (DOMAIN, "sel;ector", "is not a DNS label"),
        (DOMAIN, "", "is not a DNS label"),
    ],
)
def test_a_domain_or_selector_that_would_break_the_header_is_refused(
    settings: DkimSettings, domain: str, selector: str, complaint: str
) -> None:
    with pytest.raises(DeliveryError, match=complaint):
        sign(message(), replace(settings, domain=domain, selector=selector))
