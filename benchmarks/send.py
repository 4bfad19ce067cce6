"""How fast ``syndicate publish`` sends a digest, and whether memory stays flat.

    python benchmarks/send.py [--subscribers 1000,10000]

For each size: a publication with one article and that many subscribers, a sink
SMTP server (aiosmtpd) in a process of its own on 127.0.0.1, and one cold
``syndicate publish`` with the rate limit off, measured from outside (wall time,
peak RSS via GNU time).  Prints messages per second and peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = """
import socket, sys
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(controller.port, flush=True)
sys.stdin.read()
print(Sink.count, flush=True)
controller.stop()
"""

# A minimal sink: answers 250 to everything and counts messages.  It measures the
# sender, where aiosmtpd (a full server, in Python) would measure itself.
SINK = """
import asyncio, socket, sys
count = 0
async def session(reader, writer):
    global count
    writer.write(b"220 sink\\r\\n")
    in_data = False
    while line := await reader.readline():
        if in_data:
            if line == b".\\r\\n":
                in_data = False
                count += 1
                writer.write(b"250 OK\\r\\n")
            continue
        verb = line[:4].upper()
        if verb == b"DATA":
            in_data = True
            writer.write(b"354 go on\\r\\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\\r\\n")
            break
        elif verb == b"EHLO":
            writer.write(b"250-sink\\r\\n250 8BITMIME\\r\\n")
        else:
            writer.write(b"250 OK\\r\\n")
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(count, flush=True)
asyncio.run(main())
"""

CONFIG = """[site]
title = "Bench Daily"
url = "https://bench.example.org/"
author = "Bench Writer"

[email]
from = "Bench Daily <news@bench.example.org>"
unsubscribe_url = "https://bench.example.org/unsubscribe?email={{email}}&token={{token}}"
subscribers = "subscribers.csv"
rate = 0

[email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
"""

ARTICLE = """---
title: "A benchmark article"
date: 2025-08-18
categories: Bench
---

{body}
"""


def publication(folder: Path, subscribers: int, port: int) -> None:
    (folder / "content").mkdir(parents=True)
    (folder / "syndicate.toml").write_text(CONFIG.format(port=port))
    body = "\n\n".join(f"Paragraph {n} of plain words for the digest." for n in range(20))
    (folder / "content/a.md").write_text(ARTICLE.format(body=body))
    rows = ["email,name,status"]
    rows += [f"reader{n}@example.org,Reader {n},subscribed" for n in range(subscribers)]
    (folder / "subscribers.csv").write_text("\n".join(rows) + "\n")


def measure(count: int, syndicate: Path, server_code: str) -> str:
    server = subprocess.Popen(
        [sys.executable, "-c", server_code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        publication(root, count, port)
        env = {**os.environ, "SYNDICATE_SECRET": "benchmark"}
        timing = root / "time.txt"
        started = time.perf_counter()
        subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                "-o",
                str(timing),
                str(syndicate),
                "-C",
                folder,
                "publish",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        peak_mb = int(timing.read_text().split()[-1]) * 1024 / 1e6
    server.stdin.close()
    received = int(server.stdout.readline())
    server.wait()
    return f"| {count:,} | {received:,} | {wall:.2f} | {received / wall:,.0f} | {peak_mb:.0f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default="1000,10000")
    parser.add_argument("--syndicate", type=Path, default=Path(sys.executable).parent / "syndicate")
    args = parser.parse_args()
    print("| Server | Subscribers | Received | Publish wall (s) | Messages/s | Peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, code in (("aiosmtpd", SERVER), ("minimal sink", SINK)):
        for count in (int(n) for n in args.subscribers.split(",")):
            print(f"| {name} " + measure(count, args.syndicate, code), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
