"""``syndicate preview``: the publication on 127.0.0.1, rebuilt and reloaded as you write.

The preview is built into a folder of its own (``.syndicate/preview/``) with the
preview server's address as the site's URL, so that every link and image leads to
the preview, never to the site not deployed yet; ``--drafts`` and ``--future``
show what is not published yet, and nothing of that reaches ``feeds/`` or the
state file.  When an article, a template, ``syndicate.toml`` or a static file
changes, the preview is built again and every open page reloads itself: each HTML
page served gets a small script that listens to the server's events
(``/_preview/events``, server-sent events) and reloads when a new build is ready,
or shows the problems of a build that failed.

The page at ``/_preview/`` shows the next email at 600 px and 375 px side by side,
with its subject line and its plain-text part.  Only the loopback address is served.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .config import Config
from .email.render import RenderedDigest
from .pipeline import PreviewTarget, Report, build
from .templating import render_template

PREVIEW = "/_preview/"
EMAIL = "/_preview/email.html"
EVENTS = "/_preview/events"
HOST = "127.0.0.1"
#: Where the preview is built, below the publication (git-ignored).
FOLDER = ".syndicate/preview"
#: How often an idle event stream says it is alive, in seconds: a browser whose
#: connection died finds out and connects again.
KEEPALIVE = 15.0

#: Added to every page served: reload when a newer build is ready, show what went
#: wrong when a build failed.  The generation it was served with rides in the URL, so
#: that a build finished between the page and the connection is not missed.
RELOADER = """<script>(() => {{
  const events = new EventSource("{events}?since={generation}");
  events.addEventListener("reload", () => location.reload());
  events.addEventListener("problems", (event) => {{
    let box = document.getElementById("syndicate-problems");
    if (!box) {{
      box = document.createElement("pre");
      box.id = "syndicate-problems";
      box.style.cssText = "position:fixed;inset:0 0 auto 0;margin:0;padding:1em;z-index:99999;"
        + "background:#fff0f0;color:#8b0000;border-bottom:2px solid #8b0000;"
        + "white-space:pre-wrap;font:14px/1.4 monospace;max-height:50vh;overflow:auto";
      document.body.prepend(box);
    }}
    box.textContent = JSON.parse(event.data);
  }});
}})();</script>
"""
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def preview_page(config: Config, rendered: RenderedDigest | None) -> str:
    return render_template(
        config, "site/preview.html.j2", site=config.site, email=rendered, email_url=EMAIL
    )


def with_reloader(html: bytes, generation: int) -> bytes:
    """*html* with the reloading script just before ``</body>`` (or at the end)."""
    script = RELOADER.format(events=EVENTS, generation=generation).encode("utf-8")
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + script
    at = ends[-1].start()
    return html[:at] + script + html[at:]


@dataclass(frozen=True, slots=True)
class Served:
    """What the server shows: the pages it makes itself, and the build they belong to."""

    #: Counts the builds served; a page reloads when the server's is newer than its own.
    generation: int
    pages: dict[str, bytes]
    #: Counts the builds that failed since the server started, and what the last one said.
    failures: int = 0
    problems: str = ""


class PreviewServer(ThreadingHTTPServer):
    """The preview folder and the preview pages on 127.0.0.1, with an event stream that
    tells every open page when to reload."""

    daemon_threads = True

    def __init__(self, port: int = 8000) -> None:
        #: The folder served (the preview's output, set once the preview has a target).
        self.folder = Path(FOLDER)
        self.served = Served(0, {})
        self.changed = threading.Condition()
        self.closing = False
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def show(self, config: Config, report: Report) -> None:
        """Serve a new build and make every open page reload."""
        latest = report.due[0] if report.due else (report.emails[-1] if report.emails else None)
        pages = {PREVIEW: preview_page(config, latest).encode("utf-8")}
        if latest is not None:
            pages[EMAIL] = latest.html.encode("utf-8")
        with self.changed:
            served = self.served
            self.served = Served(served.generation + 1, pages, served.failures, "")
            self.changed.notify_all()

    def fail(self, problems: str) -> None:
        """Keep serving the last good build, and show every open page what went wrong."""
        with self.changed:
            served = self.served
            self.served = Served(served.generation, served.pages, served.failures + 1, problems)
            self.changed.notify_all()

    def wait(self, generation: int, failures: int) -> Served:
        """What is served once it is newer than *generation*, or a build failed since
        *failures*, or the server closes, or :data:`KEEPALIVE` seconds passed."""
        with self.changed:
            self.changed.wait_for(
                lambda: (
                    self.closing
                    or self.served.generation > generation
                    or self.served.failures != failures
                ),
                timeout=KEEPALIVE,
            )
            return self.served

    def server_close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        super().server_close()


class _Handler(SimpleHTTPRequestHandler):
    server: PreviewServer

    def __init__(self, request: Any, address: Any, server: PreviewServer) -> None:
        super().__init__(request, address, server, directory=str(server.folder))

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        served = self.server.served
        if path == EVENTS:
            self._events(served)
            return
        page = served.pages.get(path)
        if page is not None:
            # The email itself is shown inside the preview page, which reloads it.
            self._send(page if path == EMAIL else with_reloader(page, served.generation))
            return
        file = Path(self.translate_path(path))
        if file.is_dir() and path.endswith("/"):
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            self._send(with_reloader(file.read_bytes(), served.generation))
            return
        super().do_GET()

    def end_headers(self) -> None:
        # Always the newest build: never a page from the browser's cache.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _send(self, page: bytes) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _events(self, served: Served) -> None:
        """Server-sent events: "reload" once the page's build is not the newest (then the
        stream ends: the page reloads), "problems" whenever a build fails."""
        since = parse_qs(urlsplit(self.path).query).get("since", ["0"])[0]
        generation = int(since) if since.isdigit() else 0
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        failures = served.failures if served.generation <= generation else -1
        server = self.server
        try:
            while True:
                served = server.wait(generation, failures)
                if server.closing:
                    return
                if served.generation > generation:
                    self.wfile.write(f"event: reload\ndata: {served.generation}\n\n".encode())
                    self.wfile.flush()
                    return
                if served.failures != failures:
                    failures = served.failures
                    if served.problems:
                        data = json.dumps(served.problems)
                        self.wfile.write(f"event: problems\ndata: {data}\n\n".encode())
                else:
                    self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page went away

    def log_message(self, format: str, *args: object) -> None:
        pass  # a quiet terminal; the URL is printed once when the server starts


def make_server(port: int = 8000) -> PreviewServer:
    """A preview server on 127.0.0.1:*port* (0: any free port)."""
    return PreviewServer(port)


def target(root: Path, server: PreviewServer, *, drafts: bool, future: bool) -> PreviewTarget:
    """What the preview builds: into its own folder, with the server's address."""
    return PreviewTarget(root.resolve() / FOLDER, server.url, drafts=drafts, future=future)


def rebuild(root: Path, preview: PreviewTarget, now: datetime) -> tuple[Config, Report]:
    """Build the preview (no cache of the real build's, no state: see PreviewTarget); the
    configuration as the preview has it, and what the build did."""
    from .config import load_config

    report = build(root, now, preview=preview)
    return preview.configure(load_config(root)), report


# --- watching the publication ----------------------------------------------------------

Changes = set[tuple[Any, str]]


def watched(config: Config) -> list[Path]:
    """The folders whose changes make a new preview: articles, templates, static files."""
    folders = (config.content.dir, config.templates_dir, config.site.static)
    return [folder for folder in dict.fromkeys(folders) if folder.is_dir()]


def _relevant(config: Config, changes: Changes) -> bool:
    """Whether *changes* touch the preview's inputs (the folder itself holds others too,
    and what syndicate writes, the preview among them, is never an input)."""
    inputs = [str(folder) + "/" for folder in watched(config)]
    folders = (config.content.dir, config.templates_dir, config.site.static)
    written = [str(config.root / name) + "/" for name in (".syndicate", "feeds", "outbox")]
    return any(
        not any(path.startswith(top) for top in written)
        and (
            path == str(config.path)
            or any(path.startswith(top) for top in inputs)
            or Path(path) in folders
        )
        for _, path in changes
    )


def watch(config: Config, stop: threading.Event) -> Iterator[Changes]:
    """Each batch of changes to the publication's inputs, until *stop* is set.

    Its folders are watched with their sub-folders, and the publication's folder
    without them (``syndicate.toml`` itself cannot be watched: editors save a file by
    replacing it); when one of the folders appears or goes, the watch starts again."""
    from watchfiles import watch as watch_paths

    found: queue.Queue[Changes] = queue.Queue()

    def follow(paths: Iterable[Path], recursive: bool, until: threading.Event) -> None:
        for changes in watch_paths(
            *paths, recursive=recursive, stop_event=until, debounce=300, step=50
        ):
            found.put(changes)

    def start(paths: list[Path], recursive: bool, until: threading.Event) -> None:
        if paths:
            threading.Thread(target=follow, args=(paths, recursive, until), daemon=True).start()

    start([config.root], False, stop)
    folders = watched(config)
    inner = threading.Event()
    start(folders, True, inner)
    try:
        while not stop.is_set():
            try:
                changes = found.get(timeout=0.2)
            except queue.Empty:
                continue
            if watched(config) != folders:
                inner.set()
                folders, inner = watched(config), threading.Event()
                start(folders, True, inner)
            if _relevant(config, changes):
                yield changes
    finally:
        inner.set()


def serve(
    config: Config,
    server: PreviewServer,
    build_once: Callable[[], Config | None],
    stop: threading.Event,
) -> None:
    """Serve until *stop* is set (or Ctrl-C), calling *build_once* at once and again on
    every change to the publication of *config*: it builds the preview and shows it on
    the server, and returns the configuration it read (None when the build failed: the
    server then shows why, and keeps the last good build)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = build_once() or config
        for _ in watch(config, stop):
            config = build_once() or config
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
