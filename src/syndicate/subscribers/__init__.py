"""The list service: subscribers who join and leave by themselves.

A library first: :mod:`.store` (plain functions over SQLAlchemy Core) keeps the list and
its proof of consent, :mod:`.outbox` queues the service's own emails in the same database
and :mod:`.mailer` sends them through the newsletter's transport.  :mod:`.app` is the
ASGI app (``create_app``) that only parses requests and renders templates, and
:mod:`.commands` the ``syndicate subscribers`` commands.

Nothing here is imported by ``syndicate build``: the service stack (SQLAlchemy, Alembic,
Starlette) loads only when a ``subscribers`` command runs.
"""
