"""``syndicate init``: a new publication, ready to publish from GitHub Actions.

The files come from ``templates/init/`` in the package; nothing here is written
over an existing file unless the caller says ``force``.  :func:`placeholders`
finds the example values init wrote that a publication must replace before it
goes live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from . import DISTRIBUTION, __version__
from .config import Config, line_of, service_unsubscribe_url
from .errors import ConfigError, Diagnostic
from .output import atomic_write
from .templating import default_templates

#: What ``init`` writes: (template below templates/init/, path in the publication).
FILES = (
    ("syndicate.toml.j2", "syndicate.toml"),
    ("content/hello-world.md.j2", "content/hello-world.md"),
    ("gitignore", ".gitignore"),
    (".github/workflows/publish.yml", ".github/workflows/publish.yml"),
    (None, ".github/syndicate-requirements.txt"),
    (None, "static/.gitkeep"),
)


@dataclass(frozen=True, slots=True)
class Scaffolded:
    root: Path
    written: tuple[str, ...]


def requirement() -> str:
    """What the scaffolded workflow installs: this very distribution and version."""
    return f"{DISTRIBUTION}=={__version__}\n"


def toml_string(value: str) -> str:
    """*value* as a TOML basic string: quotes, backslashes and control characters escaped,
    every other character (accents, CJK, emoji) written as itself."""
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
    escapes |= {"\f": "\\f", "\r": "\\r"}
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _one_line(value: str) -> str:
    """*value* fit for a comment: one line, whatever it holds."""
    return " ".join(value.split())


#: Characters that RFC 5322 allows in a display name only inside quotes.
_SPECIALS = set('()<>[]:;@\\,."')


def sender(title: str) -> str:
    """The example ``[email] from``: the publication's name at a placeholder address."""
    name = _one_line(title)
    if _SPECIALS & set(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{PLACEHOLDER_SENDER}>"


def _contents(title: str, url: str, today: date) -> dict[str, bytes]:
    folder = default_templates() / "init"
    # Plain text with Jinja only for the values: TOML and Markdown, never HTML-escaped.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["toml"] = toml_string
    environment.filters["comment"] = _one_line
    contents: dict[str, bytes] = {}
    for template, target in FILES:
        if template is None:
            continue
        if template.endswith(".j2"):
            text = environment.get_template(template).render(
                title=title, url=url, date=today.isoformat(), sender=sender(title)
            )
            contents[target] = text.encode("utf-8")
        else:
            contents[target] = (folder / template).read_bytes()
    contents[".github/syndicate-requirements.txt"] = requirement().encode()
    contents["static/.gitkeep"] = b""
    return contents


def scaffold(root: Path, *, title: str, url: str, today: date, force: bool = False) -> Scaffolded:
    """Write a new publication into *root*; refuses to overwrite any file unless *force*."""
    contents = _contents(title, url.rstrip("/") + "/", today)
    existing = [name for name in contents if (root / name).exists()]
    if existing and not force:
        raise ConfigError(
            f"{root} already has {len(existing)} of the files init writes; nothing was "
            "written (--force overwrites them)",
            [Diagnostic.error(root / name, 0, "exists") for name in existing],
        )
    for name, data in contents.items():
        atomic_write(root / name, data)
    return Scaffolded(root, tuple(contents))


# --- the example values a publication must replace -------------------------------------

#: What init writes where only the publication's own value will do.
PLACEHOLDER_SENDER = "newsletter@example.org"
PLACEHOLDER_HOST = "your-user.github.io"
PLACEHOLDER_ADDRESS = "Your postal address, as anti-spam laws ask"
PLACEHOLDER_DESCRIPTION = "What this publication is about, in one line"
PLACEHOLDER_AUTHOR = "Your Name"
#: Domains that can never receive mail or serve a page for real (RFC 2606, RFC 6761).
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")


def reserved(host: str) -> bool:
    """Whether *host* is a documentation or test name, which no real reader can reach."""
    name = host.strip("[]").rstrip(".").lower()
    return name.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL or any(
        name == domain or name.endswith("." + domain) for domain in RESERVED_DOMAINS
    )


def _domain(mailbox: str) -> str:
    return mailbox.rstrip(">").rsplit("@", 1)[-1]


def placeholders(config: Config, *, error: bool = False) -> list[Diagnostic]:
    """Every value of *config* that is still an example init wrote, or that names a domain
    no reader can reach: warnings, or errors with *error* (before a real send)."""
    found: list[tuple[str, str, str]] = []
    site = config.site
    if urlsplit(site.url).hostname == PLACEHOLDER_HOST:
        found.append(("site", "url", f"{site.url} is init's example: say where feeds/ is served"))
    if site.description == PLACEHOLDER_DESCRIPTION:
        found.append(("site", "description", "is init's example: say what this is about"))
    if site.author == PLACEHOLDER_AUTHOR:
        found.append(("site", "author", f'"{PLACEHOLDER_AUTHOR}" is init\'s example'))
    email = config.email
    if email is not None:
        for key, value in (("from", email.sender), ("reply_to", email.reply_to)):
            if value and reserved(_domain(value)):
                found.append(
                    (
                        "email",
                        key,
                        f"{_domain(value)} is an example domain: no mail sent from "
                        "it reaches anyone; use your own address",
                    )
                )
        unsubscribe = urlsplit(email.unsubscribe_url or "").hostname
        service = config.subscribers
        if unsubscribe and reserved(unsubscribe):
            # Without a link of its own, the link is the list service's ([subscribers] url).
            ours = service is not None and email.unsubscribe_url == service_unsubscribe_url(service)
            found.append(
                (
                    "subscribers" if ours else "email",
                    "url" if ours else "unsubscribe_url",
                    f"{unsubscribe} is an example domain: no reader "
                    "could unsubscribe; point it at your unsubscribe endpoint",
                )
            )
        if email.address == PLACEHOLDER_ADDRESS:
            found.append(("email", "address", "is init's example: write your postal address"))
    make = Diagnostic.error if error else Diagnostic.warning
    return [
        make(config.path, line_of(config.path, table, key), f"{table}.{key}: {message}")
        for table, key, message in found
    ]
