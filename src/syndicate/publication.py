"""The publication as read and checked: its configuration, its articles, those published
(newest first) with their permalinks and entry ids, and its state.  Nothing here renders
or writes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path

from .cache import BuildCache
from .config import Config, read_config
from .content.loader import load_articles
from .content.markers import select
from .content.model import Article
from .email.digest import Digest, due, sent_digests
from .errors import Diagnostic, has_errors, sort_key
from .state import State, assign_ids, read_state


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything read from the publication, checked, before anything is rendered."""

    config: Config
    articles: tuple[Article, ...]
    #: Published articles, newest first.
    published: tuple[Article, ...]
    #: Permalink and entry id of each published article, by slug.
    urls: Mapping[str, str] = field(compare=False)
    ids: Mapping[str, str] = field(compare=False)
    state: State
    #: The state as read from the state file (None when there is none).
    saved_state: State | None = None


@dataclass(frozen=True, slots=True)
class PreviewTarget:
    """What a build for ``syndicate preview`` does instead: it writes into *folder*, not
    ``feeds/``, with *url* (the preview server's) for ``[site] url``, shows drafts and
    articles dated in the future when asked, and remembers nothing: no state file is
    written, and its build cache is its own (below *folder*)."""

    folder: Path
    url: str
    drafts: bool = False
    future: bool = False

    @property
    def output(self) -> Path:
        return self.folder / "site"

    def configure(self, config: Config) -> Config:
        return replace(config, site=replace(config.site, url=self.url), output=self.output)

    def select(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        shown = [replace(a, draft=None) if self.drafts else a for a in articles]
        return select(shown, datetime.max.replace(tzinfo=now.tzinfo) if self.future else now)

    def previous(self) -> list[str]:
        """Every file of the last preview: all of them are the preview's own."""
        top = self.output
        return [p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()]


def permalink(config: Config, article: Article) -> str:
    """The absolute URL of *article*'s page, from ``[site] permalink``."""
    template = config.site.permalink
    if not _dated(template):
        # The usual "/posts/{slug}/": no date to turn into the site's zone.
        return config.site.url + template.format(slug=article.slug).lstrip("/")
    local = article.date.astimezone(config.site.timezone)
    path = template.format(
        slug=article.slug,
        year=f"{local.year:04d}",
        month=f"{local.month:02d}",
        day=f"{local.day:02d}",
    )
    return config.site.url + path.lstrip("/")


@lru_cache(maxsize=8)
def _dated(template: str) -> bool:
    """Whether a permalink template shows the article's date."""
    return any(field in template for field in ("{year", "{month", "{day"))


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Build many objects without the cycle collector scanning them again and again (it
    would take a fifth of a warm build of 10,000 articles): they form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # and never scan them later: they live until the build ends
        if enabled:
            gc.enable()


def load_publication(
    root: Path,
    now: datetime,
    cache: BuildCache | None = None,
    *,
    meanwhile: Callable[[Config], object] | None = None,
    preview: PreviewTarget | None = None,
    configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Publication | None, list[Diagnostic]]:
    """Read and check the whole publication; None with the diagnostics when it has errors.
    *meanwhile* is given the configuration to prepare what comes next while the helpers
    read the articles (see :func:`~syndicate.content.load_articles`).  *configured* is
    the configuration with what reading it found, when it was read already."""
    with no_cycle_collection():
        return _load_publication(root, now, cache, meanwhile, preview, configured)


def _load_publication(
    root: Path,
    now: datetime,
    cache: BuildCache | None,
    meanwhile: Callable[[Config], object] | None,
    preview: PreviewTarget | None = None,
    configured: tuple[Config, list[Diagnostic]] | None = None,
) -> tuple[Publication | None, list[Diagnostic]]:
    if configured is None:
        config, diagnostics = read_config(root)
    else:
        config, diagnostics = configured[0], list(configured[1])
    if config is None:
        return None, diagnostics
    if preview is not None:
        config = preview.configure(config)
    prepare = None if meanwhile is None else partial(meanwhile, config)
    articles, found = load_articles(config, cache, meanwhile=prepare)
    diagnostics += found
    saved, found = read_state(config.state_path)
    diagnostics += found
    published = select(articles, now) if preview is None else preview.select(articles, now)
    urls = {a.slug: permalink(config, a) for a in published}
    ids, state, found = assign_ids(config, published, urls, saved)
    diagnostics += found
    diagnostics.sort(key=sort_key)
    if has_errors(diagnostics):
        return None, diagnostics
    publication = Publication(
        config=config,
        articles=tuple(articles),
        published=tuple(published),
        urls=urls,
        ids=ids,
        state=state,
        saved_state=saved if config.state_path.is_file() else None,
    )
    return publication, diagnostics


def newsletter(publication: Publication) -> tuple[list[Digest], list[Digest]]:
    """The digests already sent and those due now (both empty without an [email] table)."""
    email = publication.config.email
    if email is None:
        return [], []
    published, ids, state = publication.published, publication.ids, publication.state
    return sent_digests(published, ids, state), due(email, published, ids, state)

