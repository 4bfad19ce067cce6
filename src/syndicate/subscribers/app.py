"""The list service as an ASGI app: ``create_app(settings)``.

The routes only parse requests, call the store and render templates:

* ``GET /`` the sign-up page; ``POST /subscribe`` the form (``email``, optional ``name``,
  and the empty honeypot ``website``), which answers the same whether the address is new,
  pending or subscribed.
* ``GET /confirm/<token>`` a page with a button; ``POST`` confirms (link scanners follow
  links, they do not press buttons).
* ``GET /unsubscribe/<token>`` and ``GET /unsubscribe?email=…&token=…`` (the links already
  sent, checked with ``SYNDICATE_SECRET``) a page with a button; ``POST`` with
  ``List-Unsubscribe=One-Click`` unsubscribes (RFC 8058), every time with 200.
* ``GET /api/recipients`` the subscribed readers as JSON lines, for a publish job that
  cannot reach the database, and ``POST /api/bounced`` for its permanent refusals; only
  with ``Authorization: Bearer $SYNDICATE_LIST_TOKEN`` (see :mod:`.api`).
* ``GET /healthz`` for the proxy or the container's health check.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlsplit

import anyio
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..config import Config, load_config
from ..delivery.recipients import ENV_LIST_TOKEN
from ..delivery.subscribers import secret_from
from ..delivery.subscribers import token as keyed_token
from ..errors import ConfigError
from ..templating import environment, render_template
from . import api, store, tokens
from .database import StoreUnavailable, connect
from .mailer import Mailer, Transport
from .web import BodyLimit, Guard, Headers, HostCheck, RateLimit, header, origin_of

log = logging.getLogger("syndicate.subscribers")

#: The field RFC 8058 one-click unsubscribe posts, and its only value.
ONE_CLICK = ("List-Unsubscribe", "One-Click")
#: Confirmation tokens are 32 URL-safe characters, unsubscribe tokens 32 hex digits;
#: anything else is refused before the database is asked.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads at start: the publication's config and the environment."""

    config: Config
    environ: Mapping[str, str] = field(repr=False)
    #: SYNDICATE_SECRET: checks the links already sent (``?email=…&token=…``).
    secret: bytes | None = field(repr=False)
    #: SYNDICATE_LIST_TOKEN: opens ``/api/recipients``; None keeps it closed.
    list_token: str | None = field(repr=False)
    #: Send the outbox from this process.
    send: bool = True

    @classmethod
    def load(cls, root: Path, environ: Mapping[str, str], *, send: bool = True) -> Settings:
        """Read and check the settings; :class:`ConfigError` says what is missing."""
        config = load_config(root)
        if config.subscribers is None:
            raise ConfigError(
                f"{config.path}: no [subscribers] table: set at least its url, where the "
                "service is reached (see the README, Subscribers)"
            )
        secret = secret_from(environ)
        if secret is None:
            raise ConfigError(
                "SYNDICATE_SECRET is not set: the service checks the unsubscribe links already "
                "sent with it (use the same value as publish)"
            )
        list_token = environ.get(ENV_LIST_TOKEN, "").strip() or None
        if list_token is not None and len(list_token) < 32:
            raise ConfigError(f"{ENV_LIST_TOKEN} must be at least 32 characters long")
        return cls(config, dict(environ), secret, list_token, send)


@dataclass(slots=True)
class _Service:
    settings: Settings
    rules: store.Rules
    clock: Callable[[], datetime]
    limit: RateLimit
    allowed_origins: frozenset[str]
    engine: sa.Engine | None = None
    mailer: Mailer | None = None
    writers: anyio.CapacityLimiter | None = None
    sent_page: bytes | None = None

    @property
    def config(self) -> Config:
        return self.settings.config

    @property
    def url(self) -> str:
        assert self.config.subscribers is not None
        return self.config.subscribers.url

    async def run(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``action(engine, *args, **kwargs)`` on a worker thread (the store is synchronous);
        on SQLite one at a time, as its single writer would have it anyway."""
        assert self.engine is not None
        return await anyio.to_thread.run_sync(
            partial(action, self.engine, *args, **kwargs), limiter=self.writers
        )

    def page(self, template: str, title: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = render_template(
            self.config,
            f"subscribers/{template}.html.j2",
            site=self.config.site,
            service_url=self.url,
            title=title,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, status: int, title: str, message: str, *, signup: bool = False) -> HTMLResponse:
        return self.page("error", title, status, message=message, signup=signup)

    def origin(self, request: Request, source: str = "") -> store.Origin:
        """Where a request came from, for the proof of consent: *source* when the page says
        (the form's ``source`` field), else the page that sent it (Referer, without its
        query, or Origin)."""
        page = header(request.scope, b"referer") or header(request.scope, b"origin") or ""
        source = " ".join(source.split()) or page.split("?", 1)[0].split("#", 1)[0]
        keep = self.config.subscribers is not None and self.config.subscribers.record_ip
        ip = request.client.host if keep and request.client else None
        return store.Origin(source or "unknown page", ip)

    def foreign(self, request: Request) -> bool:
        """Whether a browser posted this from a page of another site (no Origin: not a
        browser form, and let through)."""
        origin = header(request.scope, b"origin")
        return origin is not None and origin.lower() not in self.allowed_origins


def create_app(settings: Settings, *, clock: Callable[[], datetime] = _now) -> Starlette:
    """The service for *settings*; it opens the database (and migrates it) as it starts,
    and starts its outbox worker when ``settings.send``."""
    config = settings.config
    assert config.subscribers is not None
    options = config.subscribers
    service = _Service(
        settings=settings,
        rules=store.Rules(
            list_name=store.list_name(config),
            confirm_for=timedelta(hours=options.confirm_hours),
            resend_after=timedelta(minutes=options.resend_minutes),
            goodbye=options.goodbye,
        ),
        clock=clock,
        limit=RateLimit(options.client_rate),
        allowed_origins=frozenset(
            origin_of(url) for url in (config.site.url, options.url, *options.origins)
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = await anyio.to_thread.run_sync(partial(connect, config, settings.environ))
        service.engine = engine
        assert settings.secret is not None
        keyed = await anyio.to_thread.run_sync(tokens.key_tokens, engine, settings.secret)
        if keyed:
            log.info("unsubscribe tokens made for %d readers", keyed)
        service.writers = anyio.CapacityLimiter(1 if engine.dialect.name == "sqlite" else 16)
        if settings.send:
            service.mailer = Mailer(engine, Transport.from_config(config, settings.environ))
            service.mailer.start()
        try:
            yield
        finally:
            if service.mailer is not None:
                await anyio.to_thread.run_sync(service.mailer.stop)
            engine.dispose()

    routes = [
        Route("/", partial(signup_page, service), methods=["GET"]),
        Route("/subscribe", partial(subscribe, service), methods=["POST"]),
        Route("/confirm/{token}", partial(confirm, service), methods=["GET", "POST"]),
        Route("/unsubscribe", partial(unsubscribe, service), methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", partial(unsubscribe, service), methods=["GET", "POST"]),
        Route("/api/recipients", partial(api.recipients, service), methods=["GET"]),
        Route("/api/bounced", partial(api.bounced, service), methods=["POST"]),
        Route("/healthz", partial(health, service), methods=["GET"]),
        Route("/style.css", partial(stylesheet, service), methods=["GET"]),
    ]
    hosts = [urlsplit(options.url).hostname or "", *options.hosts]

    async def not_found(request: Request, error: Exception) -> Response:
        status = getattr(error, "status_code", 404)
        if status == 405:
            return PlainTextResponse("Method not allowed.", status_code=405)
        return service.error(404, "Page not found", "There is no page at this address.")

    async def unavailable(request: Request, error: Exception) -> Response:
        log.error("database unavailable: %s", error)
        response = service.error(
            503, "Try again in a moment", "The list is out of reach for a moment. Please try again."
        )
        response.headers["retry-after"] = "5"
        return response

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found, StoreUnavailable: unavailable},
        middleware=[
            Middleware(Guard),
            Middleware(Headers),
            Middleware(HostCheck, hosts=hosts),
            Middleware(BodyLimit),
        ],
    )
    return app


def behind_proxies(app: ASGIApp, trusted: tuple[str, ...]) -> ASGIApp:
    """*app* believing X-Forwarded-For and X-Forwarded-Proto from *trusted* addresses only."""
    if not trusted:
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    # uvicorn types ASGI apps in its own words; the protocol is the same.
    return cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=list(trusted)))


# --- routes ------------------------------------------------------------------------------


async def signup_page(service: _Service, request: Request) -> Response:
    return service.page(
        "signup", "Subscribe by email", email="", name="", problem="", source="the sign-up page"
    )


async def _form(request: Request) -> Mapping[str, str]:
    """The form's text fields (files are refused).  A urlencoded body, what every browser
    form and most one-click POSTs send, is read by the standard library; multipart (which
    RFC 8058 allows too) by Starlette's parser."""
    kind = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("utf-8", "replace")
        try:
            return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=20))
        except ValueError:  # more fields than any of our forms has
            return {}
    form = await request.form(max_files=0, max_fields=20)
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def subscribe(service: _Service, request: Request) -> Response:
    if service.foreign(request):
        return service.error(403, "Not allowed", "This form cannot be sent from that site.")
    client = request.client.host if request.client else "unknown"
    allowed, wait = service.limit.allow(client)
    if not allowed:
        response = service.error(
            429,
            "Too many sign-ups",
            "Too many sign-ups came from your connection just now. Please try again in a minute.",
        )
        response.headers["retry-after"] = str(wait)
        return response
    form = await _form(request)
    title = "Subscribe by email"
    if form.get("website"):  # the honeypot: only a robot fills a field no one can see
        log.info("sign-up: honeypot filled; ignored")
        return _sent(service)
    name = form.get("name", "")
    email = store.normalise(form.get("email", ""))
    if email is None:
        return service.page(
            "signup",
            title,
            400,
            email=form.get("email", "")[:320],
            name=name[:200],
            source=form.get("source", "")[:500],
            problem="That is not an email address we can send to. Please check it.",
        )
    outcome, _ = await service.run(
        store.subscribe,
        email,
        name,
        rules=service.rules,
        origin=service.origin(request, form.get("source", "")),
        now=service.clock(),
    )
    log.info("sign-up: %s", outcome.value)
    if outcome is store.Signup.QUEUED and service.mailer is not None:
        service.mailer.wake()
    return _sent(service)


def _sent(service: _Service) -> Response:
    """The page saying "check your inbox": the same for every sign-up, so rendered once."""
    if service.sent_page is None:
        assert service.config.subscribers is not None
        hours = service.config.subscribers.confirm_hours
        page = service.page("signup-sent", "Check your inbox", confirm_hours=f"{hours:g}")
        service.sent_page = bytes(page.body)
    return HTMLResponse(service.sent_page)


async def confirm(service: _Service, request: Request) -> Response:
    token = request.path_params["token"]
    if not _TOKEN.fullmatch(token):
        return _bad_confirm(service)
    if request.method == "GET":
        return service.page("confirm", "Confirm your subscription", action=str(request.url.path))
    if service.foreign(request):
        return service.error(403, "Not allowed", "This form cannot be sent from that site.")
    outcome = await service.run(
        store.confirm,
        token,
        rules=service.rules,
        origin=service.origin(request, "the confirmation page"),
        now=service.clock(),
    )
    log.info("confirmation: %s", outcome.value)
    if outcome in (store.Confirmation.CONFIRMED, store.Confirmation.ALREADY):
        return service.page("confirmed", "You are subscribed")
    if outcome is store.Confirmation.EXPIRED:
        return service.error(
            410, "This link has expired", "This confirmation link is too old to use.", signup=True
        )
    return _bad_confirm(service)


def _bad_confirm(service: _Service) -> Response:
    return service.error(
        404,
        "This link does not work",
        "This confirmation link is not valid: a newer one may have been sent, or it was cut "
        "short on the way.",
        signup=True,
    )


async def unsubscribe(service: _Service, request: Request) -> Response:
    token = request.path_params.get("token")
    email = None
    if token is None:
        email, token = _legacy(service, request)
        if email is None:
            return _bad_unsubscribe(service)
    elif not _TOKEN.fullmatch(token):
        return _bad_unsubscribe(service)
    if request.method == "GET":
        return service.page(
            "unsubscribe", f"Unsubscribe from {service.config.site.title}", action=_here(request)
        )
    form = await _form(request)
    if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return service.error(
            400, "Not understood", "Please use the button on the unsubscribe page."
        )
    # A browser sends Origin with the page's button; a mail provider's one-click POST does not.
    via = "the unsubscribe page" if header(request.scope, b"origin") else "one-click"
    origin = service.origin(request, via)
    now = service.clock()
    if email is not None:
        outcome = await service.run(
            store.unsubscribe_address, email, rules=service.rules, origin=origin, now=now
        )
    else:
        secret = service.settings.secret
        assert secret is not None
        outcome = await service.run(
            store.unsubscribe, token, secret=secret, rules=service.rules, origin=origin, now=now
        )
    log.info("unsubscribe: %s", outcome.value)
    if outcome is store.Leaving.UNKNOWN:
        return _bad_unsubscribe(service)
    if outcome is store.Leaving.UNSUBSCRIBED and service.mailer is not None:
        service.mailer.wake()
    return service.page("unsubscribed", "You are unsubscribed")


def _legacy(service: _Service, request: Request) -> tuple[str | None, str]:
    """The address of a ``?email=…&token=…`` link whose token is right, or None."""
    email = request.query_params.get("email", "")
    token = request.query_params.get("token", "")
    secret = service.settings.secret
    if not email or not token or secret is None:
        return None, token
    if not hmac.compare_digest(
        keyed_token(secret, email).encode(), token.encode("utf-8", "replace")
    ):
        return None, token
    return store.normalise(email) or email, token


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _bad_unsubscribe(service: _Service) -> Response:
    return service.error(
        404,
        "This link does not work",
        "This unsubscribe link is not valid: it may have been cut short on the way. Every "
        "email has a link of its own; please try the one in another email.",
    )


async def health(service: _Service, request: Request) -> Response:
    def ping(engine: sa.Engine) -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    try:
        assert service.engine is not None
        await anyio.to_thread.run_sync(ping, service.engine)
    except sa.exc.SQLAlchemyError:
        return PlainTextResponse("database unavailable\n", status_code=503)
    return PlainTextResponse("ok\n")


async def stylesheet(service: _Service, request: Request) -> Response:
    env = environment(service.config)
    assert env.loader is not None
    css = env.loader.get_source(env, "subscribers/style.css")[0]
    return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=3600"})
