"""The list service's real parts for the tests: PostgreSQL, publications, the service.

* :class:`PostgreSQL`: a throwaway cluster of Debian's PostgreSQL (``scripts/ensure-postgresql``
  installs it), made with ``initdb`` in a temporary folder and started with ``pg_ctl`` on a
  free port of 127.0.0.1, once a session; each test gets a database of its own.  Run as the
  ``postgres`` user when the tests run as root (PostgreSQL refuses root).
* The ``database`` fixture runs a test twice: on a SQLite file, and on that cluster.
* :class:`Service`: ``syndicate subscribers serve`` in a process of its own, under uvicorn
  on 127.0.0.1, reached with the Host of its public URL as a proxy would send it.  When it
  stops, its log is checked: no address and no secret may appear in it.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import trustme

from conftest import SITE
from leaks import SECRET, SECRETS, addresses

LIST_HOST = "lists.example.org"
SERVICE_URL = f"https://{LIST_HOST}/"
SITE_ORIGIN = "https://news.example.org"


def list_config(*, smtp_port: int | None = None, subscribers: str = "", email: str = "") -> str:
    """syndicate.toml for a publication with a list service at :data:`SERVICE_URL`."""
    # rate = 0: the service keeps to [email] rate as publish does; tests send at once.
    config = SITE + '\n[email]\nfrom = "Test Times <news@example.org>"\nrate = 0\n' + email
    if smtp_port is not None:
        config += f'\n[email.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        config += "timeout = 5\n"
    return config + f'\n[subscribers]\nurl = "{SERVICE_URL}"\n' + subscribers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _binary(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        pytest.fail(
            f"PostgreSQL's {name} is not installed: run scripts/ensure-postgresql (make test "
            "does), or apt-get install postgresql",
            pytrace=False,
        )
    return on_path


def _version(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


class PostgreSQL:
    """One PostgreSQL server on 127.0.0.1, its files in a temporary folder."""

    def __init__(self, *, durable: bool = False) -> None:
        #: False: no fsync, for tests (the server's own crash safety is not what they test).
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="syndicate-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._databases = 0
        if self._as:
            shutil.chown(self.folder, "postgres")

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}")

    def start(self) -> PostgreSQL:
        if not self.data.exists():
            self._run(
                _binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            f"-c max_connections=200 -c fsync={'on' if self.durable else 'off'}"
        )
        self._run(
            _binary("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop the server (ending every connection) and start it again."""
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"list{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    server = PostgreSQL()
    try:
        yield server.start()
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SYNDICATE_DATABASE_URL of an empty list: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'list.db'}"
    server: PostgreSQL = request.getfixturevalue("postgresql")
    return server.create_database()


class Service:
    """``syndicate subscribers serve`` for the publication at *root*, in its own process."""

    def __init__(self, root: Path, environ: Mapping[str, str], *, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        # The maintainer's own SYNDICATE_ settings never reach the service under test.
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        self.environ = {**clean, "SYNDICATE_SECRET": SECRET, **environ}
        self.log_path = root.parent / f"service-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Service:
        command = [sys.executable, "-m", "syndicate", "-C", str(self.root), "subscribers"]
        command += ["serve", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.environ, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the service stopped at start:\n{self.log()}")
                try:
                    if client.get("/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"the service did not answer within {timeout} s:\n{self.log()}")

    def client(self, **options: Any) -> httpx.Client:
        """A client that talks to the service as its proxy would: with its public Host."""
        headers = {"host": LIST_HOST, **options.pop("headers", {})}
        options.setdefault("timeout", 30)
        return httpx.Client(base_url=self.base, headers=headers, **options)

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)  # reaped, so that its pid is free: the next one sees it gone

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.check_log()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_log(self) -> None:
        """The service's log holds no address and no secret (SECURITY.md)."""
        text = unquote(self.log())  # an address in a query string is percent-encoded
        found = addresses(text.encode())
        assert not found, f"the service logged addresses: {sorted(found)[:3]}"
        leaked = [name for name, value in SECRETS.items() if value in text]
        assert not leaked, f"the service logged {leaked}"

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TlsFront:
    """TLS on 127.0.0.1 in front of a plain HTTP server (the service under uvicorn), as the
    reverse proxy of a deployment terminates it: a certificate for 127.0.0.1 from a
    throwaway CA (trustme), whose PEM is :attr:`ca_file` (for ``SSL_CERT_FILE``).  Each
    connection is copied both ways, byte for byte, on an asyncio loop of its own."""

    def __init__(self, target: int, folder: Path) -> None:
        ca = trustme.CA()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.ca_file = folder / "front-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.target = target
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._transports: list[asyncio.BaseTransport] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> TlsFront:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._copy, "127.0.0.1", 0, ssl=self.context), self._loop
        )
        self._server = started.result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.append(writer.transport)
        try:
            upstream, back = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._transports.append(back.transport)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                sink.transport.abort()
            else:
                # The end of one side: what is still buffered for the other goes first
                # (uvicorn closes an idle connection while a slow client still reads).
                sink.close()

        await asyncio.gather(pipe(reader, back), pipe(upstream, writer))

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for transport in self._transports:
                transport.abort()  # a TLS close would wait for the client's close_notify
            await asyncio.sleep(0.05)  # connection_lost runs on the next turns of the loop

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> TlsFront:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class Forward:
    """A browser's way to the public sites of a test: each request whose URL starts with a
    site's public prefix is forwarded to the real server behind it on 127.0.0.1, as a TLS
    proxy would (the public Host kept, X-Forwarded-For and -Proto added); anything else is
    refused, and recorded in :attr:`refused`.  A Playwright route handler."""

    def __init__(self, sites: Mapping[str, str]) -> None:
        #: Public prefix ("https://lists.example.org/") to the server's ("http://127.0.0.1:8000").
        self.sites = {
            prefix: httpx.Client(base_url=base, timeout=30) for prefix, base in sites.items()
        }
        self.refused: list[str] = []

    def __call__(self, route: Any) -> None:
        request = route.request
        for prefix, client in self.sites.items():
            if request.url.startswith(prefix):
                headers = {k: v for k, v in request.headers.items() if not k.startswith(":")}
                headers |= {"x-forwarded-for": "192.0.2.10", "x-forwarded-proto": "https"}
                headers["host"] = urlsplit(prefix).netloc
                answer = client.request(
                    request.method,
                    "/" + request.url.removeprefix(prefix),
                    headers=headers,
                    content=request.post_data_buffer,
                )
                route.fulfill(
                    status=answer.status_code, headers=dict(answer.headers), body=answer.content
                )
                return
        self.refused.append(request.url)
        route.abort("blockedbyclient")

    def close(self) -> None:
        for client in self.sites.values():
            client.close()


def wait_for(condition: Any, timeout: float = 20.0, what: str = "the condition") -> None:
    """Poll *condition* until it is true; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
