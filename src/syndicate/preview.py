"""``syndicate preview``: the public folder on 127.0.0.1, and the next email as subscribers see it.

The preview page shows the email at 600 px and 375 px side by side, with its
subject line and its plain-text part.  Only the loopback address is served.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from .config import Config
from .email.render import RenderedDigest
from .templating import render_template

PREVIEW = "/_preview/"
EMAIL = "/_preview/email.html"
HOST = "127.0.0.1"


def preview_page(config: Config, rendered: RenderedDigest | None) -> str:
    return render_template(
        config, "site/preview.html.j2", site=config.site, email=rendered, email_url=EMAIL
    )


class _Handler(SimpleHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        page = self.pages.get(self.path.split("?", 1)[0])
        if page is None:
            super().do_GET()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a quiet terminal; the URL is printed once when the server starts


def make_server(
    config: Config, rendered: RenderedDigest | None, port: int = 8000
) -> ThreadingHTTPServer:
    """A server for ``feeds/`` and the preview page, on 127.0.0.1:*port* (0: any free port)."""
    pages = {PREVIEW: preview_page(config, rendered).encode("utf-8")}
    if rendered is not None:
        pages[EMAIL] = rendered.html.encode("utf-8")
    handler = type("Handler", (_Handler,), {"pages": pages})
    serve = functools.partial(handler, directory=str(Path(config.output_dir)))
    return ThreadingHTTPServer((HOST, port), serve)
