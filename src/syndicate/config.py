"""The publication's configuration, read from ``syndicate.toml``.

One frozen dataclass per table.  :func:`load_config` validates the whole file
and reports every problem at once; relative paths resolve against the folder
that holds the file, never against the current directory.
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, Diagnostic

CONFIG_NAME = "syndicate.toml"
OUTPUT_DIR = "feeds"
CONTENT_DIR = "content"
TEMPLATES_DIR = "templates"
STATE_PATH = ".syndicate/state.json"

PERMALINK_FIELDS = frozenset({"slug", "year", "month", "day"})
#: The usual port of each kind of SMTP security.
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


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


SOCIAL_PLATFORMS = ("x", "mastodon", "bluesky", "linkedin", "threads")


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

    platforms: tuple[str, ...] = SOCIAL_PLATFORMS
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


# --- validation ------------------------------------------------------------

Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class _Field:
    kind: type
    default: Any = None
    required: bool = False
    check: Check | None = None


def _absolute_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http or https URL"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def _language(value: str) -> str | None:
    """An article's ``lang`` is checked the same way (see :mod:`syndicate.language`)."""
    from .language import problem

    reason = problem(value)
    return None if reason is None else f"must be a language tag ({reason})"


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone name such as UTC or Asia/Jakarta"
    return None


def _permalink(value: str) -> str | None:
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


def _mailbox(value: str) -> str | None:
    from .email.message import mailbox
    from .errors import RenderError

    try:
        mailbox(value, "From")
    except RenderError as error:
        return str(error)
    return None


def _addresses(value: list[Any]) -> str | None:
    from .delivery.subscribers import normalize_address

    for number, item in enumerate(value, start=1):
        if not isinstance(item, str):
            return f"item {number} must be an address in quotes, not {_toml_type(item)}"
        try:
            normalize_address(item)
        except ValueError as error:
            return f"item {number} is {error}"
    return None


def _template(value: str) -> str | None:
    import jinja2.sandbox

    try:
        jinja2.sandbox.SandboxedEnvironment().parse(value)
    except jinja2.TemplateSyntaxError as error:
        return f"is not a valid template: {error.message}"
    return None


def _mode(value: str) -> str | None:
    return None if value in ("digest", "article") else 'must be "digest" or "article"'


def _unsubscribe_url(value: str) -> str | None:
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


def _https_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL (the service runs behind a TLS proxy; see the README)"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def _origins(value: list[Any]) -> str | None:
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


def _hosts(value: list[Any]) -> str | None:
    if all(isinstance(host, str) and _HOST.fullmatch(host) for host in value):
        return None
    return "must list host names such as lists.example.org"


def _span(value: float) -> str | None:
    import math

    return None if math.isfinite(value) and value > 0 else "must be a number more than 0"


def _networks(value: list[Any]) -> str | None:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item if isinstance(item, str) else "?", strict=False)
        except ValueError:
            return "must list IP addresses or networks such as 127.0.0.1 or 10.0.0.0/8"
    return None


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


def _security(value: str) -> str | None:
    return None if value in SMTP_PORTS else 'must be "starttls", "ssl" or "none"'


def _port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a port number, 1 to 65535"


def _platforms(value: list[Any]) -> str | None:
    unknown = [v for v in value if v not in SOCIAL_PLATFORMS]
    if unknown or not all(isinstance(v, str) for v in value):
        return f"must name platforms among {', '.join(SOCIAL_PLATFORMS)}"
    return None


_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _colour(value: str) -> str | None:
    return None if _COLOUR.match(value) else "must be a colour such as #0d1117"


def _handle(value: str) -> str | None:
    return None if re.fullmatch(r"@?[A-Za-z0-9_]{1,15}", value) else "must be an X handle, @name"


def _not_empty(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


def _non_negative(value: int) -> str | None:
    return "must be 0 or more" if value < 0 else None


def _positive(value: int) -> str | None:
    return "must be more than 0" if value <= 0 else None


_TABLES: dict[str, dict[str, _Field]] = {
    "site": {
        "title": _Field(str, required=True, check=_not_empty),
        "url": _Field(str, required=True, check=_absolute_url),
        "description": _Field(str),
        "language": _Field(str, "en", check=_language),
        "timezone": _Field(str, "UTC", check=_timezone),
        "author": _Field(str, check=_not_empty),
        "permalink": _Field(str, "/posts/{slug}/", check=_permalink),
        "static": _Field(str, "static", check=_not_empty),
        "pages": _Field(bool, True),
    },
    "feeds": {
        "limit": _Field(int, 50, check=_non_negative),
        "full_content": _Field(bool, True),
    },
    "email": {
        "from": _Field(str, check=_mailbox),
        "reply_to": _Field(str, check=_mailbox),
        "subject": _Field(str, DEFAULT_SUBJECT, check=_template),
        "mode": _Field(str, "digest", check=_mode),
        "max_articles": _Field(int, 10, check=_positive),
        "unsubscribe_url": _Field(str, check=_unsubscribe_url),
        "address": _Field(str, check=_not_empty),
        "preheader": _Field(str, check=_template),
        "subscribers": _Field(str, check=_not_empty),
        "rate": _Field(float, 10.0, check=_non_negative),
        "test_to": _Field(list, [], check=_addresses),
    },
    "email.smtp": {
        "host": _Field(str, required=True, check=_not_empty),
        "port": _Field(int, check=_port),
        "security": _Field(str, "starttls", check=_security),
        "timeout": _Field(float, 30.0, check=_positive),
        "data_timeout": _Field(float, 600.0, check=_positive),
    },
    "email.dkim": {
        "domain": _Field(str, required=True, check=_not_empty),
        "selector": _Field(str, required=True, check=_not_empty),
    },
    "social": {
        "platforms": _Field(list, list(SOCIAL_PLATFORMS), check=_platforms),
        "hashtags": _Field(int, 3, check=_non_negative),
    },
    **{
        f"social.{name}": {
            "suffix": _Field(str, ""),
            "limit": _Field(int, check=_positive),
            **({"handle": _Field(str, check=_handle)} if name == "x" else {}),
        }
        for name in SOCIAL_PLATFORMS
    },
    "social.card": {
        "background": _Field(str, "#0d1117", check=_colour),
        "foreground": _Field(str, "#ffffff", check=_colour),
        "accent": _Field(str, "#6cb6ff", check=_colour),
        "font": _Field(str, check=_not_empty),
        "logo": _Field(str, check=_not_empty),
    },
    "subscribers": {
        "url": _Field(str, required=True, check=_https_url),
        "confirm_hours": _Field(float, 48.0, check=_span),
        "resend_minutes": _Field(float, 15.0, check=_span),
        "client_rate": _Field(int, 20, check=_non_negative),
        "goodbye": _Field(bool, False),
        "record_ip": _Field(bool, True),
        "origins": _Field(list, [], check=_origins),
        "hosts": _Field(list, [], check=_hosts),
        "trusted_proxies": _Field(list, [], check=_networks),
    },
    "content": {
        "dir": _Field(str, CONTENT_DIR, check=_not_empty),
        "max_bytes": _Field(int, 5_000_000, check=_positive),
    },
}
_REQUIRED_TABLES = ("site",)
#: Tables with required keys of their own, checked only when present.
_OPTIONAL_TABLES = ("subscribers",)

_TYPE_NAMES = {
    list: "a list",
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


class _Lines:
    """Finds the line of a table or key in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*\"?([A-Za-z0-9_\-]+)\"?\s*=")

    def __init__(self, text: str) -> None:
        self._tables: dict[str, int] = {}
        self._keys: dict[tuple[str, str], int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(1).replace('"', "").replace(" ", "")
                self._tables.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self._keys.setdefault((table, key.group(1)), number)

    def table(self, table: str) -> int:
        return self._tables.get(table, 1)

    def key(self, table: str, key: str) -> int:
        """The line of ``key = …`` in *table*, or of a ``[table.key]`` header, or of *table*."""
        dotted = f"{table}.{key}" if table else key
        return self._keys.get((table, key)) or self._tables.get(dotted) or self.table(table)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _validate_table(
    path: Path, lines: _Lines, table: str, raw: Mapping[str, Any], out: list[Diagnostic]
) -> dict[str, Any]:
    fields = _TABLES[table]
    values: dict[str, Any] = {}
    for key in raw:
        if f"{table}.{key}" in _TABLES:
            continue  # a sub-table, validated on its own
        if key not in fields:
            out.append(
                Diagnostic.error(
                    path,
                    lines.key(table, key),
                    f"{table}.{key}: unknown key{_suggest(key, list(fields))}",
                )
            )
    for key, field in fields.items():
        if key not in raw:
            if field.required:
                out.append(
                    Diagnostic.error(path, lines.table(table), f"{table}.{key}: missing (required)")
                )
            values[key] = field.default
            continue
        value = raw[key]
        if field.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # "rate = 10" means 10.0
        # bool is a subclass of int: "limit = true" must not pass as a number.
        if not isinstance(value, field.kind) or (field.kind is int and isinstance(value, bool)):
            expected = _TYPE_NAMES.get(field.kind, str(field.kind))
            out.append(
                Diagnostic.error(
                    path,
                    lines.key(table, key),
                    f"{table}.{key}: must be {expected}, not {_toml_type(value)}",
                )
            )
            values[key] = field.default
            continue
        problem = field.check(value) if field.check else None
        if problem:
            out.append(
                Diagnostic.error(
                    path, lines.key(table, key), f"{table}.{key}: {problem}: {value!r}"
                )
            )
            values[key] = field.default
            continue
        values[key] = value
    return values


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date" if hasattr(value, "isoformat") else type(value).__name__


def _table(raw: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The table *name* ("email.smtp" is a table inside [email]); None when absent."""
    value: Any = raw
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


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
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        line = int(position.group(1)) if position else 0
        message = _TOML_POSITION.sub("", message).strip()
        return None, [Diagnostic.error(path, line, f"not valid TOML: {message}")]

    lines = _Lines(text)
    out: list[Diagnostic] = []
    for table, value in raw.items():
        home = [name for name, fields in _TABLES.items() if table in fields]
        if not isinstance(value, dict) and home:
            out.append(
                Diagnostic.error(
                    path, lines.key("", table), f"{table}: belongs in the [{home[0]}] table"
                )
            )
        elif table not in _TABLES:
            out.append(
                Diagnostic.error(
                    path,
                    lines.table(table),
                    f"[{table}]: unknown table{_suggest(table, list(_TABLES))}",
                )
            )
        elif not isinstance(value, dict):
            out.append(Diagnostic.error(path, lines.key("", table), f"[{table}]: must be a table"))
        else:
            for key, inner in value.items():
                if f"{table}.{key}" in _TABLES and not isinstance(inner, dict):
                    out.append(
                        Diagnostic.error(
                            path, lines.key(table, key), f"{table}.{key}: must be a table"
                        )
                    )
    for table in _REQUIRED_TABLES:
        if table not in raw:
            out.append(Diagnostic.error(path, 1, f"[{table}]: missing (required)"))
    present = {table: _table(raw, table) for table in _TABLES}
    values = {
        table: _validate_table(path, lines, table, found or {}, out)
        for table, found in present.items()
        if found is not None
        or table in _REQUIRED_TABLES
        or ("." not in table and table not in _OPTIONAL_TABLES)
    }
    out.sort(key=lambda d: d.line)
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
    for name in SOCIAL_PLATFORMS:
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
    return _Lines(text).key(table, key)


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
