"""The tools the world checks syndicate's output with (issue 26), run for real.

* the W3C Feed Validation Service, from ``../shared/feedvalidator/`` beside the repository;
* the Nu HTML Checker (npm's ``vnu-jar``, run by Debian's Java);
* axe-core (npm), injected into real headless Chromium through :mod:`browser`;
* SpamAssassin (Debian's), local rules only: ``spamassassin -L -t``;
* doiuse-email (npm), caniemail's data on what each email client supports;
* twitter-text (npm), X's own counting, and ``@atproto/api`` (npm), Bluesky's facets.

``scripts/ensure-checkers`` (run by ``make test``) installs them.  Each function runs its tool
once over a whole batch of files (one JVM, one node process, one SpamAssassin), because
starting the tool costs more than checking a file.  The findings keep each tool's own rule
names, so that a failure says which rule of which tool, and where.
"""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NODE_MODULES = REPO / "node_modules"
#: CI lays ``shared/`` beside the clone; the validator is not on PyPI.
FEEDVALIDATOR = REPO.parent / "shared" / "feedvalidator"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"

#: Long enough for a slow, shared machine; a tool that hangs fails the test instead.
TIMEOUT = 300


class CheckerMissing(RuntimeError):
    """A checker is not installed: ``scripts/ensure-checkers`` installs them all."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One complaint of one tool about one file."""

    tool: str
    #: The file, as the test names it (relative to its publication's output folder).
    file: str
    #: ``error`` or ``warning``, in the tool's own terms.
    level: str
    #: The tool's name for the rule (a feedvalidator message class, an axe rule id...).
    rule: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line or 0}"
        return f"{where}: {self.level}: [{self.tool} {self.rule}] {self.message}"


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise CheckerMissing(f"{what} is missing ({path}): run scripts/ensure-checkers")
    return path


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CheckerMissing(f"{name} is not on PATH: run scripts/ensure-checkers")
    return found


def _run(command: Sequence[str], stdin: str | None = None, **kwargs: Any) -> str:
    done = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        # SpamAssassin's report can cut a character in two; it never lands in a header.
        errors="replace",
        timeout=TIMEOUT,
        check=False,
        **kwargs,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:3])}... exited with {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done.stdout


def node(script: str, payload: object) -> Any:
    """Run ``tests/checkers/<script>`` under node with *payload* as JSON on its standard
    input; its JSON answer.  The script imports the npm checkers from ``node_modules/``."""
    _require(NODE_MODULES / ".package-lock.json", "node_modules/ (the npm checkers)")
    return json.loads(_run([_program("node"), str(HERE / script)], json.dumps(payload)))


# --- feeds --------------------------------------------------------------------------------


def feed_validator(feeds: Mapping[Path, str], *, names: Mapping[Path, str]) -> list[Finding]:
    """What the W3C feed validator says about each RSS or Atom file of *feeds* (mapped to
    its public URL): the errors and warnings the online validator shows."""
    folder = _require(FEEDVALIDATOR / "feedvalidator", "../shared/feedvalidator")
    answer = _run(
        [sys.executable, str(HERE / "w3c_feed.py"), str(folder.parent)],
        json.dumps({str(path): url for path, url in feeds.items()}),
        cwd=folder.parent,
    )
    found: list[Finding] = []
    for path, events in json.loads(answer).items():
        for event in events:
            found.append(
                Finding(
                    "feedvalidator",
                    names[Path(path)],
                    event["level"],
                    event["rule"],
                    event["text"],
                    int(event["line"]) if event["line"] else None,
                )
            )
    return found


# --- pages --------------------------------------------------------------------------------


def nu_checker(pages: Mapping[Path, str]) -> list[Finding]:
    """What the Nu HTML Checker says about every page of *pages* (mapped to the name a
    finding shows), in one run: its errors, and its warnings (``info`` of subtype
    ``warning``); plain information messages are left out."""
    jar = _require(VNU_JAR, "vnu.jar (npm's vnu-jar)")
    if not pages:
        return []
    done = subprocess.run(
        [_program("java"), "-jar", str(jar), "--format", "json", "--exit-zero-always"]
        + [str(path) for path in pages],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"vnu exited with {done.returncode}:\n{done.stderr[-3000:]}")
    # vnu writes file:/a/b for file:///a/b.
    by_path = {path.resolve(): name for path, name in pages.items()}
    found: list[Finding] = []
    for message in json.loads(done.stderr)["messages"]:
        kind, sub = message.get("type"), message.get("subType")
        if kind == "info" and sub != "warning":
            continue
        level = "warning" if kind == "info" else "error"
        found.append(
            Finding(
                "vnu",
                by_path.get(Path(unquote(urlsplit(message.get("url", "")).path)), "?"),
                level,
                # vnu has no rule ids: the message, without the values it quotes, names it.
                re.sub(r"“[^”]*”", "“…”", message["message"]),
                message["message"],
                message.get("lastLine"),
            )
        )
    return found


#: Every rule axe runs by default (WCAG 2.0-2.2 A and AA, and its best practices) in light
#: mode; in dark mode again only the rules that read colours, since nothing else changes.
_AXE_RUN = """axe.run(document, {
  resultTypes: ['violations'],
  ...(matchMedia('(prefers-color-scheme: dark)').matches
    ? {runOnly: {type: 'rule', values: ['color-contrast', 'link-in-text-block']}}
    : {}),
})"""


def axe(browser: Any, pages: Mapping[Path, str], mirror: Mapping[str, Path]) -> list[Finding]:
    """axe-core's violations on every page of *pages*, each loaded offline in Chromium at a
    laptop's width (*mirror* serves the publication's own files), in light and in dark mode:
    one finding per rule a page breaks, naming the elements."""
    source = _require(AXE, "axe-core (npm)").read_text(encoding="utf-8")
    found: list[Finding] = []
    schemes = ("light", "dark")
    for path, name in pages.items():
        results = browser.run_script(
            path,
            1024,
            source,
            _AXE_RUN,
            mirror=mirror,
            color_schemes=schemes,
        )
        for scheme, result in zip(schemes, results, strict=True):
            for violation in result["violations"]:
                targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
                found.append(
                    Finding(
                        "axe",
                        f"{name} ({scheme})",
                        "error",
                        violation["id"],
                        f"{violation['impact']}: {violation['help']}: {', '.join(targets)}",
                    )
                )
    return found


# --- email --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpamScore:
    """SpamAssassin's verdict on one message."""

    score: float
    #: Each rule that hit, with the points it gave.
    rules: Mapping[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        hits = ", ".join(f"{rule} {points:+.1f}" for rule, points in sorted(self.rules.items()))
        return f"{self.score:.1f} ({hits})"


def spamassassin(messages: Sequence[Path]) -> list[SpamScore]:
    """SpamAssassin's score of each message file, in order: ``spamassassin -L -t`` (local
    tests only: no DNS or network rule).  Nothing is learnt or stored: no Bayes, no
    preferences file, a throwaway home.

    One process for each message, as many at once as there are cores: SpamAssassin given
    several files in one run carries a rule's state from one to the next (its
    ``GB_CUSTOM_HTM_URI`` hits only the first message of a batch, though it hits each of
    them on its own), so a batch would score the later messages too kindly."""
    program = _program("spamassassin")
    with (
        tempfile.TemporaryDirectory(prefix="syndicate-spamassassin-") as home,
        ThreadPoolExecutor(os.cpu_count() or 1) as pool,
    ):
        outputs = list(pool.map(lambda path: _spamassassin(program, path, home), messages))
    return [_score(output) for output in outputs]


def _spamassassin(program: str, message: Path, home: str) -> str:
    return _run(
        [
            program,
            "-L",
            "-t",
            "-x",
            "--cf=use_bayes 0",
            # A message judged spam stays as it is, not wrapped in a report.
            "--cf=report_safe 0",
            # Each rule with its points, in a header this harness reads back.
            "--cf=add_header all Tests _TESTSSCORES(,)_",
            str(message),
        ],
        env={**os.environ, "HOME": home},
    )


def _score(output: str) -> SpamScore:
    checked = email.message_from_string(output, policy=policy.compat32)
    status = _header(checked, "X-Spam-Status")
    score = re.search(r"score=(-?[0-9.]+)", status)
    if score is None:
        raise RuntimeError(f"spamassassin gave no score: {status!r}")
    rules: dict[str, float] = {}
    for hit in _header(checked, "X-Spam-Tests").split(","):
        if "=" in hit:
            rule, points = hit.split("=")
            rules[rule.strip()] = float(points)
    return SpamScore(float(score.group(1)), rules)


def _header(message: email.message.Message, name: str) -> str:
    """A header's value unfolded (SpamAssassin folds its own)."""
    return " ".join(str(message[name] or "").split())


#: The clients issue 26 names, as doiuse-email knows them: Gmail (every app), Outlook for
#: Windows (classic, and the Mail app) and Apple Mail (macOS and iOS).  Its list has no
#: Outlook.com, whose renderer the new Outlook uses (caniemail's data has it; doiuse-email
#: 0.4.1 matches no client for ``outlook.outlook-com``), so the new Outlook is not judged here.
EMAIL_CLIENTS = ("gmail.*", "outlook.windows", "outlook.windows-mail", "apple-mail.*")

_UNSUPPORTED = re.compile(r"^`(?P<feature>.+)` is not supported by `(?P<client>[^`]+)`$")


@dataclass(frozen=True, slots=True)
class EmailSupport:
    """What doiuse-email says the clients lack in one email."""

    #: Each feature some client lacks, with the clients that lack it.
    unsupported: Mapping[str, frozenset[str]]
    #: Its notes on partial support, as it writes them.
    notes: tuple[str, ...]


def email_support(
    emails: Mapping[str, str], clients: Iterable[str] = EMAIL_CLIENTS
) -> dict[str, EmailSupport]:
    """doiuse-email's verdict on each email's HTML (by name), for *clients*."""
    answer = node("doiuse.mjs", {"clients": list(clients), "emails": dict(emails)})
    out: dict[str, EmailSupport] = {}
    for name, result in answer.items():
        unsupported: dict[str, set[str]] = {}
        for error in result["errors"]:
            match = _UNSUPPORTED.match(error)
            if match is None:
                raise RuntimeError(f"doiuse-email said something new: {error}")
            unsupported.setdefault(match["feature"], set()).add(match["client"])
        out[name] = EmailSupport(
            {feature: frozenset(c) for feature, c in unsupported.items()},
            tuple(dict.fromkeys(result["notes"])),
        )
    return out


# --- social -------------------------------------------------------------------------------


def twitter_text(texts: Sequence[str]) -> list[dict[str, Any]]:
    """twitter-text's ``parseTweet`` of each text (``weightedLength``, ``valid``...), with
    ``mentions``: the accounts X would link in it."""
    return list(node("twitter.mjs", list(texts)))


def bluesky_facets(texts: Sequence[str]) -> list[list[dict[str, Any]]]:
    """The facets ``RichText.detectFacets`` of ``@atproto/api`` finds in each text: byte
    ranges of UTF-8 with a link, tag or mention feature (mentions unresolved: their ``did``
    is the handle)."""
    return list(node("bluesky.mjs", list(texts)))
