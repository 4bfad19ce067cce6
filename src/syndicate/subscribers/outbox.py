"""The service's emails, queued in the database in the transaction that decides them.

A row goes ``queued`` → ``claimed`` (one worker holds it, for a while: its lease) →
``sending`` (written down just before the message is handed to the mail server) →
``sent``.  Several workers, in several processes, claim rows without ever taking the same
one: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite, whose writers take turns, the
claim is one ``BEGIN IMMEDIATE`` transaction.

What a dead worker held is taken back: a claimed row, never handed to the server, goes
back to the queue; a row it was *sending* may have reached the server, so it becomes
``uncertain`` and is never sent again (nobody gets the same email twice; the reader who
misses it can sign up again).  A worker knows the others on its own machine are dead when
their process is gone, and the others' rows when their lease has run out.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .database import retrying
from .schema import (
    CANCELLED,
    CLAIMED,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    UNCERTAIN,
    outbox,
    subscribers,
)

#: How long a claim holds rows that are not being sent yet.
CLAIM_LEASE = timedelta(seconds=60)
#: Tries of one message before it counts as failed.
MAX_ATTEMPTS = 8
#: The pause after a failed try, doubled after each (at most :data:`MAX_PAUSE`).
FIRST_PAUSE = timedelta(seconds=30)
MAX_PAUSE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Job:
    """One email to send, with what its message needs."""

    id: int
    #: "confirm" or "goodbye".
    kind: str
    subscriber_id: int
    email: str
    name: str
    #: The confirmation token the message carries ("" for a goodbye).
    secret: str
    confirm_expires: datetime | None
    attempts: int


def worker_name() -> str:
    """This process, as the outbox names a worker: ``host:pid:nonce`` (the nonce tells a
    restarted process from the one before it that had the same pid, as in a container)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


_ENQUEUE = outbox.insert().returning(outbox.c.id)
_CANCEL = (
    outbox.update()
    .where(
        outbox.c.subscriber_id == sa.bindparam("for_subscriber"),
        outbox.c.kind == sa.bindparam("of_kind"),
        outbox.c.state == QUEUED,
    )
    .values(state=CANCELLED, secret=None)
)


def enqueue(
    connection: sa.Connection, kind: str, subscriber_id: int, now: datetime, *, secret: str = ""
) -> int:
    """Queue an email of *kind* for *subscriber_id*, inside the caller's transaction."""
    values = {
        "kind": kind,
        "subscriber_id": subscriber_id,
        "secret": secret or None,
        "state": QUEUED,
        "attempts": 0,
        "not_before": now,
        "worker": None,
        "lease_until": None,
        "created": now,
        "done": None,
        "error": None,
    }
    return int(connection.execute(_ENQUEUE, values).scalar_one())


def cancel(connection: sa.Connection, subscriber_id: int, kind: str) -> None:
    """Drop *kind* emails for *subscriber_id* that no worker has started on."""
    connection.execute(_CANCEL, {"for_subscriber": subscriber_id, "of_kind": kind})


def forget(connection: sa.Connection, subscriber_id: int) -> None:
    connection.execute(sa.delete(outbox).where(outbox.c.subscriber_id == subscriber_id))


def claim(engine: sa.Engine, worker: str, now: datetime, *, limit: int = 20) -> list[Job]:
    """Up to *limit* due rows, oldest first, now held by *worker* for :data:`CLAIM_LEASE`."""

    def run() -> list[Job]:
        with engine.begin() as connection:
            due = (
                sa.select(outbox.c.id)
                .where(outbox.c.state == QUEUED, outbox.c.not_before <= now)
                .order_by(outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = (
                connection.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(due.scalar_subquery()))
                    .values(state=CLAIMED, worker=worker, lease_until=now + CLAIM_LEASE)
                    .returning(outbox.c.id)
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            rows = connection.execute(
                sa.select(
                    outbox.c.id,
                    outbox.c.kind,
                    outbox.c.subscriber_id,
                    outbox.c.secret,
                    outbox.c.attempts,
                    subscribers.c.email,
                    subscribers.c.name,
                    subscribers.c.confirm_expires,
                )
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.id)
            ).all()
            return [
                Job(
                    id=row.id,
                    kind=row.kind,
                    subscriber_id=row.subscriber_id,
                    email=row.email,
                    name=row.name,
                    secret=row.secret or "",
                    confirm_expires=row.confirm_expires,
                    attempts=row.attempts,
                )
                for row in rows
            ]

    return retrying(run)


def start_sending(
    engine: sa.Engine, job: Job, worker: str, now: datetime, lease: timedelta
) -> bool:
    """Write down that *job* goes to the server now; False when *worker* no longer holds it
    (its claim ran out and another worker took it back), and it must not be sent."""

    def run() -> bool:
        with engine.begin() as connection:
            result = connection.execute(
                outbox.update()
                .where(outbox.c.id == job.id, outbox.c.state == CLAIMED, outbox.c.worker == worker)
                .values(state=SENDING, attempts=outbox.c.attempts + 1, lease_until=now + lease)
            )
            return result.rowcount == 1

    return retrying(run)


def _finish(engine: sa.Engine, job: Job, **values: Any) -> None:
    def run() -> None:
        with engine.begin() as connection:
            connection.execute(outbox.update().where(outbox.c.id == job.id).values(**values))

    retrying(run)


def sent(engine: sa.Engine, job: Job, now: datetime) -> None:
    """The server accepted *job*'s message (whatever a worker thought meanwhile)."""
    _finish(engine, job, state=SENT, done=now, secret=None, error=None, lease_until=None)


def failed(engine: sa.Engine, job: Job, now: datetime, error: str) -> None:
    """Refused for good: never tried again."""
    _finish(engine, job, state=FAILED, done=now, secret=None, error=error[:500], lease_until=None)


def uncertain(engine: sa.Engine, job: Job, now: datetime, error: str) -> None:
    """Handed to the server, which never answered: it may have kept it, so never again."""
    _finish(
        engine, job, state=UNCERTAIN, done=now, secret=None, error=error[:500], lease_until=None
    )


def later(engine: sa.Engine, job: Job, now: datetime, error: str) -> bool:
    """A temporary failure: back to the queue after a pause, or failed once out of tries.
    True when it will be tried again."""
    tries = job.attempts + 1
    if tries >= MAX_ATTEMPTS:
        failed(engine, job, now, f"{error} (after {tries} tries)")
        return False
    pause = min(FIRST_PAUSE * 2 ** (tries - 1), MAX_PAUSE)
    _finish(
        engine,
        job,
        state=QUEUED,
        worker=None,
        lease_until=None,
        not_before=now + pause,
        error=error[:500],
    )
    return True


def release(engine: sa.Engine, job: Job) -> None:
    """Give back a claimed row this worker will not send (it is stopping)."""
    _finish(engine, job, state=QUEUED, worker=None, lease_until=None)


def recover(engine: sa.Engine, worker: str, now: datetime) -> tuple[int, int]:
    """Take back what dead workers held: (rows queued again, rows now uncertain)."""

    def run() -> tuple[int, int]:
        with engine.begin() as connection:
            held = (
                connection.execute(
                    sa.select(outbox.c.worker)
                    .where(outbox.c.state.in_((CLAIMED, SENDING)))
                    .distinct()
                )
                .scalars()
                .all()
            )
            dead = [name for name in held if name is not None and _dead(name, worker)]
            gone = sa.or_(outbox.c.lease_until < now, outbox.c.worker.in_(dead))
            again = connection.execute(
                outbox.update()
                .where(outbox.c.state == CLAIMED, gone)
                .values(state=QUEUED, worker=None, lease_until=None)
            ).rowcount
            lost = connection.execute(
                outbox.update()
                .where(outbox.c.state == SENDING, gone)
                .values(
                    state=UNCERTAIN,
                    done=now,
                    secret=None,
                    lease_until=None,
                    error="the worker stopped while the server had the message; not sent again",
                )
            ).rowcount
            return again, lost

    return retrying(run)


def _dead(name: str, me: str) -> bool:
    """Whether worker *name* is known to be gone: on this machine, its process is not
    running, or it is this process's pid with another nonce (a restart in a container)."""
    host, _, rest = name.partition(":")
    pid_text, _, nonce = rest.partition(":")
    my_host, _, my_rest = me.partition(":")
    my_pid, _, my_nonce = my_rest.partition(":")
    if host != my_host or not pid_text.isdigit():
        return False
    if pid_text == my_pid:
        return nonce != my_nonce
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, as another user
        return False
    return False
