"""Unsubscribe links carry the newsletter's keyed token: the random per-reader token goes.

A reader's link ``/unsubscribe/<token>`` now carries what every email of the newsletter
already carries, ``token(SYNDICATE_SECRET, address)`` (an HMAC: see
:func:`syndicate.delivery.subscribers.token`), so that one link works whichever part of
syndicate sent the email.  The database keeps that token per reader (``keyed_token``,
indexed) to find them by it, and ``settings`` remembers which key made the tokens, so that
a service started with another ``SYNDICATE_SECRET`` makes them again.  The tokens are
filled in by the service (:func:`syndicate.subscribers.store.key_tokens`), which holds the
secret; a migration never does.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_constraint("subscribers_token", type_="unique")
        batch.drop_column("token")
        batch.add_column(sa.Column("keyed_token", sa.String(32), nullable=True))
        batch.create_index("subscribers_keyed_token", ["keyed_token"], unique=True)
    op.create_table(
        "settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_index("subscribers_keyed_token")
        batch.drop_column("keyed_token")
        batch.add_column(sa.Column("token", sa.String(64), nullable=True))
    connection = op.get_bind()
    table = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("token", sa.String))
    ids = connection.execute(sa.select(table.c.id)).scalars().all()
    for row_id in ids:
        connection.execute(
            table.update().where(table.c.id == row_id).values(token=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("subscribers") as batch:
        batch.alter_column("token", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("subscribers_token", ["token"])
