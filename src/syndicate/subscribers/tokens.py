"""Each reader's unsubscribe token, kept in the list so that a link finds its reader.

The token is the one every email carries, ``token(SYNDICATE_SECRET, address)`` (an HMAC:
:func:`syndicate.delivery.subscribers.token`), whichever part of syndicate sent the email.
It cannot be worked back to its reader, so the list keeps it per reader
(``subscribers.keyed_token``, indexed), and ``settings`` keeps which key made them.  Only
the service holds the secret: it gives every reader their token when it starts
(:func:`key_tokens`), all of them again under a new secret, and on a link it does not
know, to the readers added since (an import, a command).
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa

from ..delivery.subscribers import token as keyed_token
from .database import durable, reading, retrying
from .schema import settings, subscribers

#: The name in ``settings`` of the fingerprint of the key that made the tokens.
_TOKEN_KEY = "token_key"


def key_fingerprint(secret: bytes) -> str:
    """Which key made the tokens, without the key: an HMAC of a fixed text under it."""
    return hmac.new(secret, b"syndicate list token key\0", hashlib.sha256).hexdigest()[:32]


def key_tokens(
    engine: sa.Engine, secret: bytes, *, missing_only: bool = False, batch: int = 1000
) -> int:
    """Give every reader their unsubscribe token under *secret*; how many were given one.

    Made again for everyone when the tokens were made with another key (the service
    started with a new ``SYNDICATE_SECRET``: the links sent under the old one stop working
    then, as they would anywhere); with *missing_only*, only the readers without one (the
    rows an import or a command added since) are looked at.  In pages of *batch*, each its
    own transaction.
    """
    if not missing_only:
        fingerprint = key_fingerprint(secret)

        def check() -> None:
            with durable(engine).begin() as connection:
                stored = connection.execute(
                    sa.select(settings.c.value).where(settings.c.name == _TOKEN_KEY)
                ).scalar()
                if stored == fingerprint:
                    return
                connection.execute(subscribers.update().values(keyed_token=None))
                if stored is None:
                    connection.execute(settings.insert().values(name=_TOKEN_KEY, value=fingerprint))
                else:
                    connection.execute(
                        settings.update()
                        .where(settings.c.name == _TOKEN_KEY)
                        .values(value=fingerprint)
                    )

        retrying(check)
    missing = (
        sa.select(subscribers.c.id, subscribers.c.email)
        .where(subscribers.c.keyed_token.is_(None))
        .order_by(subscribers.c.id)
        .limit(batch)
    )
    keyed = (
        subscribers.update()
        .where(subscribers.c.id == sa.bindparam("row_id"), subscribers.c.keyed_token.is_(None))
        .values(keyed_token=sa.bindparam("value"))
    )
    done = 0
    while True:

        def page() -> int:
            with reading(engine) as connection:
                rows = connection.execute(missing).all()
            if not rows:
                return 0
            with engine.begin() as connection:
                connection.execute(
                    keyed,
                    [{"row_id": row.id, "value": keyed_token(secret, row.email)} for row in rows],
                )
            return len(rows)

        count = retrying(page)
        done += count
        if count < batch:
            return done
