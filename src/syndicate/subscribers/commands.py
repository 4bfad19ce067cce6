"""``syndicate subscribers …``: the list service and the operator's commands.

Each command opens the list (migrating its schema first) and calls one function of the
store; nothing here prints an address, except ``export``, whose output is the list.
Everything heavy is imported inside the commands, so that ``syndicate build`` never loads
the service stack.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ContentError, DeliveryError, Diagnostic

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ..config import Config
    from .store import Rules


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _opened(root: Path) -> Iterator[tuple[Config, sa.Engine]]:
    """The publication's config and its list, migrated; closed after the block."""
    from ..config import load_config
    from .database import connect

    config = load_config(root)
    engine = connect(config, os.environ)
    try:
        yield config, engine
    finally:
        engine.dispose()


def _rules(config: Config) -> Rules:
    from .store import Rules, list_name

    return Rules(list_name=list_name(config))


def _address(value: str) -> str:
    from .store import normalise

    email = normalise(value)
    if email is None:
        # The address itself is not repeated: command output ends up in logs.
        raise click.BadParameter("not an email address that can be mailed", param_hint="ADDRESS")
    return email


@click.group()
def subscribers() -> None:
    """The subscriber list: the sign-up service, and the list kept by hand.

    The list lives in SYNDICATE_DATABASE_URL (sqlite:///file or postgresql://...), or by
    default in .syndicate/subscribers.db in the publication.
    """


@subscribers.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port."
)
@click.pass_obj
def serve(root: Path, host: str, port: int) -> None:
    """Run the sign-up, confirmation and unsubscribe service (behind a TLS proxy)."""
    import uvicorn

    from .app import Settings, behind_proxies, create_app
    from .database import connect
    from .mailer import Transport

    settings = Settings.load(root, os.environ)
    Transport.from_config(settings.config, os.environ)  # refuse to start if mail cannot go
    connect(settings.config, os.environ).dispose()  # migrate, and fail here rather than later
    options = settings.config.subscribers
    assert options is not None
    app = behind_proxies(create_app(settings), options.trusted_proxies)
    uvicorn.run(
        app,
        host=host,
        port=port,
        # Proxy headers are believed by the app itself, from [subscribers] trusted_proxies.
        proxy_headers=False,
        # uvicorn's access log shows each query string, and an unsubscribe link's holds the
        # address: the service logs each request itself, without it.
        access_log=False,
        server_header=False,
        log_config=LOGGING,
        timeout_graceful_shutdown=10,
    )


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "syndicate": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


@subscribers.command("import")
@click.argument(
    "csv_file", metavar="CSV", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.pass_obj
def import_(root: Path, csv_file: Path) -> None:
    """Merge a CSV list (email,name,status) into the list; an opt-out always wins."""
    from .listing import import_csv

    path = csv_file.resolve() if str(csv_file) != "-" else Path("<stdin>")
    text = _read(csv_file)
    with _opened(root) as (_, engine):
        try:
            report = import_csv(engine, path, text, now=_now())
        except DeliveryError as error:  # the file as a whole: bad input, not a failed send
            raise ContentError(str(error), error.diagnostics) from None
    _warn(report.diagnostics)
    click.echo(
        f"Imported {path.name}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.kept_out} kept out (they left or bounced), "
        f"{report.invalid} invalid"
    )


def _read(path: Path) -> str:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        raise ContentError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problem = Diagnostic.error(path, line, "not UTF-8 text (save the list as CSV UTF-8)")
        raise ContentError(str(problem), [problem]) from None


def _warn(diagnostics: list[Diagnostic]) -> None:
    if diagnostics:
        here = Path.cwd()
        click.echo("\n".join(d.format(relative_to=here) for d in diagnostics), err=True)


@subscribers.command()
@click.pass_obj
def export(root: Path) -> None:
    """Write the whole list as CSV on standard output, with each address's status."""
    from .listing import COLUMNS
    from .listing import export as rows

    with _opened(root) as (_, engine):
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows(engine):
            writer.writerow(row)


@subscribers.command()
@click.argument("address")
@click.option("--name", default="", help="The reader's name.")
@click.pass_obj
def add(root: Path, address: str, name: str) -> None:
    """Subscribe ADDRESS without a confirmation, on your word that they agreed."""
    from .store import Adding, Origin
    from .store import add as add_address

    email = _address(address)
    with _opened(root) as (config, engine):
        outcome = add_address(
            engine, email, name, rules=_rules(config), origin=Origin("command line"), now=_now()
        )
    if outcome is Adding.REFUSED:
        click.echo(
            "syndicate: this address left the list (or its mail bounced): only its owner can "
            "join again, through the sign-up form and a new confirmation",
            err=True,
        )
        sys.exit(1)
    click.echo("Added." if outcome is Adding.ADDED else "Already subscribed: nothing changed.")


@subscribers.command()
@click.argument("address")
@click.pass_obj
def remove(root: Path, address: str) -> None:
    """Unsubscribe ADDRESS, keeping it on file so that no import adds it back."""
    from .store import Leaving, Origin, unsubscribe_address

    email = _address(address)
    with _opened(root) as (config, engine):
        outcome = unsubscribe_address(
            engine,
            email,
            rules=_rules(config),
            origin=Origin("command line"),
            now=_now(),
            by_reader=False,
        )
    click.echo("Unsubscribed." if outcome is Leaving.UNSUBSCRIBED else "Already unsubscribed.")


@subscribers.command()
@click.argument("address")
@click.pass_obj
def forget(root: Path, address: str) -> None:
    """Erase ADDRESS, its proof of consent and its queued emails (a request to be forgotten)."""
    from .store import forget as erase

    email = _address(address)
    with _opened(root) as (_, engine):
        found = erase(engine, email)
    if found:
        click.echo("Erased the address, its proof of consent and its queued emails.")
    else:
        click.echo("Not on the list: nothing to erase.")


@subscribers.command()
@click.argument("address")
@click.pass_obj
def proof(root: Path, address: str) -> None:
    """Show the proof of consent of ADDRESS: each request, confirmation and withdrawal."""
    from .listing import proof as events

    email = _address(address)
    with _opened(root) as (_, engine):
        found = events(engine, email)
    if found is None:
        click.echo("Not on the list.")
        return
    for event in found:
        ip = f" from {event.ip}" if event.ip else ""
        click.echo(f"{event.at.isoformat()}  {event.event}{ip} ({event.source}): {event.detail}")


@subscribers.command()
@click.pass_obj
def stats(root: Path) -> None:
    """Count the addresses by status, and the service's emails by state."""
    from .database import database_url, shown
    from .listing import stats as count

    with _opened(root) as (config, engine):
        found = count(engine)
    click.echo(f"List: {shown(database_url(config.root, os.environ))}")
    width = max(len(status) for status in found.statuses)
    for status, number in found.statuses.items():
        click.echo(f"  {status:<{width}}  {number:>8,}")
    queue = ", ".join(f"{number:,} {state}" for state, number in found.outbox.items() if number)
    click.echo(f"Emails from the service: {queue or 'none'}")
