"""The publication's configuration, read from ``syndicate.toml``.

One frozen dataclass per table (:mod:`.model`).  :func:`load_config` validates the whole
file against its schema (:mod:`.schema`, with the checks of each value in :mod:`.checks`)
and reports every problem at once; relative paths resolve against the folder that holds
the file, never against the current directory.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .. import tomlschema
from ..errors import ConfigError, Diagnostic
from ..social.platforms import PLATFORMS
from .checks import SMTP_PORTS
from .model import (
    CONFIG_NAME,
    CONTENT_DIR,
    DEFAULT_SUBJECT,
    OUTPUT_DIR,
    STATE_PATH,
    TEMPLATES_DIR,
    CardConfig,
    Config,
    ContentConfig,
    DkimConfig,
    EmailConfig,
    FeedsConfig,
    PlatformConfig,
    SiteConfig,
    SmtpConfig,
    SocialConfig,
    SubscribersConfig,
)
from .schema import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES

__all__ = [
    "CONFIG_NAME",
    "CONTENT_DIR",
    "DEFAULT_SUBJECT",
    "OUTPUT_DIR",
    "STATE_PATH",
    "TEMPLATES_DIR",
    "CardConfig",
    "Config",
    "ContentConfig",
    "DkimConfig",
    "EmailConfig",
    "FeedsConfig",
    "PlatformConfig",
    "SiteConfig",
    "SmtpConfig",
    "SocialConfig",
    "SubscribersConfig",
    "line_of",
    "load_config",
    "read_config",
    "service_unsubscribe_url",
    "unsubscribe_advice",
]


def unsubscribe_advice(config: Config) -> list[Diagnostic]:
    """A warning when ``[email] unsubscribe_url`` puts ``{email}`` in the link (``check``
    gives it; links already sent that way keep working, so it is never an error).

    The address in a URL travels wherever the URL goes: link scanners, browser histories,
    the endpoint's access logs, a reader forwarding the email.  Spam filters score it too
    (SpamAssassin's ``GB_CUSTOM_HTM_URI`` matches a link that carries the recipient's
    address).  The token already tells an endpoint that holds the list who the reader is.
    """
    email = config.email
    if email is None or email.unsubscribe_url is None:
        return []
    names = {name for _, name, _, _ in string.Formatter().parse(email.unsubscribe_url)}
    if "email" not in names:
        return []
    return [
        Diagnostic.warning(
            config.path,
            line_of(config.path, "email", "unsubscribe_url"),
            "email.unsubscribe_url: {email} puts the reader's address in the link, where "
            "link scanners, browser histories and server logs keep it, and spam filters "
            "score it (SpamAssassin's GB_CUSTOM_HTM_URI); {token} alone tells an endpoint "
            'that holds the list who the reader is: "https://example.org/unsubscribe/{token}"',
        )
    ]


def read_config(root: Path) -> tuple[Config | None, list[Diagnostic]]:
    """Read and validate ``syndicate.toml`` in *root*; every problem is returned."""
    root = root.resolve()
    path = root / CONFIG_NAME
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return None, [Diagnostic.error(path, 0, "no syndicate.toml here: is this a publication?")]
    except UnicodeDecodeError:
        return None, [Diagnostic.error(path, 0, "not UTF-8 text")]
    except OSError as error:
        return None, [Diagnostic.error(path, 0, f"cannot read: {error.strerror}")]
    raw, out = tomlschema.parse(path, text)
    if raw is None:
        return None, out
    values, out = tomlschema.validate(
        TABLES, path, text, raw, required=REQUIRED_TABLES, optional=OPTIONAL_TABLES
    )
    if any(d.is_error for d in out):
        return None, out

    site = values["site"]
    service = _subscribers(values["subscribers"]) if "subscribers" in raw else None
    config = Config(
        root=root,
        path=path,
        site=SiteConfig(
            title=site["title"].strip(),
            url=site["url"].rstrip("/") + "/",
            description=(site["description"] or site["title"]).strip(),
            language=site["language"],
            timezone=ZoneInfo(site["timezone"]),
            author=site["author"].strip() if site["author"] else None,
            permalink="/" + site["permalink"].lstrip("/"),
            static=root / site["static"],
            pages=site["pages"],
        ),
        feeds=FeedsConfig(**values["feeds"]),
        content=ContentConfig(
            dir=root / values["content"]["dir"], max_bytes=values["content"]["max_bytes"]
        ),
        email=_email(values, service) if "email" in raw else None,
        social=_social(values, root),
        subscribers=service,
    )
    return config, out


def _email(
    tables: Mapping[str, Mapping[str, Any]], service: SubscribersConfig | None
) -> EmailConfig:
    values = tables["email"]

    def text(key: str) -> str | None:
        value = values[key]
        return " ".join(value.split()) if isinstance(value, str) and value.strip() else None

    smtp = dkim = None
    if "email.smtp" in tables:
        found = tables["email.smtp"]
        port = found["port"] or SMTP_PORTS[found["security"]]
        smtp = SmtpConfig(
            found["host"].strip(),
            port,
            found["security"],
            found["timeout"],
            found["data_timeout"],
        )
    if "email.dkim" in tables:
        found = tables["email.dkim"]
        dkim = DkimConfig(found["domain"].strip(), found["selector"].strip())

    return EmailConfig(
        sender=text("from"),
        reply_to=text("reply_to"),
        subject=values["subject"],
        mode=values["mode"],
        max_articles=values["max_articles"],
        unsubscribe_url=text("unsubscribe_url")
        or (service_unsubscribe_url(service) if service is not None else None),
        address=text("address"),
        preheader=values["preheader"],
        subscribers=text("subscribers"),
        rate=values["rate"],
        smtp=smtp,
        dkim=dkim,
        test_to=tuple(values["test_to"]),
    )


def _social(tables: Mapping[str, Mapping[str, Any]], root: Path) -> SocialConfig:
    social = tables["social"]
    accounts = []
    for name in PLATFORMS:
        found = tables.get(f"social.{name}")
        if found is not None:
            handle = found.get("handle")
            accounts.append(
                (
                    name,
                    PlatformConfig(
                        suffix=" ".join(found["suffix"].split()),
                        limit=found["limit"],
                        handle=("@" + handle.lstrip("@")) if handle else None,
                    ),
                )
            )
    card = CardConfig()
    if "social.card" in tables:
        found = tables["social.card"]
        card = CardConfig(
            background=found["background"],
            foreground=found["foreground"],
            accent=found["accent"],
            font=root / found["font"] if found["font"] else None,
            logo=root / found["logo"] if found["logo"] else None,
        )
    return SocialConfig(
        platforms=tuple(dict.fromkeys(social["platforms"])),
        hashtags=social["hashtags"],
        accounts=tuple(accounts),
        card=card,
    )


def line_of(path: Path, table: str, key: str) -> int:
    """The line of ``key`` in ``[table]`` of the TOML file at *path* (0 when unreadable)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return 0
    return tomlschema.Lines(text).key(table, key)


def service_unsubscribe_url(service: SubscribersConfig) -> str:
    """The unsubscribe link of every email when ``[subscribers] url`` is set and ``[email]
    unsubscribe_url`` is not: the list service's own page for the reader's token."""
    return service.url.replace("{", "{{").replace("}", "}}") + "unsubscribe/{token}"


def _subscribers(values: Mapping[str, Any]) -> SubscribersConfig:
    return SubscribersConfig(
        url=values["url"].rstrip("/") + "/",
        confirm_hours=values["confirm_hours"],
        resend_minutes=values["resend_minutes"],
        client_rate=values["client_rate"],
        goodbye=values["goodbye"],
        record_ip=values["record_ip"],
        origins=tuple(o.rstrip("/") for o in values["origins"]),
        hosts=tuple(h.lower() for h in values["hosts"]),
        trusted_proxies=tuple(values["trusted_proxies"]),
    )


def load_config(root: Path) -> Config:
    """The validated configuration of the publication in *root*, or :class:`ConfigError`."""
    config, diagnostics = read_config(root)
    if config is None:
        raise ConfigError(f"{CONFIG_NAME} has errors", diagnostics)
    return config
