"""A watch over everything a test run writes: no secret and no subscriber address may appear
in it (SECURITY.md, "Secrets").

Tests that need a secret use :data:`SECRET` and :data:`SMTP_PASSWORD`.  After every test,
its captured standard output and error, everything syndicate logged (at DEBUG, the most
verbose level), every CLI output and exception the test saw through ``CliRunner``, and its
failure report are searched for them; a test whose output holds one fails.  At the end of
the run, every file the tests left under pytest's temporary folder is searched for them
and for every address of every subscriber list found there, except the subscriber lists
themselves, delivered mail (the outbox) and the list service's SQLite files, which must
hold addresses, and the installed
package a packaging test makes (its README shows the example list's addresses).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

#: The secrets tests use; a run is searched for them.
SECRET = "secret-canary-Kp7w3Qx9Lm"
SMTP_PASSWORD = "password-canary-Zq9#hunter2"
SECRETS = {"SYNDICATE_SECRET": SECRET, "SYNDICATE_SMTP_PASSWORD": SMTP_PASSWORD}

WRITTEN = pytest.StashKey[list[str]]()
ADDRESS = re.compile(rb"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")


def addresses(data: bytes) -> set[bytes]:
    """Every e-mail address in *data*, lowercased; looked for only around each "@", so that
    a megabyte of letters without one costs no backtracking."""
    found: set[bytes] = set()
    start = data.find(b"@")
    while start != -1:
        # The window holds every address whose "@" is within 100 bytes of this one.
        window = data[max(0, start - 64) : start + 700]
        found.update(match.group().lower() for match in ADDRESS.finditer(window))
        start = data.find(b"@", start + 100)
    return found


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.into.append(text)


@pytest.fixture(autouse=True)
def watched_output(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Collect what syndicate logs and what every CliRunner invocation prints."""
    written: list[str] = []
    request.node.stash[WRITTEN] = written
    logger = logging.getLogger("syndicate")
    handler = _Collect(written)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    invoke = CliRunner.invoke

    def watched(self: CliRunner, *args: Any, **kwargs: Any) -> Result:
        result = invoke(self, *args, **kwargs)
        written.append(result.output)
        if result.exception is not None:
            written.append(f"{type(result.exception).__name__}: {result.exception}")
        return result

    monkeypatch.setattr(CliRunner, "invoke", watched)
    yield
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "teardown":
        return
    texts = [*item.stash.get(WRITTEN, []), *(content for _, content in report.sections)]
    texts.append(report.longreprtext)
    leaked = sorted(name for name, value in SECRETS.items() if any(value in t for t in texts))
    if leaked:
        report.outcome = "failed"
        report.longrepr = f"{', '.join(leaked)} appeared in what this test wrote or logged"


def leaks(folder: Path) -> list[str]:
    """Every file below *folder* that holds a secret or a subscriber's address."""
    files = [  # os.walk does not follow symbolic links (tests make some to outside)
        Path(parent, name)
        for parent, _, names in os.walk(folder)
        for name in names
        if not Path(parent, name).is_symlink() and Path(parent, name).is_file()
    ]
    lists = [p for p in files if p.suffix == ".csv"]
    listed = {a for p in lists for a in addresses(p.read_bytes())}
    found = []
    for path in files:
        if path in lists or "outbox" in path.parts or path.suffix == ".eml":
            continue
        if path.name.endswith((".db", ".db-wal", ".db-shm", ".db-journal")):
            continue  # the list service's own store, where the addresses belong
        if "site-packages" in path.parts:  # a test installs the wheel: the README's examples
            continue
        data = path.read_bytes()
        for name, value in SECRETS.items():
            if value.encode() in data:
                found.append(f"{path}: holds {name}")
        if listed & addresses(data):
            found.append(f"{path}: holds a subscriber's address")
    return found


@pytest.fixture(autouse=True, scope="session")
def no_file_left_holds_a_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    found = leaks(tmp_path_factory.getbasetemp())
    assert not found, "\n".join(found)
