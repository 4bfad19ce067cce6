"""The checks of the values of ``syndicate.toml``: each gives why a value is wrong, or None.

They are named in the schema (:mod:`.schema`); the message a check gives follows
the key's name in the error (``site.url: must be an absolute http or https URL: 'x'``).
"""

from __future__ import annotations

import re
import string
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..social.platforms import PLATFORMS
from ..tomlschema import toml_type

PERMALINK_FIELDS = frozenset({"slug", "year", "month", "day"})
#: The usual port of each kind of SMTP security.
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def absolute_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http or https URL"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def language(value: str) -> str | None:
    """An article's ``lang`` is checked the same way (see :mod:`syndicate.language`)."""
    from ..language import problem

    reason = problem(value)
    return None if reason is None else f"must be a language tag ({reason})"


def timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone name such as UTC or Asia/Jakarta"
    return None


def permalink(value: str) -> str | None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as error:
        return f"cannot read the pattern: {error}"
    unknown = sorted(names - PERMALINK_FIELDS)
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in sorted(PERMALINK_FIELDS))
        return f"unknown placeholder {{{unknown[0]}}} (allowed: {allowed})"
    if "slug" not in names:
        return "must contain {slug}, so that every article has its own address"
    if "//" in value or ".." in value.split("/"):
        return "must be a clean path below the site URL"
    return None


def mailbox(value: str) -> str | None:
    from ..email.headers import mailbox
    from ..errors import RenderError

    try:
        mailbox(value, "From")
    except RenderError as error:
        return str(error)
    return None


def addresses(value: list[Any]) -> str | None:
    from ..delivery.subscribers import normalize_address

    for number, item in enumerate(value, start=1):
        if not isinstance(item, str):
            return f"item {number} must be an address in quotes, not {toml_type(item)}"
        try:
            normalize_address(item)
        except ValueError as error:
            return f"item {number} is {error}"
    return None


def template(value: str) -> str | None:
    import jinja2.sandbox

    try:
        jinja2.sandbox.SandboxedEnvironment().parse(value)
    except jinja2.TemplateSyntaxError as error:
        return f"is not a valid template: {error.message}"
    return None


def mode(value: str) -> str | None:
    return None if value in ("digest", "article") else 'must be "digest" or "article"'


def unsubscribe_url(value: str) -> str | None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as error:
        return f"cannot read the pattern: {error}"
    unknown = sorted(names - {"email", "token"})
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}} (allowed: {{email}}, {{token}})"
    if not value.startswith("https://"):
        return "must be an https URL (RFC 8058 one-click unsubscribe needs one)"
    return None


def https_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL (the service runs behind a TLS proxy; see the README)"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def origins(value: list[Any]) -> str | None:
    for origin in value:
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path.strip("/")
            or parts.query
            or parts.fragment
        ):
            return "must list origins such as https://example.org"
    return None


_HOST = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")


def hosts(value: list[Any]) -> str | None:
    if all(isinstance(host, str) and _HOST.fullmatch(host) for host in value):
        return None
    return "must list host names such as lists.example.org"


def span(value: float) -> str | None:
    import math

    return None if math.isfinite(value) and value > 0 else "must be a number more than 0"


def networks(value: list[Any]) -> str | None:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item if isinstance(item, str) else "?", strict=False)
        except ValueError:
            return "must list IP addresses or networks such as 127.0.0.1 or 10.0.0.0/8"
    return None


def security(value: str) -> str | None:
    return None if value in SMTP_PORTS else 'must be "starttls", "ssl" or "none"'


def port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a port number, 1 to 65535"


def platforms(value: list[Any]) -> str | None:
    unknown = [v for v in value if v not in PLATFORMS]
    if unknown or not all(isinstance(v, str) for v in value):
        return f"must name platforms among {', '.join(PLATFORMS)}"
    return None


_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def colour(value: str) -> str | None:
    return None if _COLOUR.match(value) else "must be a colour such as #0d1117"


def handle(value: str) -> str | None:
    return None if re.fullmatch(r"@?[A-Za-z0-9_]{1,15}", value) else "must be an X handle, @name"


def not_empty(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


def non_negative(value: int) -> str | None:
    return "must be 0 or more" if value < 0 else None


def positive(value: int) -> str | None:
    return "must be more than 0" if value <= 0 else None
