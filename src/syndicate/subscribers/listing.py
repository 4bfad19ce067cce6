"""The list as a whole: who receives the newsletter, export, import, and counts.

:func:`recipients` and :func:`export` stream the list in pages of *batch* rows, each
page its own short transaction, so that memory stays flat whatever the list's size and no
reader holds the database for long.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..delivery.subscribers import Row, fold_key, read_rows
from ..errors import Diagnostic
from .database import durable, reading, retrying
from .schema import (
    BOUNCED,
    OUTBOX_STATES,
    PENDING,
    STATUSES,
    SUBSCRIBED,
    UNSUBSCRIBED,
    consent,
    outbox,
    subscribers,
)
from .store import clean_name

#: Statuses an import may set; "pending" (in an export) is a sign-up not confirmed yet.
IMPORTED = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED)
#: Export columns; ``email,name,status`` first, as the CSV list has them.
COLUMNS = ("email", "name", "status", "created", "confirmed")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One confirmed, still subscribed reader."""

    #: Stable and without the address: name a reader this way in diagnostics.
    id: int
    email: str
    name: str


def _pages(engine: sa.Engine, query: sa.Select[Any], batch: int) -> Iterator[sa.Row[Any]]:
    last = 0
    while True:

        def page(after: int = last) -> list[sa.Row[Any]]:
            with reading(engine) as connection:
                return list(
                    connection.execute(
                        query.where(subscribers.c.id > after)
                        .order_by(subscribers.c.id)
                        .limit(batch)
                    )
                )

        rows = retrying(page)
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def recipients(engine: sa.Engine, *, batch: int = 1000) -> Iterator[Recipient]:
    """Every subscribed reader, in the order they were added; pending, unsubscribed and
    bounced addresses never."""
    query = sa.select(subscribers.c.id, subscribers.c.email, subscribers.c.name).where(
        subscribers.c.status == SUBSCRIBED
    )
    for row in _pages(engine, query, batch):
        yield Recipient(row.id, row.email, row.name)


def count_recipients(engine: sa.Engine) -> int:
    """How many readers :func:`recipients` gives now (a reader who confirms or leaves
    meanwhile changes it by one)."""

    def run() -> int:
        with reading(engine) as connection:
            query = sa.select(sa.func.count()).where(subscribers.c.status == SUBSCRIBED)
            return int(connection.execute(query).scalar_one())

    return retrying(run)


def export(engine: sa.Engine, *, batch: int = 1000) -> Iterator[tuple[str, ...]]:
    """Every address with its status, as :data:`COLUMNS` (times in ISO 8601 UTC)."""
    query = sa.select(
        subscribers.c.id,
        subscribers.c.email,
        subscribers.c.name,
        subscribers.c.status,
        subscribers.c.created,
        subscribers.c.confirmed,
    )
    for row in _pages(engine, query, batch):
        confirmed = row.confirmed.isoformat() if row.confirmed else ""
        yield (row.email, row.name, row.status, row.created.isoformat(), confirmed)


@dataclass(frozen=True, slots=True)
class Stats:
    #: Addresses by status (every status present, 0 when none).
    statuses: dict[str, int]
    #: Outbox rows by state.
    outbox: dict[str, int]


def stats(engine: sa.Engine) -> Stats:
    def run() -> Stats:
        with reading(engine) as connection:
            counted: dict[str, int] = dict(
                connection.execute(
                    sa.select(subscribers.c.status, sa.func.count()).group_by(subscribers.c.status)
                ).all()
            )
            queued: dict[str, int] = dict(
                connection.execute(
                    sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)
                ).all()
            )
        return Stats(
            {status: int(counted.get(status, 0)) for status in STATUSES},
            {state: int(queued.get(state, 0)) for state in OUTBOX_STATES},
        )

    return retrying(run)


@dataclass(slots=True)
class Imported:
    """What an import did; every usable row counted once."""

    added: int = 0
    #: Rows that changed an address's status or name.
    updated: int = 0
    unchanged: int = 0
    #: Rows that would have subscribed again an address that left or bounced.
    kept_out: int = 0
    #: Rows with no usable address or status, reported in :attr:`diagnostics`.
    invalid: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)


def import_csv(
    engine: sa.Engine, path: Path, text: str, *, now: datetime, batch: int = 500
) -> Imported:
    """Merge the CSV *text* (``email,name,status``, as the CSV list and :func:`export`
    have it) into the list.

    An opt-out always wins: an unsubscribed or bounced address is never subscribed again by
    an import (only by the reader, confirming), and an unsubscribed or bounced row makes a
    subscribed address leave.  A bad row is a warning ``path:line`` that never names the
    address, and the others go on.  Raises :class:`~syndicate.errors.DeliveryError` when
    the file as a whole is unusable (no header, no email or status column).
    """
    report = Imported()
    page: list[Row] = []
    for row in read_rows(path, text):
        problem = _problem(row)
        if problem:
            report.invalid += 1
            report.diagnostics.append(
                Diagnostic.warning(path, row.line, f"{problem}; not imported")
            )
            continue
        page.append(row)
        if len(page) >= batch:
            _merge(engine, path, page, now, report)
            page = []
    _merge(engine, path, page, now, report)
    return report


def _problem(row: Row) -> str:
    if row.problem:
        return f"email: {row.problem}"
    if row.status == PENDING:
        return "status: pending (a sign-up not confirmed yet)"
    if row.status not in IMPORTED:
        shown = row.status if "@" not in row.status else "…"
        return f'status: "{shown[:20]}" is not subscribed, unsubscribed or bounced'
    return ""


def _merge(engine: sa.Engine, path: Path, page: list[Row], now: datetime, report: Imported) -> None:
    if not page:
        return
    source = f"import of {path.name}"

    def run() -> Imported:
        counts = Imported()
        with durable(engine).begin() as connection:
            keys = {fold_key(row.email or "") for row in page}
            known = {
                found.email_key: found
                for found in connection.execute(
                    sa.select(subscribers).where(subscribers.c.email_key.in_(keys))
                )
            }
            state: dict[str, dict[str, Any]] = {
                key: {"id": found.id, "status": found.status, "name": found.name, "dirty": False}
                for key, found in known.items()
            }
            new: dict[str, dict[str, Any]] = {}
            proofs: list[tuple[str, str, str]] = []  # key, event, detail
            for row in page:
                assert row.email is not None
                key = fold_key(row.email)
                name = clean_name(row.name)
                current = state.get(key) or new.get(key)
                if current is None:
                    new[key] = {
                        "email": row.email,
                        "email_key": key,
                        "name": name,
                        "status": row.status,
                        "keyed_token": None,
                        "created": now,
                        "changed": now,
                    }
                    counts.added += 1
                    proofs.append((key, "imported", f"imported as {row.status}, line {row.line}"))
                    continue
                status = _merged(current["status"], row.status)
                if status is None:
                    counts.kept_out += 1
                    counts.diagnostics.append(
                        Diagnostic.warning(
                            path,
                            row.line,
                            f"email: {current['status']} on the list; not subscribed again "
                            "(an opt-out wins over an import)",
                        )
                    )
                    continue
                changed = status != current["status"] or (name and name != current["name"])
                if not changed:
                    counts.unchanged += 1
                    continue
                if status != current["status"]:
                    proofs.append((key, "imported", f"imported as {status}, line {row.line}"))
                current.update(status=status, name=name or current["name"])
                if key in state:
                    current["dirty"] = True
                counts.updated += 1
            if new:
                connection.execute(subscribers.insert(), list(new.values()))
            for current in state.values():
                if current["dirty"]:
                    connection.execute(
                        subscribers.update()
                        .where(subscribers.c.id == current["id"])
                        .values(
                            status=current["status"],
                            name=current["name"],
                            changed=now,
                            **({} if current["status"] == PENDING else {"confirm_hash": None}),
                        )
                    )
            _record(connection, proofs, source, now)
        return counts

    counts = retrying(run)
    report.added += counts.added
    report.updated += counts.updated
    report.unchanged += counts.unchanged
    report.kept_out += counts.kept_out
    report.diagnostics += counts.diagnostics


def _merged(current: str, wanted: str) -> str | None:
    """The status after an import row says *wanted*; None when an opt-out keeps it out."""
    if wanted == SUBSCRIBED:
        return None if current in (UNSUBSCRIBED, BOUNCED) else SUBSCRIBED
    return current if current in (UNSUBSCRIBED, BOUNCED) else wanted


def _record(
    connection: sa.Connection, proofs: Iterable[tuple[str, str, str]], source: str, now: datetime
) -> None:
    proofs = list(proofs)
    if not proofs:
        return
    ids = dict(
        connection.execute(
            sa.select(subscribers.c.email_key, subscribers.c.id).where(
                subscribers.c.email_key.in_({key for key, _, _ in proofs})
            )
        ).all()
    )
    connection.execute(
        consent.insert(),
        [
            {
                "subscriber_id": ids[key],
                "event": event,
                "at": now,
                "source": source,
                "ip": None,
                "detail": detail,
            }
            for key, event, detail in proofs
        ],
    )


@dataclass(frozen=True, slots=True)
class Proof:
    """One event of an address's consent: its request, confirmation, withdrawal..."""

    event: str
    at: datetime
    source: str
    ip: str | None
    detail: str


def proof(engine: sa.Engine, email: str) -> list[Proof] | None:
    """The proof of consent of *email*, oldest first; None when the address is not listed."""

    def run() -> list[Proof] | None:
        with reading(engine) as connection:
            found = connection.execute(
                sa.select(subscribers.c.id).where(subscribers.c.email_key == fold_key(email))
            ).scalar()
            if found is None:
                return None
            rows = connection.execute(
                sa.select(consent)
                .where(consent.c.subscriber_id == found)
                .order_by(consent.c.at, consent.c.id)
            ).all()
        return [Proof(row.event, row.at, row.source, row.ip, row.detail) for row in rows]

    return retrying(run)
