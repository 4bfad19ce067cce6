"""The schema of ``syndicate.toml``: each table's keys, their types, defaults and checks.

:mod:`syndicate.tomlschema` validates a file against it and reports every problem at
once; the checks themselves are :mod:`.checks`.  A default the model declares is taken
from the model (:func:`_default`), never written twice.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..social.platforms import PLATFORMS
from ..tomlschema import Field
from . import checks
from .model import (
    CONTENT_DIR,
    DEFAULT_SUBJECT,
    CardConfig,
    EmailConfig,
    PlatformConfig,
    SiteConfig,
    SmtpConfig,
    SocialConfig,
    SubscribersConfig,
)


def _default(model: type, name: str) -> Any:
    """The default that the field *name* of *model* declares: a default the model has is
    written there only, and the schema takes it from there."""
    return next(field.default for field in fields(model) if field.name == name)


#: Each table's keys, their types, defaults and checks (:mod:`.checks`).
TABLES: dict[str, dict[str, Field]] = {
    "site": {
        "title": Field(str, required=True, check=checks.not_empty),
        "url": Field(str, required=True, check=checks.absolute_url),
        "description": Field(str),
        "language": Field(str, "en", check=checks.language),
        "timezone": Field(str, "UTC", check=checks.timezone),
        "author": Field(str, check=checks.not_empty),
        "permalink": Field(str, "/posts/{slug}/", check=checks.permalink),
        "static": Field(str, "static", check=checks.not_empty),
        "pages": Field(bool, _default(SiteConfig, "pages")),
    },
    "feeds": {
        "limit": Field(int, 50, check=checks.non_negative),
        "full_content": Field(bool, True),
    },
    "email": {
        "from": Field(str, check=checks.mailbox),
        "reply_to": Field(str, check=checks.mailbox),
        "subject": Field(str, DEFAULT_SUBJECT, check=checks.template),
        "mode": Field(str, "digest", check=checks.mode),
        "max_articles": Field(int, 10, check=checks.positive),
        "unsubscribe_url": Field(str, check=checks.unsubscribe_url),
        "address": Field(str, check=checks.not_empty),
        "preheader": Field(str, check=checks.template),
        "subscribers": Field(str, _default(EmailConfig, "subscribers"), check=checks.not_empty),
        "rate": Field(float, _default(EmailConfig, "rate"), check=checks.non_negative),
        "test_to": Field(list, _default(EmailConfig, "test_to"), check=checks.addresses),
    },
    "email.smtp": {
        "host": Field(str, required=True, check=checks.not_empty),
        "port": Field(int, check=checks.port),
        "security": Field(str, "starttls", check=checks.security),
        "timeout": Field(float, 30.0, check=checks.positive),
        "data_timeout": Field(float, _default(SmtpConfig, "data_timeout"), check=checks.positive),
    },
    "email.dkim": {
        "domain": Field(str, required=True, check=checks.not_empty),
        "selector": Field(str, required=True, check=checks.not_empty),
    },
    "social": {
        "platforms": Field(list, _default(SocialConfig, "platforms"), check=checks.platforms),
        "hashtags": Field(int, _default(SocialConfig, "hashtags"), check=checks.non_negative),
    },
    **{
        f"social.{name}": {
            "suffix": Field(str, _default(PlatformConfig, "suffix")),
            "limit": Field(int, _default(PlatformConfig, "limit"), check=checks.positive),
            **({"handle": Field(str, check=checks.handle)} if name == "x" else {}),
        }
        for name in PLATFORMS
    },
    "social.card": {
        "background": Field(str, _default(CardConfig, "background"), check=checks.colour),
        "foreground": Field(str, _default(CardConfig, "foreground"), check=checks.colour),
        "accent": Field(str, _default(CardConfig, "accent"), check=checks.colour),
        "font": Field(str, check=checks.not_empty),
        "logo": Field(str, check=checks.not_empty),
    },
    "subscribers": {
        "url": Field(str, required=True, check=checks.https_url),
        "confirm_hours": Field(
            float, _default(SubscribersConfig, "confirm_hours"), check=checks.span
        ),
        "resend_minutes": Field(
            float, _default(SubscribersConfig, "resend_minutes"), check=checks.span
        ),
        "client_rate": Field(
            int, _default(SubscribersConfig, "client_rate"), check=checks.non_negative
        ),
        "goodbye": Field(bool, _default(SubscribersConfig, "goodbye")),
        "record_ip": Field(bool, _default(SubscribersConfig, "record_ip")),
        "origins": Field(list, _default(SubscribersConfig, "origins"), check=checks.origins),
        "hosts": Field(list, _default(SubscribersConfig, "hosts"), check=checks.hosts),
        "trusted_proxies": Field(
            list, _default(SubscribersConfig, "trusted_proxies"), check=checks.networks
        ),
    },
    "content": {
        "dir": Field(str, CONTENT_DIR, check=checks.not_empty),
        "max_bytes": Field(int, 5_000_000, check=checks.positive),
    },
}
REQUIRED_TABLES = ("site",)
#: Tables with required keys of their own, checked only when present.
OPTIONAL_TABLES = ("subscribers",)
