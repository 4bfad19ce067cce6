"""What stands around the service's routes: plain ASGI middleware and a rate limit.

* :class:`Guard`, outermost: one log line a request, its path without the query or any
  token (an unsubscribe link's query holds the address), and any unexpected error turned
  into a plain 500 whose log line names the error's class only (a database error's text
  can quote an address).
* :class:`Headers`: the security headers on every response.
* :class:`HostCheck`: a request for a host name not the service's is refused with 400.
* :class:`BodyLimit`: a request body larger than :data:`MAX_BODY` is refused with 413,
  whether it says its length or not.

:class:`RateLimit` is a token bucket per client, in this process's memory: with several
service processes, each allows the limit (the limit per address, which matters more, is
kept in the database).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("syndicate.subscribers")

#: The largest request body read: a sign-up form or an unsubscribe POST is far smaller.
MAX_BODY = 16 * 1024

#: Links carry tokens in their paths; a log line shows where a request went, not which.
_TOKEN_PATH = re.compile(r"^/(confirm|unsubscribe)/[^/]+")


def loggable_path(path: str) -> str:
    """*path* as the access log shows it: tokens replaced by "…"."""
    return _TOKEN_PATH.sub(r"/\1/…", path)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = False

        async def watched(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                sent = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            log.error(
                "%s %s: unexpected %s", scope["method"], loggable_path(scope["path"]), _name(error)
            )
            status = 500
            if not sent:
                await _plain(send, 500, "Something went wrong on our side. Please try again later.")
        log.info(
            "%s %s %d %.1f ms",
            scope["method"],
            loggable_path(scope["path"]),
            status,
            (time.perf_counter() - started) * 1000,
        )


def _name(error: BaseException) -> str:
    from .database import describe

    return describe(error)


class Headers:
    """Security headers: a strict Content-Security-Policy (no script at all, styles and
    images from the service only, forms posting to it only, never framed), no referrer to
    other sites (the pages' addresses hold tokens), no MIME sniffing, no caching of pages,
    and HSTS when the request came over https."""

    POLICY = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"content-security-policy", self.POLICY.encode()),
                    (b"x-frame-options", b"DENY"),
                    # same-origin: the pages' addresses hold tokens, and must not leave
                    # with a click to the site; but the pages' own forms must carry their
                    # Origin, which a browser blanks ("null") under no-referrer.
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                if scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)


class HostCheck:
    """Answer only requests for the service's own host names (a request for another name
    is someone probing through the proxy, or a DNS rebinding); ``/healthz`` answers any,
    so that a container's or a load balancer's check need not know the public name."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            given = (header(scope, b"host") or "").lower()
            name = given.rsplit(":", 1)[0] if not given.endswith("]") else given
            if name not in self.hosts:
                await _plain(send, 400, "Unknown host.")
                return
        await self.app(scope, receive, send)


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _plain(send, 413, "The request is too large.")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _plain(send, 413, "The request is too large.")


class _TooLarge(Exception):
    pass


class RateLimit:
    """At most *per_minute* events a minute for each key, in bursts of up to *per_minute*.

    Keys whose bucket is full again are forgotten once there are many, so that memory
    stays bounded however many clients come.
    """

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, keep: int = 10_000
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._keep = keep
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> tuple[bool, int]:
        """Whether one more event for *key* is allowed now; when not, the seconds to wait."""
        if self.capacity <= 0:
            return True, 0
        now = self._clock()
        tokens, then = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False, max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self._keep:
            self._forget_full(now)
        return True, 0

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of *url*, lowercased, as browsers send it in Origin."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
