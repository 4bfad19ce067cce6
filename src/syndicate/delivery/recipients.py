"""Who an email goes to: a CSV file, the list service's database, or the service over HTTPS.

Where ``publish`` reads the list (:func:`open_list`), first match wins:

1. An environment variable names it: ``SYNDICATE_LIST_URL`` (the list service over HTTPS,
   with the bearer token ``SYNDICATE_LIST_TOKEN``: a CI job that cannot reach the
   database), ``SYNDICATE_DATABASE_URL`` (the service's database itself) or
   ``SYNDICATE_SUBSCRIBERS`` (a CSV file).  Two of them set at once is an error, never a
   guess.
2. Otherwise ``syndicate.toml``: ``[email] subscribers`` (a CSV file), or ``[subscribers]``
   (the list service's default SQLite file, ``.syndicate/subscribers.db``, which must then
   exist).  Both at once is an error too.
3. Neither: there is no list yet, nothing is sent, and the email stays due.

Each source hands out its readers one at a time (:meth:`Recipients.roll`): the CSV, small
by nature, from memory; the database a page at a time; the service as a stream of JSON
lines.  Only confirmed, still-subscribed readers come out of the database or the service:
a pending address never does.

A reader is named in diagnostics without their address: the CSV's by the line of their
row, the list service's by their id (``subscriber:42``).  A reader the mail server refused
for good (5xx) is marked ``bounced`` in the service's list (:meth:`Recipients.bounced`):
in the database directly, or through ``POST /api/bounced``; the CSV, which is yours to
edit, is left as it is.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ..config import Config
from ..errors import ConfigError, DeliveryError, Diagnostic
from .subscribers import (
    ENV_SUBSCRIBERS,
    Subscriber,
    Subscribers,
    load_subscribers,
    on_reserved_domains,
    subscribers_path,
    tracked_by_git,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

ENV_DATABASE = "SYNDICATE_DATABASE_URL"
ENV_LIST_URL = "SYNDICATE_LIST_URL"
ENV_LIST_TOKEN = "SYNDICATE_LIST_TOKEN"
#: How a reader of the list service is named in diagnostics: ``subscriber:<id>``.
READER = Path("subscriber")
#: Seconds the list service may take to answer, at each step.
TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Roll:
    """One pass over the list."""

    #: How many readers the list had as the pass started (for progress, and the room the
    #: journal takes): readers who join or leave meanwhile make it differ a little.
    count: int
    readers: Iterator[Subscriber]


class Recipients(Protocol):
    """The readers of the list, wherever it is kept."""

    @property
    def path(self) -> Path:
        """What a reader's problems are reported against, as ``path:line``."""
        ...

    def roll(self) -> AbstractContextManager[Roll]:
        """A pass over the readers to mail, each once, streamed."""
        ...

    def bounced(self, reader: Subscriber, reason: str) -> None:
        """The mail server refused *reader* for good (*reason*: its reply, without the
        address).  Raises :class:`DeliveryError` when that cannot be written down."""
        ...


class Source:
    """A list as :func:`open_list` found it."""

    path: Path = READER
    #: Where the list is, for the output: "the CSV file subscribers.csv"...
    describe: str = ""
    #: Rows that are not mailed (the CSV's unsubscribed, bounced, invalid and duplicate).
    skipped: int = 0
    diagnostics: tuple[Diagnostic, ...] = ()

    def roll(self) -> AbstractContextManager[Roll]:
        raise NotImplementedError

    def bounced(self, reader: Subscriber, reason: str) -> None:
        return None

    def close(self) -> None:
        return None


def open_list(config: Config, environ: Mapping[str, str], *, now: datetime) -> Source | None:
    """The subscriber list of *config*, from where the environment or the config says
    (see the module's text); None when there is none.  Raises :class:`ConfigError` when
    two places name it, or the one named cannot be used."""
    email = config.email
    assert email is not None
    named = [name for name in (ENV_LIST_URL, ENV_DATABASE, ENV_SUBSCRIBERS) if environ.get(name)]
    named = [name for name in named if environ[name].strip()]
    if len(named) > 1:
        raise ConfigError(
            f"{' and '.join(named)} are both set, and each names where the subscriber list "
            "is: set only one (see the README, Subscribers)"
        )
    chosen = named[0] if named else None
    if chosen == ENV_LIST_URL:
        return ServiceList.from_environ(environ)
    if chosen == ENV_DATABASE:
        return DatabaseList.connect(config, environ, now)
    if chosen is None and email.subscribers and config.subscribers is not None:
        raise ConfigError(
            f"{config.path}: [email] subscribers names a CSV list, and [subscribers] has the "
            "list service keep the list: remove one of them, or choose for this run with "
            f"{ENV_SUBSCRIBERS} or {ENV_DATABASE}"
        )
    path = subscribers_path(email.subscribers, config.root, environ)
    if path is not None:
        return CsvList(load_subscribers(path))
    if config.subscribers is not None:
        return DatabaseList.default(config, environ, now)
    return None


class CsvList(Source):
    """A CSV file of ``email,name,status`` rows, read whole: lists kept this way are small
    (a CI secret holds 48 KB)."""

    def __init__(self, subscribers: Subscribers) -> None:
        self.subscribers = subscribers
        self.path = subscribers.path
        self.describe = f"the CSV file {subscribers.path.name}"
        self.skipped = (
            subscribers.unsubscribed
            + subscribers.bounced
            + subscribers.invalid
            + subscribers.duplicates
        )
        diagnostics = list(subscribers.diagnostics)
        if tracked_by_git(subscribers.path) and not on_reserved_domains(subscribers):
            diagnostics.append(
                Diagnostic.warning(
                    subscribers.path,
                    0,
                    "the subscriber list is tracked by git: anyone who can read the repository "
                    "can read these addresses. Remove it (git rm --cached) and keep it in a "
                    "secret.",
                )
            )
        self.diagnostics = tuple(diagnostics)

    @contextmanager
    def roll(self) -> Iterator[Roll]:
        active = self.subscribers.active
        yield Roll(len(active), iter(active))


class DatabaseList(Source):
    """The list service's database (SQLite or PostgreSQL), read a page at a time."""

    def __init__(self, engine: sa.Engine, describe: str, config: Config, now: datetime) -> None:
        self.engine = engine
        self.describe = describe
        self.config = config
        self.now = now

    @classmethod
    def connect(cls, config: Config, environ: Mapping[str, str], now: datetime) -> DatabaseList:
        from ..subscribers.database import connect, database_url, shown

        engine = connect(config, environ)
        return cls(engine, f"the database {shown(database_url(config.root, environ))}", config, now)

    @classmethod
    def default(cls, config: Config, environ: Mapping[str, str], now: datetime) -> DatabaseList:
        """The service's own SQLite file in the publication, which must exist: a publish
        that finds none is one that does not run where the service does."""
        from ..subscribers.database import DEFAULT_PATH

        if not (config.root / DEFAULT_PATH).is_file():
            raise ConfigError(
                f"{config.path}: [subscribers] keeps the list in {DEFAULT_PATH}, which is not "
                f"here: point {ENV_DATABASE} at the list's database, or {ENV_LIST_URL} (with "
                f"{ENV_LIST_TOKEN}) at the list service; nothing was sent"
            )
        return cls.connect(config, environ, now)

    @contextmanager
    def roll(self) -> Iterator[Roll]:
        from ..subscribers.listing import count_recipients, recipients

        def readers() -> Iterator[Subscriber]:
            with self._words():
                for reader in recipients(self.engine):
                    yield Subscriber(reader.email, reader.name, reader.id)

        with self._words():
            count = count_recipients(self.engine)
        yield Roll(count, readers())

    def bounced(self, reader: Subscriber, reason: str) -> None:
        from ..subscribers.store import Rules, list_name, mark_bounced

        rules = Rules(list_name=list_name(self.config))
        with self._words():
            mark_bounced(self.engine, reader.line, reason=reason, rules=rules, now=self.now)

    @contextmanager
    def _words(self) -> Iterator[None]:
        """A database error as a :class:`DeliveryError` that holds no address."""
        import sqlalchemy as sa

        from ..subscribers.database import StoreUnavailable, describe

        try:
            yield
        except StoreUnavailable as error:
            raise DeliveryError(f"the list's database is out of reach ({error})") from None
        except sa.exc.SQLAlchemyError as error:
            raise DeliveryError(f"the list's database failed: {describe(error)}") from None

    def close(self) -> None:
        self.engine.dispose()


class ServiceList(Source):
    """The list service's ``/api/recipients``, over HTTPS with a bearer token."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or 443
        self.base = parts.path.rstrip("/") + "/"
        self.token = token
        shown = f"https://{parts.netloc.rpartition('@')[2]}{self.base}"
        self.describe = f"the list service at {shown}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServiceList:
        url = environ[ENV_LIST_URL].strip()
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(
                f"{ENV_LIST_URL}: must be the list service's https URL, such as "
                "https://lists.example.org/ (the list travels over it)"
            )
        token = environ.get(ENV_LIST_TOKEN, "").strip()
        if not token:
            raise ConfigError(
                f"{ENV_LIST_URL} is set but {ENV_LIST_TOKEN} is not: the service gives the list "
                "only to a bearer of its list token"
            )
        return cls(url, token)

    def _request(self, method: str, path: str, body: bytes | None = None) -> Any:
        """A connection of its own and the response to *method* *path*; raises
        :class:`DeliveryError` for anything but a 200."""
        # Made here, not once: the CAs trusted (SSL_CERT_FILE) are read when it is made.
        context = ssl.create_default_context()
        connection = http.client.HTTPSConnection(
            self.host, self.port, timeout=TIMEOUT, context=context
        )
        headers = {"authorization": f"Bearer {self.token}", "user-agent": "syndicate"}
        if body is not None:
            headers["content-type"] = "application/json"
        try:
            connection.request(method, self.base + path, body=body, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise DeliveryError(f"cannot reach {self.describe}: {_words(error)}") from None
        if response.status != 200:
            connection.close()
            raise DeliveryError(f"{self.describe}: {_refusal(response.status)}")
        return connection, response

    @contextmanager
    def roll(self) -> Iterator[Roll]:
        connection, response = self._request("GET", "api/recipients")
        try:
            count = response.headers.get("x-recipients", "")
            yield Roll(int(count) if count.isdigit() else 0, self._readers(response))
        finally:
            connection.close()

    def _readers(self, response: Any) -> Iterator[Subscriber]:
        seen = 0
        while True:
            try:
                line = response.readline()
            except (OSError, http.client.HTTPException) as error:
                raise DeliveryError(
                    f"{self.describe}: the list stopped half-way ({_words(error)})"
                ) from None
            if not line:
                raise DeliveryError(
                    f"{self.describe}: the list ended before its last line, after {seen} readers"
                )
            reader = _reader(line)
            if reader is None:
                raise DeliveryError(f"{self.describe}: line {seen + 1} of the list is not a reader")
            if isinstance(reader, int):
                if reader != seen:
                    raise DeliveryError(
                        f"{self.describe}: the list says it sent {reader} readers, but {seen} came"
                    )
                return
            seen += 1
            yield reader

    def bounced(self, reader: Subscriber, reason: str) -> None:
        body = json.dumps({"id": reader.line, "reason": reason}).encode("utf-8")
        connection, response = self._request("POST", "api/bounced", body)
        try:
            response.read()
        finally:
            connection.close()


def _reader(line: bytes) -> Subscriber | int | None:
    """The reader on one line of ``/api/recipients``, or the count its last line gives;
    None for a line that is neither."""
    try:
        found = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(found, dict):
        return None
    if found.get("end") is True:
        count = found.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) else None
    email, name, row = found.get("email"), found.get("name", ""), found.get("id")
    if not isinstance(email, str) or not isinstance(name, str):
        return None
    if not isinstance(row, int) or isinstance(row, bool):
        return None
    return Subscriber(email, " ".join(name.split()), row)


def _refusal(status: int) -> str:
    if status == 401:
        return f"{ENV_LIST_TOKEN} was refused (401): it must be the service's own list token"
    if status == 404:
        return (
            "no list here (404): the service opens /api/recipients only when it has a "
            f"{ENV_LIST_TOKEN} of its own"
        )
    return f"the service answered {status}"


def _words(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted ({error.verify_message})"
    text = str(error).split("\n", 1)[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
