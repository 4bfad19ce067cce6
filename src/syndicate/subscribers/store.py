"""The list's life cycle as plain functions: sign up, confirm, leave, and the operator's own.

Each function is one transaction (tried again while the database is away: see
:func:`~.database.retrying`) and returns what happened as a value; none raises for
anything a reader can cause.  Every change of status writes a row of proof into the
``consent`` table (when, from which page or command, from which address if
``[subscribers] record_ip`` keeps it, and what was agreed to), and every email the
change calls for is queued in the ``outbox`` table in the same transaction, so that a
crash either keeps both or neither.

Addresses are personal data: no function here logs one or puts one in an error.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..delivery.subscribers import fold_key
from . import outbox as queue
from . import tokens
from .database import durable, retrying
from .schema import BOUNCED, PENDING, SUBSCRIBED, UNSUBSCRIBED, consent, subscribers

if TYPE_CHECKING:
    from ..config import Config

#: Longest display name kept; longer ones are cut.
MAX_NAME = 200
#: Longest source (page address or form name) kept in the proof of consent.
MAX_SOURCE = 500


@dataclass(frozen=True, slots=True)
class Rules:
    """What the service promises, from ``[subscribers]`` and ``[site]``."""

    #: The list as a reader agrees to it, such as "Test Times (https://news.example.org/)".
    list_name: str
    confirm_for: timedelta = timedelta(hours=48)
    resend_after: timedelta = timedelta(minutes=15)
    #: Queue a goodbye note when a reader leaves.
    goodbye: bool = False


def list_name(config: Config) -> str:
    """The list as a reader agrees to it: the site's title and address."""
    return f"{config.site.title} ({config.site.url})"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, for the proof of consent."""

    #: The page or form ("https://news.example.org/posts/a/"), or "command line", "import".
    source: str
    #: The client's IP address; None when not kept.
    ip: str | None = None


class Signup(enum.Enum):
    """What a sign-up did; the reader is told the same in every case (no enumeration)."""

    #: A confirmation email is queued.
    QUEUED = "queued"
    #: One was queued for this address a short while ago: no other yet.
    THROTTLED = "throttled"
    #: The address is subscribed already: nothing to do.
    ALREADY = "already"


class Confirmation(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class Leaving(enum.Enum):
    UNSUBSCRIBED = "unsubscribed"
    ALREADY = "already"
    UNKNOWN = "unknown"


class Adding(enum.Enum):
    ADDED = "added"
    ALREADY = "already"
    #: The address left (or bounced): only the reader may come back, by confirming again.
    REFUSED = "refused"


def hashed(token: str) -> str:
    """How a confirmation token is kept: its SHA-256, so that the database alone cannot
    confirm anyone."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_name(name: str) -> str:
    """*name* on one line, without control characters, at most :data:`MAX_NAME` long."""
    printable = "".join(c if c.isprintable() else " " for c in name)
    return " ".join(printable.split())[:MAX_NAME]


def normalise(address: str) -> str | None:
    """*address* as email-validator normalises it (syntax only, never DNS), or None when it
    is not one address that SMTP can carry without SMTPUTF8 (the newsletter uses none)."""
    from email_validator import EmailNotValidError, validate_email

    text = address.strip()
    if not text or len(text) > 320:
        return None
    try:
        valid = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return str(valid.normalized)


# Statements built once: a sign-up runs a handful, and building a statement costs more
# than running it.
_BY = {
    column: sa.select(subscribers)
    .where(subscribers.c[column] == sa.bindparam("value"))
    .with_for_update()
    for column in ("id", "email_key", "keyed_token", "confirm_hash")
}
_SET = subscribers.update().where(subscribers.c.id == sa.bindparam("row_id"))
_PROOF = consent.insert()


@lru_cache(maxsize=4)
def _insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (email_key) DO NOTHING RETURNING id, in *dialect*'s words."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(subscribers)
        .on_conflict_do_nothing(index_elements=["email_key"])
        .returning(subscribers.c.id)
    )


def _row(connection: sa.Connection, column: str, value: object) -> sa.Row[Any] | None:
    """The row whose *column* is *value*, locked until the transaction ends."""
    return connection.execute(_BY[column], {"value": value}).first()


def _set(connection: sa.Connection, row_id: int, **values: object) -> None:
    connection.execute(_SET, {"row_id": row_id, **values})


def _proof(
    connection: sa.Connection,
    subscriber_id: int,
    event: str,
    origin: Origin,
    detail: str,
    now: datetime,
) -> None:
    connection.execute(
        _PROOF,
        {
            "subscriber_id": subscriber_id,
            "event": event,
            "at": now,
            "source": origin.source[:MAX_SOURCE],
            "ip": origin.ip,
            "detail": detail,
        },
    )


def _find_or_add(
    connection: sa.Connection, email: str, name: str, status: str, now: datetime, **more: object
) -> tuple[sa.Row[Any] | None, int]:
    """The row of *email* (None when this call made it) and its id; a new row has *status*
    and the columns in *more*.

    Made with INSERT ... ON CONFLICT DO NOTHING, else read back locked: two requests for
    one new address at once make one row.
    """
    values = {
        "email": email,
        "email_key": fold_key(email),
        "name": name,
        "status": status,
        "keyed_token": None,
        "confirm_hash": None,
        "confirm_expires": None,
        "confirm_sent": None,
        "created": now,
        "changed": now,
        "confirmed": None,
        **more,
    }
    inserted = connection.execute(_insert(connection.dialect.name), values).scalar()
    if inserted is not None:
        return None, int(inserted)
    row = _row(connection, "email_key", values["email_key"])
    assert row is not None
    return row, int(row.id)


def subscribe(
    engine: sa.Engine, email: str, name: str, *, rules: Rules, origin: Origin, now: datetime
) -> tuple[Signup, int | None]:
    """A reader asks to join with *email* (as :func:`normalise` returns it).

    A new address, or one that had left, becomes pending with a new confirmation link,
    emailed through the outbox (the id of that outbox row is returned with QUEUED); the
    reader is on the list only once they confirm.  A subscribed address is left as it is,
    and an address sent a confirmation less than ``rules.resend_after`` ago gets no other.
    """
    name = clean_name(name)

    def run() -> tuple[Signup, int | None]:
        token = secrets.token_urlsafe(24)
        expires = now + rules.confirm_for
        link = {"confirm_hash": hashed(token), "confirm_expires": expires, "confirm_sent": now}
        with engine.begin() as connection:
            row, row_id = _find_or_add(connection, email, name, PENDING, now, **link)
            if row is not None:
                if row.status == SUBSCRIBED:
                    return Signup.ALREADY, None
                if row.confirm_sent is not None and now - row.confirm_sent < rules.resend_after:
                    return Signup.THROTTLED, None
                changed = now if row.status != PENDING else row.changed
                _set(connection, row_id, status=PENDING, name=name, changed=changed, **link)
                # Only the newest link confirms: the older ones' emails need not go out.
                queue.cancel(connection, row_id, "confirm")
            _proof(
                connection,
                row_id,
                "requested",
                origin,
                f"asked to receive {rules.list_name}; confirmation link emailed, "
                f"valid until {expires.isoformat()}",
                now,
            )
            job = queue.enqueue(connection, "confirm", row_id, now, secret=token)
            return Signup.QUEUED, job

    return retrying(run)


def confirm(
    engine: sa.Engine, token: str, *, rules: Rules, origin: Origin, now: datetime
) -> Confirmation:
    """The reader presses the button of the link emailed to them: pending becomes subscribed.

    Pressing it again says ALREADY; a link past its time says EXPIRED (the reader signs
    up again for a new one); a link replaced by a newer one, or never made, says UNKNOWN.
    """

    def run() -> Confirmation:
        with durable(engine).begin() as connection:
            row = _row(connection, "confirm_hash", hashed(token))
            if row is None or row.status not in (PENDING, SUBSCRIBED):
                return Confirmation.UNKNOWN
            if row.status == SUBSCRIBED:
                return Confirmation.ALREADY
            if row.confirm_expires is None or row.confirm_expires <= now:
                return Confirmation.EXPIRED
            _set(connection, row.id, status=SUBSCRIBED, confirmed=now, changed=now)
            sent = row.confirm_sent.isoformat() if row.confirm_sent else "unknown"
            _proof(
                connection,
                row.id,
                "confirmed",
                origin,
                f"confirmed receiving {rules.list_name} with the link emailed at {sent}",
                now,
            )
            return Confirmation.CONFIRMED

    return retrying(run)


def _leave(
    connection: sa.Connection,
    row_id: int,
    status: str,
    *,
    event: str,
    rules: Rules,
    origin: Origin,
    now: datetime,
    goodbye: bool,
) -> Leaving:
    """Unsubscribe row *row_id*, whose status was *status*; a goodbye note when *goodbye*
    (a reader leaving, not the operator removing) and the publication wants one."""
    if status == UNSUBSCRIBED:
        return Leaving.ALREADY
    _set(
        connection,
        row_id,
        status=UNSUBSCRIBED,
        changed=now,
        confirm_hash=None,
        confirm_expires=None,
    )
    _proof(connection, row_id, event, origin, f"stopped receiving {rules.list_name}", now)
    queue.cancel(connection, row_id, "confirm")
    if goodbye and rules.goodbye and status == SUBSCRIBED:
        queue.enqueue(connection, "goodbye", row_id, now)
    return Leaving.UNSUBSCRIBED


def unsubscribe(
    engine: sa.Engine,
    link_token: str,
    *,
    secret: bytes,
    rules: Rules,
    origin: Origin,
    now: datetime,
) -> Leaving:
    """The reader whose unsubscribe token is *link_token* leaves (idempotent: ALREADY after).

    The token is the one every email carries, ``token(SYNDICATE_SECRET, address)``
    (*secret*), so a link from the newsletter and one from the service's own emails are
    the same link.  A reader whose token is not kept yet (added since the service started:
    an import, a command) gets it now, and is found.
    """

    def run() -> Leaving:
        with durable(engine).begin() as connection:
            row = _row(connection, "keyed_token", link_token)
            if row is None:
                return Leaving.UNKNOWN
            return _leave(
                connection,
                row.id,
                row.status,
                event="unsubscribed",
                rules=rules,
                origin=origin,
                now=now,
                goodbye=True,
            )

    outcome = retrying(run)
    if outcome is Leaving.UNKNOWN and tokens.key_tokens(engine, secret, missing_only=True):
        outcome = retrying(run)
    return outcome


def unsubscribe_address(
    engine: sa.Engine,
    email: str,
    *,
    rules: Rules,
    origin: Origin,
    now: datetime,
    by_reader: bool = True,
) -> Leaving:
    """*email* leaves: from a link whose keyed token was checked (*by_reader*), or by the
    operator's ``remove``.  An address not on the list is written down as unsubscribed, so
    that a later import cannot add it back."""
    event = "unsubscribed" if by_reader else "removed"

    def run() -> Leaving:
        with durable(engine).begin() as connection:
            row, row_id = _find_or_add(connection, email, "", UNSUBSCRIBED, now)
            if row is None:
                _proof(
                    connection, row_id, event, origin, f"stopped receiving {rules.list_name}", now
                )
                return Leaving.UNSUBSCRIBED
            return _leave(
                connection,
                row_id,
                row.status,
                event=event,
                rules=rules,
                origin=origin,
                now=now,
                goodbye=by_reader,
            )

    return retrying(run)


def add(
    engine: sa.Engine, email: str, name: str, *, rules: Rules, origin: Origin, now: datetime
) -> Adding:
    """The operator adds *email* as subscribed, vouching for its consent (recorded as such).

    Refused for an address that left or bounced: only the reader can come back, through
    the form and a new confirmation.
    """

    def run() -> Adding:
        with durable(engine).begin() as connection:
            row, row_id = _find_or_add(connection, email, clean_name(name), SUBSCRIBED, now)
            if row is not None and row.status == SUBSCRIBED:
                return Adding.ALREADY
            if row is not None and row.status in (UNSUBSCRIBED, BOUNCED):
                return Adding.REFUSED
            if row is not None:  # pending: the operator's word confirms it
                _set(connection, row_id, status=SUBSCRIBED, changed=now, confirm_hash=None)
                queue.cancel(connection, row_id, "confirm")
            _proof(
                connection,
                row_id,
                "added",
                origin,
                f"added to {rules.list_name} by the operator, who vouches for consent",
                now,
            )
            return Adding.ADDED

    return retrying(run)


def forget(engine: sa.Engine, email: str) -> bool:
    """Erase *email*: its row, its proof of consent and its queued emails.  False when the
    address is not there.  (It may then be added again: ``remove`` keeps an opt-out.)"""

    def run() -> bool:
        with durable(engine).begin() as connection:
            row = _row(connection, "email_key", fold_key(email))
            if row is None:
                return False
            # Spelt out, not left to ON DELETE CASCADE: a SQLite connection made without
            # foreign keys on (by another tool) would leave the proof behind.
            connection.execute(sa.delete(consent).where(consent.c.subscriber_id == row.id))
            queue.forget(connection, row.id)
            connection.execute(sa.delete(subscribers).where(subscribers.c.id == row.id))
            return True

    return retrying(run)


def mark_bounced(
    engine: sa.Engine, subscriber_id: int, *, reason: str, rules: Rules, now: datetime
) -> bool:
    """The mail server refused subscriber *subscriber_id* for good: no more mail to them.

    *reason* is the server's reply without the address (such as "550 5.1.1 no such
    user").  False when the subscriber is not subscribed (or pending) any more.
    """

    def run() -> bool:
        with durable(engine).begin() as connection:
            row = _row(connection, "id", subscriber_id)
            if row is None or row.status not in (SUBSCRIBED, PENDING):
                return False
            _set(connection, row.id, status=BOUNCED, changed=now, confirm_hash=None)
            _proof(
                connection,
                row.id,
                "bounced",
                Origin("delivery"),
                f"refused for good by the mail server ({reason[:200]}); no more {rules.list_name}",
                now,
            )
            return True

    return retrying(run)
