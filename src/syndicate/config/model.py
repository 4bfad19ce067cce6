"""What a publication's configuration is: one frozen dataclass per table of ``syndicate.toml``.

Each field is documented where it is declared, and a default the model has is written
here only (the schema, :mod:`.schema`, takes it from here).  Paths are absolute, resolved
against the folder that holds the file; nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ..social.platforms import PLATFORMS

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
