"""The publications the standards tests check, each published once per test session.

* ``example``: this repository's example publication (what ``make publish`` builds);
* ``stress``: ``tests/stress/``, ordinary but hard content (emoji and ZWJ sequences, CJK,
  Arabic, markup characters and quotes in titles, summaries and category names, URLs and
  handles in text, long titles, tables, raw HTML);
* ``stress-article``: the same in the newsletter's "article" mode (one email per article);
* ``subscribers`` (:data:`LIST`): the example with the list service: ``[subscribers] url``
  set, so its landing and article pages carry the sign-up form and its emails the
  service's unsubscribe link, its readers imported into the service's database; and the
  service's own pages and emails, from the real service under uvicorn (:func:`_service`).

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

import httpx
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
from service_support import SERVICE_URL, Service, wait_for
from syndicate.config import load_config
from syndicate.pipeline import publish
from syndicate.preview import preview_page
from syndicate.subscribers.database import connect
from syndicate.subscribers.listing import import_csv

STRESS = REPO / "tests" / "stress"
NAMES = ("example", "stress", "stress-article")
#: The publication with the list service, checked for its pages and its emails.
LIST = "subscribers"
#: The service's pages, by the name they are saved under in ``service/``.
SERVICE_PAGES = (
    "signup",
    "signup-problem",
    "signup-sent",
    "confirm",
    "confirmed",
    "unsubscribe",
    "unsubscribed",
    "error",
)


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
        if self.name == LIST:  # the pages that differ from the example's, and the service's
            skipped = {"social", "digests"}
        written = [
            path
            for path in sorted(self.output.rglob("*.html"))
            if path.relative_to(self.output).parts[0] not in skipped
        ]
        if self.name == LIST:
            return [*written, *(self.root / "service" / f"{n}.html" for n in SERVICE_PAGES)]
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
    if name == LIST:
        return _with_the_list(root)
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


def _with_the_list(root: Path) -> Site:
    """The example, its list kept by the service: the CSV imported into the service's own
    SQLite file, the unsubscribe link left to ``[subscribers] url``."""
    example_copy(root)
    config = root / "syndicate.toml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(unsubscribe_url|subscribers) = .*\n", "", text)
    config.write_text(text + f'\n[subscribers]\nurl = "{SERVICE_URL}"\ngoodbye = true\n')
    engine = connect(load_config(root), {})
    try:
        readers = root / "example-subscribers.csv"
        import_csv(engine, readers, readers.read_text(encoding="utf-8"), now=NOW)
    finally:
        engine.dispose()
    publish(root, NOW, environ={"SYNDICATE_SECRET": SECRET}, sleep=lambda _: None)
    _service(root)
    return Site(LIST, root, load_config(root).site.url)


def _service(root: Path) -> None:
    """Every page of the list service, as a reader meets them, saved in ``service/`` with
    its stylesheet; its confirmation and goodbye emails land in ``outbox/subscribers/``."""
    folder = root / "service"
    folder.mkdir()
    outbox = root / "outbox" / "subscribers"

    def email(kind: str) -> EmailMessage:
        wait_for(lambda: any(outbox.glob(f"{kind}-*.eml")), what=f"the {kind} email")
        found = message_from_bytes(
            next(outbox.glob(f"{kind}-*.eml")).read_bytes(), policy=policy.default
        )
        assert isinstance(found, EmailMessage)
        return found

    def save(name: str, answer: httpx.Response) -> None:
        (folder / f"{name}.html").write_bytes(answer.content)

    with Service(root, {}) as service, service.client() as client:
        (folder / "style.css").write_bytes(client.get("/style.css").content)
        save("signup", client.get("/"))
        save("signup-problem", client.post("/subscribe", data={"email": "not an address"}))
        save("signup-sent", client.post("/subscribe", data={"email": "harness@example.org"}))
        body = email("confirm").get_body(("plain",))
        assert body is not None
        found = re.search(rf"{re.escape(SERVICE_URL)}(confirm/\S+)", body.get_content())
        assert found is not None
        save("confirm", client.get(f"/{found[1]}"))
        save("confirmed", client.post(f"/{found[1]}"))
        leave = re.search(
            r"<https://[^/]+/(unsubscribe/[^>]+)>", email("confirm")["List-Unsubscribe"]
        )
        assert leave is not None
        save("unsubscribe", client.get(f"/{leave[1]}"))
        save("unsubscribed", client.post(f"/{leave[1]}", data={"List-Unsubscribe": "One-Click"}))
        save("error", client.get("/nowhere"))
        email("goodbye")


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Site]:
    """``sites(name)``: the publication *name* (one of :data:`NAMES`, or :data:`LIST`),
    published on first use."""
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
    pages = {path: site.label(path) for site in map(sites, (*NAMES, LIST)) for path in site.pages()}
    return _checked(lambda: nu_checker(pages))


@pytest.fixture(scope="session")
def accessibility_verdicts(sites: Callable[[str], Site], browser: Browser) -> list[Finding]:
    """axe-core on every page of every publication, in light and dark mode."""
    found: list[Finding] = []
    for site in map(sites, (*NAMES, LIST)):
        pages = {path: site.label(path) for path in site.pages()}
        # The service's pages take their stylesheet from the service.
        mirror = {site.url: site.output, SERVICE_URL: site.root / "service"}
        found += _checked(lambda: axe(browser, pages, mirror))  # noqa: B023
    return found


def sample(messages: list[Path]) -> list[Path]:
    """Every message of the first email (outbox folder), the first message of the others;
    every email of the list service (``outbox/subscribers/``: each of its kinds)."""
    emails: dict[Path, list[Path]] = {}
    service: list[Path] = []
    for path in messages:
        if path.parent.name == "subscribers":
            service.append(path)
        else:
            emails.setdefault(path.parent, []).append(path)
    first, *others = emails.values()
    return [*first, *(copies[0] for copies in others), *service]


@pytest.fixture(scope="session")
def spam_verdicts(sites: Callable[[str], Site]) -> dict[str, list[SpamScore]]:
    """SpamAssassin's score of the messages each publication delivered: every reader's copy
    of its first email (they differ in their personal links), and one copy of each other
    email (they differ in content).  SpamAssassin takes a process per message."""
    messages = {name: sample(sites(name).messages()) for name in (*NAMES, LIST)}
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
