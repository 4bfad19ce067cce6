"""The publication's configuration, read from ``syndicate.toml``.

One frozen dataclass per table.  :func:`load_config` validates the whole file
and reports every problem at once; relative paths resolve against the folder
that holds the file, never against the current directory.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import config_checks as checks
from . import tomlschema
from .config_checks import SMTP_PORTS
from .errors import ConfigError, Diagnostic
from .social.platforms import PLATFORMS
from .tomlschema import Field

CONFIG_NAME = "syndicate.toml"
OUTPUT_DIR = "feeds"
CONTENT_DIR = "content"
TEMPLATES_DIR = "templates"
STATE_PATH = ".syndicate/state.json"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """``[site]``: who publishes, and where the public folder is served."""

    title: str
    #: Absolute base URL where ``feeds/`` is served; always ends with "/".
    url: str
    #: One line about the publication; defaults to the title.
    description: str
    #: BCP 47 language tag of the articles.
    language: str
    #: IANA zone for dates written without one, and for dates shown to readers.
    timezone: ZoneInfo
    #: Author of articles that name none.
    author: str | None
    #: Path of an article below ``url``, with ``{slug}``, ``{year}``, ``{month}``, ``{day}``.
    permalink: str
    #: Folder whose files are served at the site root (copied into ``feeds/``).
    static: Path
    #: Write a page at each article's permalink (false when another generator serves them).
    pages: bool = True


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    """``[feeds]``: the RSS, Atom and JSON feeds."""

    #: Entries per feed, newest first; 0 keeps every entry.
    limit: int
    #: Full article HTML in each entry; with false, the summary only.
    full_content: bool


@dataclass(frozen=True, slots=True)
class ContentConfig:
    """``[content]``: where articles are read from."""

    #: Folder searched (with its sub-folders) for ``*.md`` articles.
    dir: Path
    #: An article file larger than this many bytes is an error.
    max_bytes: int


DEFAULT_SUBJECT = (
    "{{ site.title }}: {{ articles[0].title }}"
    "{% if articles|length > 1 %} (and {{ articles|length - 1 }} more){% endif %}"
)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """``[email.smtp]``: the SMTP server (credentials come only from the environment)."""

    host: str
    port: int
    #: "starttls", "ssl" (implicit TLS) or "none".
    security: str
    #: Seconds to wait for the server before a try counts as failed.
    timeout: float
    #: Seconds to wait for the server's reply once a whole message is handed over, when it
    #: does its checks (RFC 5321 4.5.3.2.6: ten minutes).
    data_timeout: float = 600.0


@dataclass(frozen=True, slots=True)
class DkimConfig:
    """``[email.dkim]``: DKIM signing (the private key comes from SYNDICATE_DKIM_KEY)."""

    domain: str
    selector: str


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """``[email]``: the newsletter sent to subscribers."""

    #: "Name <address>" the mail comes from; required to send.
    sender: str | None
    reply_to: str | None
    #: Jinja2 template of the subject line, with ``site``, ``articles`` and ``digest``.
    subject: str
    #: "digest": one email with the new articles; "article": one email per new article.
    mode: str
    #: Articles in one digest (and emails per run in "article" mode), newest first.
    max_articles: int
    #: Personal unsubscribe link, with ``{token}`` (and, for links already sent, ``{email}``).
    #: Without one, ``[subscribers] url`` makes it the list service's: ``<url>unsubscribe/{token}``.
    unsubscribe_url: str | None
    #: Postal address for the footer, as anti-spam laws ask.
    address: str | None
    #: Jinja2 template of the preview line; defaults to the first summaries.
    preheader: str | None
    #: The subscriber CSV (SYNDICATE_SUBSCRIBERS overrides it), relative to the publication.
    subscribers: str | None = None
    #: Messages per second at most; 0 for no limit.
    rate: float = 10.0
    #: None: every message goes to the outbox folder instead of a server.
    smtp: SmtpConfig | None = None
    dkim: DkimConfig | None = None
    #: Where ``syndicate send-test`` sends when given no ``--to``: the editors' addresses.
    test_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """``[social.<platform>]``."""

    #: Added at the end of every post, such as "via @news@mastodon.social".
    suffix: str = ""
    #: The platform's limit, where instances differ (Mastodon); None for the usual one.
    limit: int | None = None
    #: The publication's own account (``[social.x] handle``, for twitter:site).
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class CardConfig:
    """``[social.card]``: how the card images look (the card renderer's style)."""

    #: The card's colour, and the overlay that darkens an article's image.
    background: str = "#0d1117"
    #: The title's colour (the author and date are a blend of it with the background).
    foreground: str = "#ffffff"
    #: The site name and the stripe along the left edge.
    accent: str = "#6cb6ff"
    #: A TTF or OTF of the publication's own (else the shipped Noto Sans).
    font: Path | None = None
    #: An image drawn before the site name, 48 px high.
    logo: Path | None = None


@dataclass(frozen=True, slots=True)
class SocialConfig:
    """``[social]``: post texts, card metadata and card images for each article."""

    platforms: tuple[str, ...] = PLATFORMS
    #: Hashtags made from the categories, at most; 0 for none.
    hashtags: int = 3
    accounts: tuple[tuple[str, PlatformConfig], ...] = ()
    card: CardConfig = CardConfig()

    def platform(self, name: str) -> PlatformConfig:
        return dict(self.accounts).get(name, PlatformConfig())


@dataclass(frozen=True, slots=True)
class SubscribersConfig:
    """``[subscribers]``: the list service (``syndicate subscribers serve``).

    Its database comes from ``SYNDICATE_DATABASE_URL`` only, never from this file.
    """

    #: Public https URL of the service, as readers reach it (behind its TLS proxy); ends in "/".
    url: str
    #: Hours a confirmation link works.
    confirm_hours: float = 48.0
    #: Minutes before one address may be sent another confirmation email.
    resend_minutes: float = 15.0
    #: Form posts (sign-up, confirm, unsubscribe) from one client a minute; 0 for no limit.
    client_rate: int = 20
    #: Send a goodbye note to each reader who unsubscribes.
    goodbye: bool = False
    #: Keep the client's IP address in the proof of consent (erased by ``forget``).
    record_ip: bool = True
    #: Origins besides the site's and the service's own whose pages may post the form.
    origins: tuple[str, ...] = ()
    #: Host names besides the URL's own that the service answers (another name, a health
    #: check's).
    hosts: tuple[str, ...] = ()
    #: Addresses or networks of reverse proxies whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed; none by default.
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """A whole publication's configuration."""

    root: Path
    path: Path
    site: SiteConfig
    feeds: FeedsConfig
    content: ContentConfig
    #: None when syndicate.toml has no [email] table: no newsletter.
    email: EmailConfig | None = None
    social: SocialConfig = SocialConfig()
    #: Where the output goes instead of ``feeds/`` (``syndicate preview``'s own folder).
    output: Path | None = None
    #: None when syndicate.toml has no [subscribers] table: no list service.
    subscribers: SubscribersConfig | None = None

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else self.root / OUTPUT_DIR

    @property
    def templates_dir(self) -> Path:
        return self.root / TEMPLATES_DIR

    @property
    def state_path(self) -> Path:
        return self.root / STATE_PATH


# --- the schema of syndicate.toml -----------------------------------------------


def _default(model: type, name: str) -> Any:
    """The default that the field *name* of *model* declares: a default the model has is
    written there only, and the schema takes it from there."""
    return next(field.default for field in fields(model) if field.name == name)


#: Each table's keys, their types, defaults and checks (:mod:`syndicate.config_checks`).
_TABLES: dict[str, dict[str, Field]] = {
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
_REQUIRED_TABLES = ("site",)
#: Tables with required keys of their own, checked only when present.
_OPTIONAL_TABLES = ("subscribers",)


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
        _TABLES, path, text, raw, required=_REQUIRED_TABLES, optional=_OPTIONAL_TABLES
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
