"""Alembic's entry point for the list's migrations.

The service runs them itself (:func:`syndicate.subscribers.database.upgrade`) on a
connection it opened, inside its transaction; a maintainer writing a new migration runs
``alembic -c src/syndicate/subscribers/migrations/alembic.ini revision -m "..."``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: the URL is the environment's
    import os

    from syndicate.delivery.recipients import ENV_DATABASE

    engine = sa.create_engine(os.environ[ENV_DATABASE])
    with engine.begin() as connection:
        context.configure(connection=connection, render_as_batch=True)
        context.run_migrations()
else:
    # render_as_batch: SQLite alters a table by copying it, which batch mode does.
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
