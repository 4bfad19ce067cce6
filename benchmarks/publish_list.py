"""How ``syndicate publish`` sends to a list the service keeps, and whether memory stays flat.

    python benchmarks/publish_list.py [--subscribers 1000,100000] [--no-send]
                                      [--stores sqlite,postgresql,https[,csv]]

For each store and size: a publication with one article and that many subscribed readers,
a sink SMTP server on 127.0.0.1 (benchmarks/send.py's, in a process of its own), and one
cold ``syndicate publish`` with the rate limit off, measured from outside: wall time and
peak RSS (GNU time), and the same for ``publish --dry-run`` (the list streamed and
counted, nothing sent).  The readers are written straight into the list's table (an
import would take longer than the send, and is not what is measured).  The stores:

* ``sqlite``: ``SYNDICATE_DATABASE_URL`` naming a SQLite file;
* ``postgresql``: a throwaway cluster (fsync on) started here as the tests start theirs;
* ``https``: ``SYNDICATE_LIST_URL``, the service (``syndicate subscribers serve`` on the
  SQLite file) behind a TLS front on 127.0.0.1, as a CI job reads the list;
* ``csv``: ``SYNDICATE_SUBSCRIBERS``, the CSV list, for comparison (read whole).

Prints a Markdown table.  The machine's load average is printed before and after: the
figures are only as quiet as the machine was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from send import SINK  # noqa: E402
from service_support import PostgreSQL, Service, TlsFront  # noqa: E402

SECRET = "benchmark secret"
LIST_TOKEN = "benchmark-list-token-" + "b" * 32

CONFIG = """[site]
title = "Bench Daily"
url = "https://bench.example.org/"
author = "Bench Writer"
pages = false

[social]
platforms = []

[email]
from = "Bench Daily <news@bench.example.org>"
rate = 0

[email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"

[subscribers]
url = "https://lists.example.org/"
hosts = ["127.0.0.1"]
"""

ARTICLE = """---
title: "A benchmark article"
date: 2025-08-18
---

{body}
"""


def publication(folder: Path, port: int) -> None:
    (folder / "content").mkdir(parents=True)
    (folder / "syndicate.toml").write_text(CONFIG.format(port=port))
    body = "\n\n".join(f"Paragraph {n} of plain words for the digest." for n in range(20))
    (folder / "content/a.md").write_text(ARTICLE.format(body=body))


def fill(folder: Path, url: str, count: int) -> None:
    """*count* subscribed readers in the list at *url*, written in pages."""
    from syndicate.config import load_config
    from syndicate.subscribers.database import connect
    from syndicate.subscribers.schema import SUBSCRIBED, subscribers

    engine = connect(load_config(folder), {"SYNDICATE_DATABASE_URL": url})
    now = datetime.now(UTC)
    try:
        for start in range(0, count, 5000):
            rows = [
                {
                    "email": f"reader{n}@example.org",
                    "email_key": f"reader{n}@example.org",
                    "name": f"Reader {n}",
                    "status": SUBSCRIBED,
                    "created": now,
                    "changed": now,
                    "confirmed": now,
                }
                for n in range(start, min(count, start + 5000))
            ]
            with engine.begin() as connection:
                connection.execute(subscribers.insert(), rows)
    finally:
        engine.dispose()


def csv_list(folder: Path, count: int) -> Path:
    path = folder / "subscribers.csv"
    with path.open("w") as file:
        file.write("email,name,status\n")
        for n in range(count):
            file.write(f"reader{n}@example.org,Reader {n},subscribed\n")
    return path


def timed(command: list[str], env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of *command*."""
    timing = folder / "time.txt"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(timing), *command],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[3:]} failed:\n{done.stderr[-2000:]}")
    return wall, int(timing.read_text().split()[-1]) * 1024 / 1e6


def measure(
    store: str, count: int, syndicate: Path, pg: PostgreSQL | None, send: bool = True
) -> str:
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdin is not None
    port = int(sink.stdout.readline())
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        folder = Path(name)
        publication(folder, port)
        env = {**os.environ, "SYNDICATE_SECRET": SECRET}
        env = {k: v for k, v in env.items() if k not in ("SYNDICATE_DATABASE_URL",)}
        sqlite = f"sqlite:///{folder / 'list.db'}"
        if store == "csv":
            env["SYNDICATE_SUBSCRIBERS"] = str(csv_list(folder, count))
        elif store == "postgresql":
            assert pg is not None
            url = pg.create_database()
            fill(folder, url, count)
            env["SYNDICATE_DATABASE_URL"] = url
        else:
            fill(folder, sqlite, count)
            env["SYNDICATE_DATABASE_URL"] = sqlite
        if store == "https":
            service_env = {"SYNDICATE_DATABASE_URL": sqlite, "SYNDICATE_LIST_TOKEN": LIST_TOKEN}
            service = stack.enter_context(Service(folder, service_env))
            front = stack.enter_context(TlsFront(service.port, folder))
            del env["SYNDICATE_DATABASE_URL"]
            env |= {
                "SYNDICATE_LIST_URL": front.url,
                "SYNDICATE_LIST_TOKEN": LIST_TOKEN,
                "SSL_CERT_FILE": str(front.ca_file),
            }
        command = [str(syndicate), "-C", str(folder), "publish"]
        dry_wall, dry_peak = timed([*command, "--dry-run"], env, folder)
        if not send:
            sink.stdin.close()
            sink.wait()
            return f"| {store} | {count:,} | (not sent) | | | | {dry_wall:.1f} | {dry_peak:.1f} |"
        wall, peak = timed(command, env, folder)
    sink.stdin.close()
    received = int(sink.stdout.readline())
    sink.wait()
    return (
        f"| {store} | {count:,} | {received:,} | {wall:.1f} | {received / wall:,.0f} | "
        f"{peak:.1f} | {dry_wall:.1f} | {dry_peak:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1000,100000")
    parser.add_argument("--stores", default="sqlite,postgresql,https")
    parser.add_argument(
        "--no-send",
        action="store_true",
        help="only the dry run: the list streamed and counted (the send's own time is the "
        "SMTP server's, whatever the store)",
    )
    parser.add_argument("--syndicate", type=Path, default=Path(sys.executable).parent / "syndicate")
    args = parser.parse_args()
    stores = args.stores.split(",")
    print(f"Load average at the start: {os.getloadavg()[0]:.1f}", flush=True)
    print()
    print(
        "| store | subscribers | received | publish (s) | messages/s | peak RSS (MB) "
        "| dry run (s) | dry run peak RSS (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    pg = PostgreSQL(durable=True).start() if "postgresql" in stores else None
    try:
        for store in stores:
            for count in (int(n) for n in args.subscribers.split(",")):
                print(measure(store, count, args.syndicate, pg, not args.no_send), flush=True)
    finally:
        if pg is not None:
            pg.remove()
    print()
    print(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
