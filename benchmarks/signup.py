"""How fast the list service takes sign-ups, and how the store streams a large list.

    python benchmarks/signup.py [--requests 5000] [--connections 16] [--rate 500]
                                [--seconds 10] [--stream 1000,100000] [--only sqlite]

For SQLite (the default file) and PostgreSQL (a throwaway cluster, fsync on, started
here as the tests start theirs): ``syndicate subscribers serve`` in a process of its
own, its outbox worker sending the confirmations to a sink SMTP server at the default
``[email] rate`` (as a relay's limit would pace them), and a load generator
in this process, a plain asyncio HTTP/1.1 client on keep-alive connections (cheaper than
any HTTP library, so that the 2 cores go to the service):

* **saturation**: *requests* sign-ups of distinct addresses over *connections*
  connections, as fast as the service answers: requests a second, p50 and p99 latency;
* **at a rate**: *rate* sign-ups a second for *seconds*, sent on schedule whatever the
  answers (an open loop, so that a slow answer delays no later request): the rate
  reached, p50 and p99 latency, measured from each request's scheduled time.

Then the store's streaming of the subscribed readers (``listing.recipients``) for each
size in *stream*, after an import of that many subscribers, in a fresh process: time, and
peak RSS against the smallest size.  Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from send import SINK  # noqa: E402
from service_support import PostgreSQL, Service, list_config  # noqa: E402

HOST = b"lists.example.org"


def _request(email: str, client: int) -> bytes:
    body = f"email={email.replace('@', '%40')}&name=".encode()
    return (
        b"POST /subscribe HTTP/1.1\r\nHost: " + HOST + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"X-Forwarded-For: {_address(client)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _address(client: int) -> str:
    """A client address of its own for each number: the service limits none of them."""
    return f"10.{client // 65536 % 256}.{client // 256 % 256}.{client % 256}"


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def saturate(port: int, requests: int, connections: int, prefix: str) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    numbers = iter(range(requests))

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for n in numbers:
            started = time.perf_counter()
            status = await _exchange(reader, writer, _request(f"{prefix}{n}@example.org", n))
            latencies.append(time.perf_counter() - started)
            errors += status != 200
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed, errors)


async def at_rate(port: int, rate: float, seconds: float, prefix: str) -> dict[str, float]:
    """Open loop: request n is due at start + n / rate; its latency counts from then."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    start = time.perf_counter() + 0.1

    async def one(n: int) -> None:
        nonlocal errors
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        reader, writer = await idle.get()
        status = await _exchange(reader, writer, _request(f"{prefix}{n}@example.org", n))
        latencies.append(time.perf_counter() - due)
        errors += status != 200
        idle.put_nowait((reader, writer))

    await asyncio.gather(*(one(n) for n in range(total)))
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait()[1].close()
    return _summary(latencies, elapsed, errors)


def _summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_second": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "errors": errors,
    }


STREAM = """
import resource, sys, time
from pathlib import Path
from syndicate.config import load_config
from syndicate.subscribers.database import connect
from syndicate.subscribers.listing import recipients
engine = connect(load_config(Path(sys.argv[1])), {"SYNDICATE_DATABASE_URL": sys.argv[2]})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
count = sum(1 for _ in recipients(engine))
seconds = time.perf_counter() - started
print(count, seconds, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def stream(root: Path, url: str, size: int) -> dict[str, float]:
    csv = root / f"list-{size}.csv"
    with csv.open("w") as out:
        out.write("email,name,status\n")
        for n in range(size):
            out.write(f"stream{size}-{n}@example.org,Reader {n},subscribed\n")
    env = {**os.environ, "SYNDICATE_DATABASE_URL": url}
    syndicate = [sys.executable, "-m", "syndicate", "-C", str(root), "subscribers"]
    started = time.perf_counter()
    subprocess.run([*syndicate, "import", str(csv)], env=env, check=True, capture_output=True)
    imported = time.perf_counter() - started
    csv.unlink()
    out = subprocess.run(
        [sys.executable, "-c", STREAM, str(root), url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    count, seconds, before, peak = int(out[0]), float(out[1]), int(out[2]), int(out[3])
    return {
        "size": size,
        "count": count,
        "import_s": imported,
        "stream_s": seconds,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak / 1024,
    }


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) process *pid* has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _queued(root: Path, url: str) -> int:
    from syndicate.config import load_config
    from syndicate.subscribers.database import connect
    from syndicate.subscribers.listing import stats

    engine = connect(load_config(root), {"SYNDICATE_DATABASE_URL": url})
    try:
        counts = stats(engine).outbox
    finally:
        engine.dispose()
    return counts["queued"] + counts["claimed"]


def run(
    kind: str, args: argparse.Namespace, work: Path, server: PostgreSQL | None, sink_port: int
) -> str:
    root = work / kind
    (root / "content").mkdir(parents=True)
    # The confirmations go to a sink SMTP server (benchmarks/send.py's) at the transport's
    # own limit, [email] rate (10 messages a second by default), behind the sign-ups, as in
    # a real deployment.
    config = list_config(
        smtp_port=sink_port, subscribers='client_rate = 0\ntrusted_proxies = ["127.0.0.1"]\n'
    )
    (root / "syndicate.toml").write_text(config.replace("rate = 0\n", "", 1))
    url = f"sqlite:///{root / 'list.db'}" if server is None else server.create_database()
    lines = [f"### {kind}", ""]
    with Service(root, {"SYNDICATE_DATABASE_URL": url}) as service:
        assert service.process is not None
        pid = service.process.pid
        asyncio.run(saturate(service.port, 500, 8, "warm"))  # imports, caches, pool
        cpu = _cpu(pid)
        full = asyncio.run(saturate(service.port, args.requests, args.connections, "sat"))
        cpu = (_cpu(pid) - cpu) / args.requests * 1000
        steady = asyncio.run(at_rate(service.port, args.rate, args.seconds, "rate"))
        waiting = _queued(root, url)
    lines += [
        "| load | requests | per second | p50 | p99 | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| saturation, {args.connections} connections | {full['requests']:,.0f} | "
        f"{full['per_second']:,.0f} | {full['p50_ms']:.1f} ms | {full['p99_ms']:.1f} ms | "
        f"{full['errors']:.0f} |",
        f"| {args.rate:g}/s for {args.seconds:g} s (open loop) | {steady['requests']:,.0f} | "
        f"{steady['per_second']:,.0f} | {steady['p50_ms']:.1f} ms | {steady['p99_ms']:.1f} ms | "
        f"{steady['errors']:.0f} |",
        "",
        f"The service's process used {cpu:.2f} ms of CPU a sign-up at saturation (its "
        "outbox worker included), so one free core takes "
        f"{1000 / cpu:,.0f} a second."
        if cpu
        else "",
        "",
        f"Confirmations still queued when the load ended: {waiting:,} (the queue sends them at "
        "[email] rate, 10 a second by default).",
        "",
        "| subscribers | import | stream | peak RSS | RSS before streaming |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in args.stream:
        # A list of its own for each size.
        fresh = server.create_database() if server else f"sqlite:///{root / f'{size}.db'}"
        found = stream(root, fresh, size)
        assert found["count"] == size, found
        lines.append(
            f"| {size:,} | {found['import_s']:.1f} s | {found['stream_s']:.2f} s | "
            f"{found['rss_peak_mb']:.1f} MB | {found['rss_before_mb']:.1f} MB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--stream", type=lambda v: [int(n) for n in v.split(",")], default=[1000, 100_000]
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    report = [
        f"## Sign-ups (`python benchmarks/signup.py`, {time.strftime('%Y-%m-%d %H:%M UTC')})",
        "",
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start.",
        "",
    ]
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdin is not None
    port = int(sink.stdout.readline())
    with tempfile.TemporaryDirectory(prefix="syndicate-signup-") as folder:
        work = Path(folder)
        try:
            if args.only != "postgresql":
                report.append(run("SQLite", args, work, None, port))
            if args.only != "sqlite":
                server = PostgreSQL(durable=True).start()
                try:
                    report.append(run("PostgreSQL", args, work, server, port))
                finally:
                    server.remove()
        finally:
            sink.stdin.close()
            sink.wait(30)
    report.append(f"Load average {os.getloadavg()[0]:.1f} at the end.")
    print("\n".join(report))


if __name__ == "__main__":
    main()
