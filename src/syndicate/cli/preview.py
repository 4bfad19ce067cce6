"""``syndicate preview``: the publication served on 127.0.0.1, rebuilt as it changes.

The command only starts and reports: the server, the rebuilds and the reload in the
browser are :mod:`syndicate.preview`.
"""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path

import click

from ..errors import SyndicateError
from .common import EXIT_PROBLEMS, now, say, show, working


@click.command()
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option("--drafts", is_flag=True, help="Show drafts too (in the preview only).")
@click.option("--future", is_flag=True, help="Show articles dated in the future too.")
@click.pass_obj
def preview(root: Path, port: int, drafts: bool, future: bool) -> None:
    """Serve the publication on 127.0.0.1, rebuilt and reloaded in the browser whenever an
    article, a template, syndicate.toml or a static file changes; the next email at
    /_preview/.  The preview is built into .syndicate/preview/, never into feeds/."""
    import threading

    from ..config import Config, load_config
    from ..preview import FOLDER, PREVIEW, make_server, rebuild, serve, target

    config = load_config(root)
    try:
        server = make_server(port)
    except OSError as error:
        click.echo(f"syndicate: cannot serve on 127.0.0.1:{port}: {error.strerror}", err=True)
        sys.exit(EXIT_PROBLEMS)
    shown = target(root, server, drafts=drafts, future=future)
    server.folder = shown.output
    unpublished = [name for name, wanted in (("drafts", drafts), ("future", future)) if wanted]
    also = f" ({' and '.join(unpublished)} included)" if unpublished else ""

    def build_once() -> Config | None:
        try:
            with working("Building the preview"):
                preview_config, report = rebuild(root, shown, now())
        except SyndicateError as error:
            show(error.diagnostics)
            message = f"syndicate: {error}; the preview shows the last good build"
            click.echo(click.style(message, fg="red"), err=True)
            here = Path.cwd()
            lines = [d.format(relative_to=here) for d in error.diagnostics] or [str(error)]
            server.fail("\n".join(lines))
            return None
        server.show(preview_config, report)
        show(report.diagnostics)
        say(
            f"Built the preview: {report.published} article{'s' * (report.published != 1)}"
            f"{also}, {len(report.written)} files written in {report.seconds:.2f} s"
        )
        return preview_config

    say(f"Serving the preview at {server.url} (built into {FOLDER}/)")
    say(f"The email preview: {server.url.rstrip('/')}{PREVIEW} (Ctrl-C stops)")
    with suppress(KeyboardInterrupt):  # Ctrl-C is how a preview ends
        serve(config, server, build_once, threading.Event())
