"""The publications the standards tests check, each published once per test session.

* ``example``: this repository's example publication (what ``make publish`` builds);
* ``stress``: ``tests/stress/``, ordinary but hard content (emoji and ZWJ sequences, CJK,
  Arabic, markup characters and quotes in titles, summaries and category names, URLs and
  handles in text, long titles, tables, raw HTML);
* ``stress-article``: the same in the newsletter's "article" mode (one email per article).

Each is copied to a temporary folder and published at the tests' pinned moment to its
outbox, so that every kind of output is there to check: feeds, pages, social files, emails.
The checkers' verdicts are fixtures too, each tool run once over every publication.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from browser import Browser, BrowserMissing, chromium
from checkers import (
    CheckerMissing,
    Finding,
    SpamScore,
    axe,
    feed_validator,
    nu_checker,
    spamassassin,
)
from conftest import NOW, REPO, example_copy
from leaks import SECRET
from syndicate.config import load_config
from syndicate.pipeline import publish
from syndicate.preview import preview_page

STRESS = REPO / "tests" / "stress"
NAMES = ("example", "stress", "stress-article")


@dataclass(frozen=True, slots=True)
class Site:
    """A published copy of a publication."""

    name: str
    root: Path
    #: ``[site] url``: where ``feeds/`` is served.
    url: str

    @property
    def output(self) -> Path:
        return self.root / "feeds"

    def label(self, path: Path) -> str:
        """How a finding names *path*: the publication, then the file in its output."""
        where = path.relative_to(self.output) if path.is_relative_to(self.output) else path.name
        return f"{self.name}:{where.as_posix() if isinstance(where, Path) else where}"

    def public_url(self, path: Path) -> str:
        return self.url + path.relative_to(self.output).as_posix()

    def feeds(self, suffix: str) -> list[Path]:
        """Every feed file whose name ends with *suffix* (``rss.xml``, ``atom.xml``,
        ``feed.json``): the site's and each category's."""
        return sorted(self.output.rglob(f"*{suffix}"))

    def pages(self) -> list[Path]:
        """Every web page syndicate wrote: article pages, the landing page, the digest
        archive and each digest's web version, and the ``preview`` page.  The social
        ``<meta>`` snippets are fragments for a site's ``<head>``, not pages.  In article
        mode, only the pages that differ from digest mode: the newsletter's."""
        skipped = {"social", "posts", "index.html"} if self.name == "stress-article" else {"social"}
        written = [
            path
            for path in sorted(self.output.rglob("*.html"))
            if path.relative_to(self.output).parts[0] not in skipped
        ]
        return [*written, self.root / "preview.html"]

    def snippets(self) -> list[Path]:
        return sorted((self.output / "social").glob("*.html"))

    def posts(self) -> list[Path]:
        """The social post files, ``social/<slug>.json``."""
        return sorted((self.output / "social").glob("*.json"))

    def messages(self) -> list[Path]:
        """Every message delivered to the outbox."""
        return sorted((self.root / "outbox").rglob("*.eml"))

    def message(self, path: Path) -> EmailMessage:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _publish(name: str, root: Path) -> Site:
    if name == "example":
        example_copy(root)
    else:
        shutil.copytree(STRESS, root)
        if name == "stress-article":
            config = root / "syndicate.toml"
            text = config.read_text(encoding="utf-8")
            config.write_text(re.sub(r'(?m)^mode = "digest"$', 'mode = "article"', text))
    report, _ = publish(root, NOW, environ={"SYNDICATE_SECRET": SECRET}, sleep=lambda _: None)
    config = load_config(root)
    latest = report.due[0] if report.due else (report.emails[-1] if report.emails else None)
    (root / "preview.html").write_text(preview_page(config, latest), encoding="utf-8")
    return Site(name, root, config.site.url)


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Site]:
    """``sites(name)``: the publication *name* (one of :data:`NAMES`), published on first use."""
    made: dict[str, Site] = {}

    def get(name: str) -> Site:
        if name not in made:
            made[name] = _publish(name, tmp_path_factory.mktemp("standards") / name)
        return made[name]

    return get


def by_file(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.file.split(" (")[0], []).append(finding)
    return out


def _checked(run: Callable[[], list[Finding]]) -> list[Finding]:
    try:
        return run()
    except CheckerMissing as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def feed_verdicts(sites: Callable[[str], Site]) -> list[Finding]:
    """The W3C feed validator on every RSS and Atom file of every publication (one run);
    the newsletter's mode changes no feed, so article mode's are not checked again."""
    feeds: dict[Path, str] = {}
    names: dict[Path, str] = {}
    for site in map(sites, ("example", "stress")):
        for path in site.feeds("rss.xml") + site.feeds("atom.xml"):
            feeds[path] = site.public_url(path)
            names[path] = site.label(path)
    return _checked(lambda: feed_validator(feeds, names=names))


@pytest.fixture(scope="session")
def page_verdicts(sites: Callable[[str], Site]) -> list[Finding]:
    """The Nu HTML Checker on every page of every publication (one run)."""
    pages = {path: site.label(path) for site in map(sites, NAMES) for path in site.pages()}
    return _checked(lambda: nu_checker(pages))


@pytest.fixture(scope="session")
def accessibility_verdicts(sites: Callable[[str], Site], browser: Browser) -> list[Finding]:
    """axe-core on every page of every publication, in light and dark mode."""
    found: list[Finding] = []
    for site in map(sites, NAMES):
        pages = {path: site.label(path) for path in site.pages()}
        mirror = {site.url: site.output}
        found += _checked(lambda: axe(browser, pages, mirror))  # noqa: B023
    return found


def sample(messages: list[Path]) -> list[Path]:
    """Every message of the first email (outbox folder), the first message of the others."""
    emails: dict[Path, list[Path]] = {}
    for path in messages:
        emails.setdefault(path.parent, []).append(path)
    first, *others = emails.values()
    return [*first, *(copies[0] for copies in others)]


@pytest.fixture(scope="session")
def spam_verdicts(sites: Callable[[str], Site]) -> dict[str, list[SpamScore]]:
    """SpamAssassin's score of the messages each publication delivered: every reader's copy
    of its first email (they differ in their personal links), and one copy of each other
    email (they differ in content).  SpamAssassin takes a process per message."""
    messages = {name: sample(sites(name).messages()) for name in NAMES}
    try:
        scores = spamassassin([path for paths in messages.values() for path in paths])
    except CheckerMissing as error:
        pytest.fail(str(error), pytrace=False)
    out: dict[str, list[SpamScore]] = {}
    for name, paths in messages.items():
        out[name], scores = scores[: len(paths)], scores[len(paths) :]
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (see :mod:`browser`)."""
    try:
        executable = chromium()
    except BrowserMissing as error:
        pytest.fail(str(error), pytrace=False)
    with Browser.launch(executable) as started:
        yield started
