"""The list's tables, as SQLAlchemy Core sees them (the migrations create them).

Four tables: ``subscribers`` (one row an address, with its status), ``consent`` (the proof
of consent: every request, confirmation and withdrawal, with when and from where),
``outbox`` (the service's own emails, queued in the same transaction that decides them)
and ``settings`` (what the service keeps about the list itself: which key made the
unsubscribe tokens).

Times are stored as UTC without a zone, the same on SQLite and PostgreSQL; :class:`Utc`
takes aware datetimes in and gives them back aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()

#: A subscriber's status.  Only ``subscribed`` receives the newsletter.
PENDING = "pending"
SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
STATUSES = (PENDING, SUBSCRIBED, UNSUBSCRIBED, BOUNCED)


class Utc(sa.types.TypeDecorator[datetime]):
    """An aware datetime, stored as naive UTC."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a time without a zone reached the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    #: The address as email-validator normalises it.
    sa.Column("email", sa.String(320), nullable=False),
    #: The address folded (``fold_key``): two addresses with one key are one person.
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    #: The reader's unsubscribe token, ``token(SYNDICATE_SECRET, email)``: what every
    #: email's link ``/unsubscribe/<token>`` carries.  Filled in by the service, which
    #: holds the secret (:func:`~.store.key_tokens`); None until then.
    sa.Column("keyed_token", sa.String(32), nullable=True),
    #: SHA-256 of the newest confirmation token, while it may be used.
    sa.Column("confirm_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("confirm_expires", Utc, nullable=True),
    #: When the last confirmation email was queued (the limit per address).
    sa.Column("confirm_sent", Utc, nullable=True),
    sa.Column("created", Utc, nullable=False),
    #: When the status last changed.
    sa.Column("changed", Utc, nullable=False),
    sa.Column("confirmed", Utc, nullable=True),
)


def _subscriber() -> sa.Column[int]:
    """The subscriber a row is about; erased with them."""
    return sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


consent = sa.Table(
    "consent",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _subscriber(),
    #: requested, confirmed, unsubscribed, imported, added, removed, bounced.
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("at", Utc, nullable=False),
    #: Where it came from: the page or form, a file imported, a command.
    sa.Column("source", sa.String(500), nullable=False),
    #: The client's address, when ``[subscribers] record_ip`` keeps it.
    sa.Column("ip", sa.String(45), nullable=True),
    #: What was asked or agreed to, in words.
    sa.Column("detail", sa.Text, nullable=False),
)

#: Outbox states: queued → claimed (by one worker) → sending → sent; or failed (refused
#: for good, or out of tries), cancelled, or uncertain (the worker died while the server
#: had the message: never sent again, so that nobody gets it twice).
QUEUED, CLAIMED, SENDING, SENT = "queued", "claimed", "sending", "sent"
FAILED, CANCELLED, UNCERTAIN = "failed", "cancelled", "uncertain"
OUTBOX_STATES = (QUEUED, CLAIMED, SENDING, SENT, FAILED, CANCELLED, UNCERTAIN)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    #: "confirm" or "goodbye".
    sa.Column("kind", sa.String(16), nullable=False),
    _subscriber(),
    #: The confirmation token the message carries; dropped once the message is done.
    sa.Column("secret", sa.String(64), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    #: Not tried again before this time.
    sa.Column("not_before", Utc, nullable=False),
    #: The worker holding the row ("host:pid:nonce"), and until when.
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("lease_until", Utc, nullable=True),
    sa.Column("created", Utc, nullable=False),
    sa.Column("done", Utc, nullable=True),
    #: Why the last try failed, without the address.
    sa.Column("error", sa.String(500), nullable=True),
    sa.Index("outbox_due", "state", "not_before"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

sa.Index("subscribers_status", subscribers.c.status, subscribers.c.id)
sa.Index("subscribers_keyed_token", subscribers.c.keyed_token, unique=True)
