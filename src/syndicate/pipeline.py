"""The pipeline: load, select, render, write.

``load_publication`` reads and checks everything (config, articles, state) and
returns every problem at once; ``render_outputs`` is pure and returns the
bytes of every output; ``write_outputs`` is the one step that touches
``feeds/`` and the state file.  ``build`` runs them in order and writes
nothing when any check fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from . import feeds, markdown, pages
from .config import Config, load_config, read_config
from .content import Article, load_articles, outside_links, select
from .delivery.journal import publication_lock
from .delivery.send import Delivery, Progress, deliver
from .email.digest import Digest, due, sent_digests
from .email.render import RenderedDigest, email_pictures, format_date, render_digest
from .errors import ContentError, Diagnostic, OutputError, RenderError, has_errors, sort_key
from .output import WriteResult, atomic_write, write_files
from .social.outputs import save_keys, social_files
from .state import State, assign_ids, read_state
from .workers import parallel_map


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


@dataclass(frozen=True, slots=True)
class Report:
    """What a check or a build found and did."""

    diagnostics: tuple[Diagnostic, ...]
    articles: int = 0
    published: int = 0
    feeds: int = 0
    written: tuple[str, ...] = ()
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    seconds: float = 0.0
    #: Every email of the newsletter, rendered: those sent, then those due now.
    emails: tuple[RenderedDigest, ...] = ()
    #: Whether the publication has a newsletter at all.
    newsletter: bool = False
    #: Card images rendered; unchanged ones are kept as they were.
    cards: int = 0
    #: Entry id of every published article, by slug.
    article_ids: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def due(self) -> tuple[RenderedDigest, ...]:
        """The emails due now (none when nothing is new since the last one)."""
        return tuple(e for e in self.emails if not e.digest.sent)

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


def permalink(config: Config, article: Article) -> str:
    """The absolute URL of *article*'s page, from ``[site] permalink``."""
    local = article.date.astimezone(config.site.timezone)
    path = config.site.permalink.format(
        slug=article.slug, year=f"{local:%Y}", month=f"{local:%m}", day=f"{local:%d}"
    )
    return config.site.url + path.lstrip("/")


def load_publication(root: Path, now: datetime) -> tuple[Publication | None, list[Diagnostic]]:
    """Read and check the whole publication; None with the diagnostics when it has errors."""
    config, diagnostics = read_config(root)
    if config is None:
        return None, diagnostics
    articles, found = load_articles(config)
    diagnostics += found
    state, found = read_state(config.state_path)
    diagnostics += found
    published = select(articles, now)
    urls = {a.slug: permalink(config, a) for a in published}
    ids, state, found = assign_ids(config, published, urls, state)
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
    )
    return publication, diagnostics


def check(root: Path, now: datetime) -> Report:
    """Validate the config and every article; write nothing."""
    publication, diagnostics = load_publication(root, now)
    if publication is None:
        return Report(tuple(diagnostics))
    return Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
    )


def render_bodies(
    publication: Publication, articles: Iterable[Article]
) -> dict[str, markdown.Rendered]:
    """Render the Markdown of *articles*, once each, on every core when there are many.

    Only articles some output shows are rendered: feeds show ``feeds.limit``
    entries each, and the newsletter its newest articles.
    """
    links = {a.source.resolve(): publication.urls[a.slug] for a in publication.published}
    shown = list({a.slug: a for a in articles}.values())
    jobs = [(article, publication.urls[article.slug]) for article in shown]
    site_url = publication.config.site.url
    bodies = parallel_map(partial(_render, site_url=site_url, links=links), jobs)
    return {article.slug: body for article, body in zip(shown, bodies, strict=True)}


def _render(
    job: tuple[Article, str], site_url: str, links: Mapping[Path, str]
) -> markdown.Rendered:
    article, url = job
    return markdown.render(article, url, site_url, links)


@dataclass(frozen=True, slots=True)
class Outputs:
    """What a build renders, before anything is written."""

    #: Every file of the output folder, keyed by its path there.
    files: dict[str, bytes]
    #: Every email: those sent (re-rendered for their pages), then those due now.
    emails: tuple[RenderedDigest, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: Card images rendered (the others were unchanged since the last build).
    cards: int = 0
    #: What each card shows, to remember once the cards are written.
    card_keys: dict[str, str] = field(default_factory=dict)


def newsletter(publication: Publication) -> tuple[list[Digest], list[Digest]]:
    """The digests already sent and those due now (both empty without an [email] table)."""
    email = publication.config.email
    if email is None:
        return [], []
    published, ids, state = publication.published, publication.ids, publication.state
    return sent_digests(published, ids, state), due(email, published, ids, state)


def render_outputs(publication: Publication) -> Outputs:
    """Render every output.  Pure: reads templates and images, writes nothing."""
    config = publication.config
    plans = feeds.plan_feeds(config, list(publication.published))
    sent, pending = newsletter(publication)
    in_emails = [a for digest in (*sent, *pending) for a in digest.articles]
    # Pages and cards show every article; feeds and emails only their newest.
    shown = (
        list(publication.published)
        if config.site.pages or config.social.platforms
        else [a for p in plans for a in p.articles]
    )
    bodies = render_bodies(publication, [*shown, *in_emails])
    files: dict[str, bytes] = {}
    for plan in plans:
        entries = [
            feeds.Entry(
                article=article,
                id=publication.ids[article.slug],
                url=publication.urls[article.slug],
                summary=bodies[article.slug].summary,
                html=bodies[article.slug].html if config.feeds.full_content else None,
            )
            for article in plan.articles
        ]
        feed = feeds.Feed(plan.folder, plan.title, plan.description, plan.category, tuple(entries))
        files.update(feeds.render_feed(feed, config))
    diagnostics: list[Diagnostic] = []
    pictures = email_pictures(config, in_emails)
    files.update(pictures.files)
    diagnostics.extend(pictures.diagnostics)
    emails = [
        render_digest(config, d, publication.urls, bodies, pictures.images)
        for d in (*sent, *pending)
    ]
    for rendered in emails:
        files[f"digests/{rendered.digest.id}/index.html"] = rendered.web.encode("utf-8")
        diagnostics.extend(rendered.diagnostics)
    files.update(pages.render_pages(config, plans, publication, emails))
    if config.site.pages:
        for name, data in pages.render_article_pages(config, publication, bodies).items():
            if name in files:
                raise RenderError(
                    f"{config.path}: site.permalink puts an article page at {name}, "
                    "where syndicate writes another file; change the permalink or the slug"
                )
            files[name] = data
    cards, card_keys = 0, {}
    if config.social.platforms:
        files.update(pages.render_meta_snippets(config, publication, bodies))
        dates = {a.slug: format_date(a.date, config) for a in publication.published}
        social = social_files(config, publication.published, publication.urls, bodies, dates)
        files.update(social.files)
        diagnostics.extend(social.diagnostics)
        cards, card_keys = social.rendered, social.keys
    return Outputs(files, tuple(emails), tuple(diagnostics), cards, card_keys)


def static_files(config: Config) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The files of the static folder, served at the site root."""
    folder = config.site.static
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    if not folder.is_dir():
        return files, diagnostics
    root = config.root.resolve()
    diagnostics.extend(outside_links(folder, config.root))
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(parent, name)
            if name.startswith(".") or (
                path.is_symlink() and not path.resolve().is_relative_to(root)
            ):
                continue
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files, diagnostics


def build(root: Path, now: datetime, *, strict: bool = False, dry_run: bool = False) -> Report:
    """Check the publication and, when it has no errors, write its outputs.

    With *strict*, warnings count as errors.  Nothing is written when the
    check fails: the previous output stays exactly as it was.  With *dry_run*,
    nothing is written at all and the report says what would have been.
    """
    started = time.perf_counter()
    publication, diagnostics = load_publication(root, now)
    if publication is None or has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    config = publication.config
    outputs = render_outputs(publication)
    files = outputs.files
    diagnostics += outputs.diagnostics
    static, found = static_files(config)
    diagnostics += found
    for name in sorted(static.keys() & files.keys()):
        diagnostics.append(
            Diagnostic.error(
                config.site.static / name, 0, "has the name of a generated file; rename it"
            )
        )
    if has_errors(diagnostics, strict=strict):
        raise ContentError("the publication has errors", diagnostics)
    files.update(static)
    result: WriteResult = write_files(
        config.output_dir, files, publication.state.outputs, dry_run=dry_run
    )
    state = replace(publication.state, outputs=tuple(sorted(files)))
    try:
        saved = config.state_path.read_bytes()
    except OSError:
        saved = b""
    data = state.to_json()
    if not dry_run and outputs.card_keys:
        save_keys(config.root, outputs.card_keys)
    if saved != data and not dry_run:
        try:
            atomic_write(config.state_path, data)
        except OSError as error:
            raise OutputError(f"cannot write {config.state_path}: {error.strerror}") from error
    return Report(
        tuple(diagnostics),
        articles=len(publication.articles),
        published=len(publication.published),
        feeds=sum(name.endswith(feeds.RSS) for name in files),
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=time.perf_counter() - started,
        emails=outputs.emails,
        cards=outputs.cards,
        newsletter=config.email is not None,
        article_ids=publication.ids,
    )


def publish(
    root: Path,
    now: datetime,
    *,
    environ: Mapping[str, str],
    strict: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Report, Delivery]:
    """Build, then deliver the emails that are due, holding the publication's lock so
    that two publishes at once can never both send.

    *environ* holds the secrets (SYNDICATE_SECRET, SYNDICATE_SMTP_PASSWORD...) and
    may name the subscriber list (SYNDICATE_SUBSCRIBERS).
    """
    with publication_lock(root.resolve()):
        report = build(root, now, strict=strict, dry_run=dry_run)
        config = load_config(root)
        delivery = deliver(
            config,
            report.due,
            report.article_ids,
            now=now,
            environ=environ,
            dry_run=dry_run,
            progress=progress,
            sleep=sleep,
        )
        if (
            not dry_run
            and any(o.complete for o in delivery.outcomes)
            and config.email
            and (config.email.smtp is not None)
        ):
            # The archive page and the state now show the email as sent.
            report = replace(build(root, now, strict=strict), emails=report.emails)
    return report, delivery
