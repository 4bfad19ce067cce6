"""A real headless Chromium for the tests: load a page offline, measure it, photograph it.

Debian's ``chromium`` (``scripts/ensure-chromium`` installs it), driven by Playwright through
``executable_path``: Playwright's own browser download cannot reach its servers from here.
One browser serves a whole test session; every page gets a new tab in one shared context.

Pages never touch the network.  Every request whose scheme is not ``file:``, ``data:`` or
``about:`` is aborted by a route and recorded in :attr:`Browser.blocked` (email HTML points
at https images, which must not be fetched), unless a *mirror* serves its URL from a local
folder: a built publication's own images then take their real size in the layout, where a
blocked one would shrink to a broken-image icon and could hide an overflow.  Behind that,
Chromium resolves no host name at all and sends anything that would still go out (a
``<link rel=preconnect>`` opens a socket without a request that a route could see) to a
closed port on loopback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

T = TypeVar("T")

#: The height of the viewport: a tall phone, a short laptop.
HEIGHT = 900

#: Schemes a page may load from; every other request is aborted.
LOCAL_SCHEMES = frozenset({"file", "data", "about"})

#: Playwright already starts Chromium ``--headless --no-sandbox`` with a new empty
#: ``--user-data-dir`` and most of the quiet flags; these are the project's standard ones,
#: repeated so that the list does not depend on Playwright's defaults.
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    # Nothing resolves, so nothing that escapes the route can reach a host by name...
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    # ...nor by address: what is left goes to the discard port on loopback, where nothing
    # listens.  file: and data: never go through a proxy.
    "--proxy-server=http://127.0.0.1:9",
)


class BrowserMissing(RuntimeError):
    """Chromium is not installed."""


def chromium() -> str:
    """The path of Debian's Chromium (or of the browser the ``CHROMIUM`` variable names,
    such as the Google Chrome of a GitHub runner), or :class:`BrowserMissing`."""
    found = shutil.which(os.environ.get("CHROMIUM") or "chromium")
    if found is None:
        raise BrowserMissing(
            "chromium is not on PATH: run scripts/ensure-chromium (make test does), "
            "or apt-get install chromium"
        )
    return found


class Browser:
    """One headless Chromium; pages are loaded offline at a given viewport width."""

    def __init__(self, context: BrowserContext) -> None:
        self._context = context
        #: Every URL a page asked for and was refused, since the browser started.
        self.blocked: list[str] = []
        context.route("**/*", self._route)
        self._scripted: BrowserContext | None = None

    @classmethod
    @contextmanager
    def launch(cls, executable: str | None = None) -> Iterator[Browser]:
        """Start Chromium (Debian's, unless *executable* says otherwise) for a ``with`` block.

        Chromium's home is a temporary folder too, so that its crash database and dconf
        cache are not left in the user's home.
        """
        executable = executable or chromium()
        with tempfile.TemporaryDirectory(prefix="syndicate-chromium-") as home:
            env: dict[str, str | float | bool] = {
                **os.environ,
                "HOME": home,
                "XDG_CONFIG_HOME": f"{home}/.config",
                "XDG_CACHE_HOME": f"{home}/.cache",
            }
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, args=list(ARGS), env=env
                )
                try:
                    # Mail clients run no scripts, so neither do we; service workers could
                    # fetch behind the route's back.
                    context = browser.new_context(
                        java_script_enabled=False, service_workers="block"
                    )
                    context.set_default_timeout(15_000)
                    yield cls(context)
                finally:
                    browser.close()

    @property
    def version(self) -> str:
        """Chromium's version, such as ``156.0.8078.79``."""
        browser = self._context.browser
        return browser.version if browser is not None else "unknown"

    def scroll_width(
        self,
        html: str | Path,
        width: int,
        *,
        mirror: Mapping[str, Path] | None = None,
        screenshot: Path | None = None,
    ) -> int:
        """``document.documentElement.scrollWidth`` of *html* at a viewport *width* pixels
        wide: more than *width* means the reader scrolls sideways.

        *html* is markup (loaded as ``about:blank``), or a file (loaded by its ``file:`` URL,
        so that its relative links resolve).  *mirror* maps URL prefixes to local folders
        that answer for them, such as ``{"https://example.org/": root / "feeds"}``.  With
        *screenshot*, the same load is also saved there as a PNG (see :meth:`screenshot`).
        """
        with self._page(html, width, mirror) as page:
            value = page.evaluate("document.documentElement.scrollWidth")
            if screenshot is not None:
                _photograph(page, screenshot)
        assert isinstance(value, int)
        return value

    def clipped(
        self, html: str | Path, width: int, *, mirror: Mapping[str, Path] | None = None
    ) -> list[str]:
        """Elements of *html* that reach past the right edge of a viewport *width* pixels wide,
        other than inside a box that scrolls sideways on its own (a wide table in a scroller).

        ``scrollWidth`` misses content that a parent with ``overflow: hidden`` cuts off (MJML
        gives rounded sections one), which the reader can neither see nor scroll to.
        """
        with self._page(html, width, mirror) as page:
            found = page.evaluate(_CLIPPED, width)
        assert isinstance(found, list)
        return [str(item) for item in found]

    def screenshot(
        self,
        html: str | Path,
        width: int,
        path: Path,
        *,
        mirror: Mapping[str, Path] | None = None,
    ) -> Path:
        """A PNG of the whole of *html* at a viewport *width* pixels wide, written to *path*
        (its folder is made); anything wider than the viewport is in the picture.  *html* and
        *mirror* are as for :meth:`scroll_width`."""
        with self._page(html, width, mirror) as page:
            _photograph(page, path)
        return path

    def run_script(
        self,
        html: str | Path,
        width: int,
        library: str,
        expression: str,
        *,
        mirror: Mapping[str, Path] | None = None,
        color_schemes: Sequence[Literal["light", "dark"]] = ("light",),
    ) -> list[Any]:
        """The value of the JavaScript *expression* (awaited, if it is a promise) in *html*
        loaded at a viewport *width* pixels wide, with the script *library* (such as
        axe-core) run in the page before its own content: one value for each of
        *color_schemes*, the page switched from one to the next without loading it again.

        Pages load without JavaScript everywhere else, as mail clients show them; a checker
        such as axe-core needs it, so these pages load in a second context that has it (the
        same offline routes apply).  The pages syndicate writes carry no script of their own.
        """
        if self._scripted is None:
            browser = self._context.browser
            assert browser is not None
            self._scripted = browser.new_context(service_workers="block")
            self._scripted.set_default_timeout(15_000)
            self._scripted.route("**/*", self._route)
        values = []
        with self._page(html, width, mirror, self._scripted, library) as page:
            for scheme in color_schemes:
                page.emulate_media(color_scheme=scheme)
                values.append(page.evaluate(expression))
        return values

    @contextmanager
    def _page(
        self,
        html: str | Path,
        width: int,
        mirror: Mapping[str, Path] | None,
        context: BrowserContext | None = None,
        library: str | None = None,
    ) -> Iterator[Page]:
        page = (context or self._context).new_page()
        try:
            if library is not None:
                page.add_init_script(script=library)
            if mirror:
                # A page's routes come before the context's, which blocks what they pass on.
                page.route("**/*", lambda route: _serve(route, mirror))
            page.set_viewport_size({"width": width, "height": HEIGHT})
            if isinstance(html, Path):
                page.goto(html.resolve().as_uri(), wait_until="load")
            else:
                page.set_content(html, wait_until="load")
            yield page
        finally:
            page.close()

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


def _serve(route: Route, mirror: Mapping[str, Path]) -> None:
    """Answer *route* from the folder whose URL prefix it starts with, if that has the file."""
    url = urlsplit(route.request.url)._replace(query="", fragment="").geturl()
    for prefix, folder in mirror.items():
        if not url.startswith(prefix):
            continue
        path = (folder / unquote(url.removeprefix(prefix))).resolve()
        if path.is_dir():
            path = path / "index.html"
        if path.is_file() and path.is_relative_to(folder.resolve()):
            route.fulfill(path=path)
            return
    route.fallback()


def _photograph(page: Page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)


# Leaves first: an element past the edge whose children are all inside is the one to name.
_CLIPPED = """(width) => {
  const scrolls = (el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll'].includes(style.overflowX) && el.clientWidth <= width;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    if ([...el.children].some((c) => c.getBoundingClientRect().right > width + 1)) continue;
    let parent = el.parentElement, inScroller = false;
    while (parent && !inScroller) {
      inScroller = scrolls(parent);
      parent = parent.parentElement;
    }
    if (!inScroller) out.push(`${el.tagName.toLowerCase()} ends at ${Math.round(box.right)}px`);
  }
  return out;
}"""


def in_a_thread(work: Callable[[], T]) -> T:
    """``work()`` in a new thread, its result or its exception handed back: asyncio.run()
    and Playwright's synchronous API both refuse a thread whose event loop another test's
    browser (the session's :class:`Browser`) keeps running."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
