"""mkdocs-material's social plugin making the cards of the same articles, offline.

``compare.py`` builds a copy of a corpus with MkDocs and the Material theme twice, with the
social plugin's cards and without, and divides the difference by the number of cards: the
time one card adds to a build, as for syndicate.  The copy has one page per article, its
title the article's, its description the card's footer in syndicate ("Author · Date"), and
its body the article's first paragraph (the bodies cost both builds alike).

mkdocs-material is installed in a virtualenv of its own (``.venv/mkdocs-material`` beside
the project's, made on first use), with the ``imaging`` extra: Pillow and CairoSVG, which
needs Debian's ``libcairo2``.  The plugin downloads the card's font from Google Fonts into
its cache on first use; here its cache is seeded before every build with the font
syndicate's cards use (Noto Sans, in ``templates/social/fonts``), under the family name
the configuration asks for, so nothing is downloaded.  To make sure, the build runs with
its proxy set to a closed port on 127.0.0.1: any download would fail the build at once.
"""

from __future__ import annotations

import ctypes.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from peers import split_article, write_if_changed

REQUIREMENT = "mkdocs-material[imaging]"
#: The family the cards are drawn in, and the files it is seeded from.
FONT_FAMILY = "Noto Sans"
FONTS = Path(__file__).resolve().parent.parent / "templates" / "social" / "fonts"
FONT_STYLES = {"Regular": "NotoSans-Regular.ttf", "Bold": "NotoSans-Bold.ttf"}
#: Nothing listens on port 9 (discard): a download through this proxy fails at once.
CLOSED_PROXY = "http://127.0.0.1:9"
CACHE = ".cache/social"

CONFIG = """site_name: Bench Daily
site_url: https://bench.example.org/
site_description: Generated benchmark corpus
theme:
  name: material
  # No web font in the pages: nothing the build would fetch, nothing to compare.
  font: false
# Only the home page in the navigation: with every page in it, each page would list all
# the others, and the build would grow with the square of the pages.
nav:
  - index.md
# Replaces the default plugins (search): only the cards, or nothing.
plugins:
  - social:
      enabled: {enabled}
      cache_dir: {cache}
      cards_layout_options:
        font_family: {family}
"""


def default_venv() -> Path:
    """``mkdocs-material`` inside the virtualenv of the Python that runs the benchmark."""
    return Path(sys.prefix) / "mkdocs-material"


def find_mkdocs(venv: Path, install: bool = True) -> tuple[Path | None, str]:
    """The ``mkdocs`` of *venv*, made (with :data:`REQUIREMENT`) when missing and
    *install*; or None and why not."""
    exe = venv / "bin" / "mkdocs"
    if exe.exists():
        return exe, ""
    if not install:
        return None, f"not installed in {venv}"
    if ctypes.util.find_library("cairo") is None:
        return None, "needs libcairo2 (apt-get install libcairo2)"
    print(f"[bench] installing {REQUIREMENT} into {venv}", file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", REQUIREMENT]
        subprocess.run(pip, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"could not install {REQUIREMENT}: {error}"
    return (exe, "") if exe.exists() else (None, f"no mkdocs in {venv} after installing")


def version(exe: Path) -> str:
    """mkdocs-material's version, from its virtualenv's pip."""
    python = exe.parent / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "show", "mkdocs-material"],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("Version:"):
            return "mkdocs-material " + line.partition(":")[2].strip()
    return ""


def footer(meta: dict[str, str]) -> str:
    """What syndicate's card shows under the title: "Author · August 19, 2025"."""
    day = date.fromisoformat(meta["date"][:10])
    return f"{meta['author']} · {day:%B} {day.day}, {day.year}"


def write_site(source: Path, site: Path) -> int:
    """MkDocs's copy of the corpus in *source*: one page per article; the number of pages."""
    docs = site / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    (docs / "posts").mkdir(parents=True)
    (docs / "index.md").write_text("# Bench Daily\n\nGenerated benchmark corpus.\n")
    count = 0
    for path in sorted((source / "content").rglob("*.md")):
        meta, body = split_article(path.read_text(encoding="utf-8"))
        blocks = [block.strip() for block in body.split("\n\n") if block.strip()]
        first = next((b for b in blocks if not b.startswith(("#", "*", ">", "1."))), "")
        # JSON strings are YAML strings: titles may hold colons.
        title, description = (
            json.dumps(t, ensure_ascii=False) for t in (meta["title"], footer(meta))
        )
        header = f"title: {title}\ndescription: {description}"
        text = f"---\n{header}\n---\n\n# {meta['title']}\n\n{first}\n"
        (docs / "posts" / f"{path.stem}.md").write_text(text, encoding="utf-8")
        count += 1
    return count


def configurer(cards: bool) -> Callable[[Path, int], None]:
    """``mkdocs.yml`` with the social plugin's cards on or off (the limit is not used)."""

    def configure(site: Path, _limit: int) -> None:
        text = CONFIG.format(enabled=str(cards).lower(), cache=CACHE, family=FONT_FAMILY)
        write_if_changed(site / "mkdocs.yml", text)

    return configure


def seed_fonts(site: Path) -> None:
    """The plugin's font cache, as it would be after downloading :data:`FONT_FAMILY`:
    ``fonts/<family>/<style>.ttf``.  Run after the cache was deleted for a cold build."""
    folder = site / CACHE / "fonts" / FONT_FAMILY
    folder.mkdir(parents=True, exist_ok=True)
    for style, name in FONT_STYLES.items():
        shutil.copyfile(FONTS / name, folder / f"{style}.ttf")


def command(exe: Path) -> Callable[[Path, Path], list[str]]:
    """``mkdocs build`` of a site folder, with every proxy variable at a closed port."""
    proxies = [f"{name}={CLOSED_PROXY}" for name in ("HTTP_PROXY", "HTTPS_PROXY")]
    proxies += [f"{name}={CLOSED_PROXY}" for name in ("http_proxy", "https_proxy")]
    proxies += ["NO_PROXY=", "no_proxy="]

    def build(site: Path, _cache: Path) -> list[str]:
        config, out = str(site / "mkdocs.yml"), str(site / "site")
        return ["env", *proxies, str(exe), "build", "--quiet", "-f", config, "-d", out]

    return build


def cards_made(site: Path) -> int:
    """The card images the last build copied into the site."""
    return sum(1 for _ in (site / "site" / "assets" / "images" / "social").rglob("*.png"))
