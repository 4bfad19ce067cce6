"""``syndicate init``: a new publication, ready to publish from GitHub Actions.

The files come from ``templates/init/`` in the package; nothing here is written
over an existing file unless the caller says ``force``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from . import DISTRIBUTION, __version__
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


def _contents(title: str, url: str, today: date) -> dict[str, bytes]:
    folder = default_templates() / "init"
    # Plain text with Jinja only for the values: TOML and Markdown, never HTML-escaped.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    contents: dict[str, bytes] = {}
    for template, target in FILES:
        if template is None:
            continue
        if template.endswith(".j2"):
            text = environment.get_template(template).render(
                title=title, url=url, date=today.isoformat()
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
