"""Where the list lives, and how to reach it: one SQLite file by default, PostgreSQL by URL.

The URL comes from ``SYNDICATE_DATABASE_URL`` and nowhere else (never from
``syndicate.toml``, which is committed).  Without it, the list is the SQLite file
``.syndicate/subscribers.db`` in the publication, git-ignored, in a dot-folder that no
build copies into ``feeds/``.

Every engine hides SQL parameters from its errors (they hold addresses), and every
connection is set up once: SQLite in WAL mode with foreign keys on, its log synced at each
commit of a :func:`durable` transaction, and each write transaction started with ``BEGIN
IMMEDIATE`` so that two writers queue for the lock instead of failing half-way;
PostgreSQL through psycopg 3, each connection checked before use (the server may have
restarted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc

from ..delivery.recipients import ENV_DATABASE
from ..errors import ConfigError, SyndicateError

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger("syndicate.subscribers")

#: The list's own file, in the publication's dot-folder.
DEFAULT_PATH = ".syndicate/subscribers.db"
#: The newest migration; :func:`upgrade` runs Alembic only when the database is older.
HEAD = "0002"
#: Any number, the same in every process: the PostgreSQL lock that one process migrating
#: the database holds, so that several starting at once do not migrate it together.
_MIGRATION_LOCK = 0x53594E44
#: How long a transaction is retried while the database cannot be reached (a restart).
RETRY_SECONDS = 20.0

T = TypeVar("T")


class StoreUnavailable(SyndicateError):
    """The database could not be reached for longer than the retries last."""


def database_url(root: Path, environ: Mapping[str, str]) -> sa.URL:
    """The list's database: ``SYNDICATE_DATABASE_URL``, else the publication's SQLite file.

    A relative SQLite path resolves against the publication, never the current folder.
    Raises :class:`ConfigError` for a URL of any other kind (its password never shown).
    """
    value = environ.get(ENV_DATABASE, "").strip()
    if not value:
        return sa.make_url(f"sqlite:///{root / DEFAULT_PATH}")
    try:
        url = sa.make_url(value)
    except exc.ArgumentError:
        raise ConfigError(
            f"{ENV_DATABASE}: not a database URL (expected sqlite:///path or postgresql://...)"
        ) from None
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        return url.set(database=str(path if path.is_absolute() else root / path))
    shown = url.render_as_string(hide_password=True)
    raise ConfigError(
        f"{ENV_DATABASE}: {shown!r} is not supported: use sqlite:///path/to/file.db "
        "or postgresql://user@host/database"
    )


def shown(url: sa.URL) -> str:
    """*url* for a message: never its password."""
    return url.render_as_string(hide_password=True)


def connect(config: Config, environ: Mapping[str, str], *, migrate: bool = True) -> sa.Engine:
    """An engine for the publication's list, its schema brought up to date (unless
    *migrate* is false).  Raises :class:`ConfigError` when the database cannot be used."""
    url = database_url(config.root, environ)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_path(config, Path(str(url.database)))
        engine = _sqlite(url)
    else:
        engine = _postgresql(url)
    if migrate:
        try:
            upgrade(engine)
        except exc.SQLAlchemyError as error:
            engine.dispose()
            raise ConfigError(
                f"{ENV_DATABASE}: cannot open {shown(url)}: {describe(error)}"
            ) from None
    return engine


def _check_sqlite_path(config: Config, path: Path) -> None:
    """Refuse a database file that a build would publish, and keep the default one out
    of git."""
    resolved = path.resolve()
    for folder in (config.output_dir, config.site.static, config.content.dir):
        if resolved.is_relative_to(folder.resolve()):
            raise ConfigError(
                f"{ENV_DATABASE}: the database file must not be inside {folder.name}/, "
                "which is published or built from"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if resolved == (config.root / DEFAULT_PATH).resolve() and not ignore.exists():
        # state.json beside it is committed; the list never is.
        ignore.write_text(f"# The subscriber list: personal data, never committed.\n{path.name}*\n")


def _sqlite(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(
        url,
        hide_parameters=True,
        # The busy timeout below is SQLite's own wait for the write lock.
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _setup(dbapi_connection: Any, record: Any) -> None:
        # The driver's own transaction handling off: ours (below) says BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        options = connection.get_execution_options()
        if options.get("read_only"):
            connection.exec_driver_sql("BEGIN")
            return
        # In WAL mode, NORMAL loses nothing when the process dies (the log is in the
        # system's hands at commit) and syncs it at checkpoints; FULL also syncs it at each
        # commit, so that the change survives a power cut too.  That costs a disk flush per
        # commit: spent on confirmations and opt-outs, not on sign-ups (a sign-up lost to a
        # power cut is a reader who signs up again).
        level = "FULL" if options.get("durable") else "NORMAL"
        info = connection.connection.info  # the SQLite connection's own, across checkouts
        if info.get("synchronous") != level:
            connection.exec_driver_sql(f"PRAGMA synchronous={level}")
            info["synchronous"] = level
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql(url: sa.URL) -> sa.Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{ENV_DATABASE}: PostgreSQL needs psycopg 3: pip install 'psycopg[binary]'"
        ) from None
    return sa.create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=8,
        max_overflow=8,
        connect_args={"connect_timeout": 10, "application_name": "syndicate"},
    )


def durable(engine: sa.Engine) -> sa.Engine:
    """*engine* for transactions that must survive a power cut as well as a crash
    (PostgreSQL's are, at every commit; SQLite's then sync the log at each)."""
    return engine.execution_options(durable=True)


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that only reads (on SQLite, one that does not wait for
    the write lock)."""
    with engine.connect().execution_options(read_only=True) as connection, connection.begin():
        yield connection


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to :data:`HEAD` with Alembic, in one transaction, one process at a
    time; nothing to do (and Alembic not even loaded) when it is there already."""
    with engine.connect() as connection:
        if _version(connection) == HEAD:
            return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    settings = AlembicConfig()
    settings.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
        settings.attributes["connection"] = connection
        command.upgrade(settings, "head")


def _version(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def describe(error: BaseException) -> str:
    """What went wrong with the database, in words that hold no address: the driver's
    class and SQLSTATE, never its message (a unique violation quotes the value)."""
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlstate", None)
    name = type(original).__name__
    if isinstance(original, OSError) or "OperationalError" in name:
        text = str(original).split("\n", 1)[0]
        if "@" not in text:
            return f"{name}: {text}" if text else name
    return f"{name} (SQLSTATE {code})" if code else name


def transient(error: BaseException) -> bool:
    """Whether *error* says the database is away for now (restarting, locked), so that the
    same transaction may be tried again."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, exc.OperationalError | exc.InterfaceError)


def retrying(
    action: Callable[[], T],
    *,
    seconds: float = RETRY_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``action()``, tried again while the database is away, for *seconds* at most.

    Every transaction of the store is whole or not at all, and each one is safe to run
    again (a sign-up sent twice is held back by the limit per address), so a commit whose
    answer was lost is no harm.  Raises :class:`StoreUnavailable` when time is up.
    """
    deadline = clock() + seconds
    pause = 0.05
    while True:
        try:
            return action()
        except exc.DBAPIError as error:
            if not transient(error):
                raise
            if clock() + pause > deadline:
                raise StoreUnavailable(describe(error)) from None
            log.warning("database unavailable (%s); trying again", describe(error))
        sleep(pause)
        pause = min(pause * 2, 1.0)
