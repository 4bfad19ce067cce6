"""Shared fixtures: inline publications, a pinned clock, timezone and locale, golden files."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Everything a test run writes is searched for secrets and subscriber addresses.
pytest_plugins = ("leaks", "service_support", "checkers.sites")

#: The moment every test runs at, unless it says otherwise.
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

REPO = Path(__file__).resolve().parents[1]

SITE = """\
[site]
title = "Test Times"
url = "https://news.example.org/"
description = "A publication for tests"
author = "Site Author"
"""

MakePublication = Callable[..., Path]


def article(
    title: str = "A title", date: str = "2025-05-01", body: str = "Body text.", **fields: str
) -> str:
    """An article: front matter from *title*, *date* and *fields* (YAML, as written)."""
    lines = ["---", f"title: {title}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", "", body, ""])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def pinned_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A local timezone far from UTC and a plain locale, so that code which reads the
    machine's zone or locale instead of the publication's shows up in the output."""
    for name in [n for n in os.environ if n.startswith("SYNDICATE_")]:
        monkeypatch.delenv(name)  # a maintainer's own secrets never reach a test
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def publication(tmp_path: Path) -> MakePublication:
    """Make a publication from an inline tree: ``publication({"content/a.md": "..."})``.

    ``syndicate.toml`` defaults to :data:`SITE`; values may be text or bytes
    (bytes are written as they are, for encoding tests).
    """

    def make(files: Mapping[str, str | bytes], config: str = SITE) -> Path:
        root = tmp_path / "pub"
        root.mkdir(exist_ok=True)
        tree: dict[str, str | bytes] = {"syndicate.toml": config, **files}
        (root / "content").mkdir(exist_ok=True)
        for name, data in tree.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data, encoding="utf-8", newline="")
        return root

    return make


#: The example publication in this repository: what a copy of it needs.
EXAMPLE = ("syndicate.toml", "example-subscribers.csv", "content", "static")


def example_copy(root: Path) -> Path:
    """A fresh copy of this repository's example publication at *root* (made here)."""
    root.mkdir(parents=True)
    for name in EXAMPLE:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
        else:
            shutil.copy(REPO / name, root / name)
    return root


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below *folder*, by its relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def mtimes(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_mtime_ns
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
