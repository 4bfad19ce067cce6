"""Each published article's own files: its page at its permalink (``[site] pages``) and,
with ``[social] platforms``, ``social/<slug>.json`` (post texts and card metadata),
``social/<slug>.html`` (the card's ``<meta>`` snippet) and ``social/<slug>.png`` or
``.jpg`` (the card).

:func:`article_files` names the files of an article, :func:`make` makes those a
:class:`Job` asks for, a plain function of its :class:`Context` and the job: the build
engine (:mod:`syndicate.engine`) decides which files to make, from their keys
(:class:`syndicate.cache.keys.ArticleKeys`), and runs the jobs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable
from typing import NamedTuple

import jinja2

from . import pages, templating
from .cache import content_hash
from .cache.keys import META_TEMPLATE, PAGE_TEMPLATE, FileKind
from .config import Config
from .content.model import Article
from .markdown import Rendered
from .social.card import CardInput, prepare, render_card
from .social.meta import card_path
from .social.outputs import document_path, social_document


def article_files(
    config: Config, article: Article, url: str, card: CardInput | None
) -> dict[str, FileKind]:
    """The article's files, each with what it is: "page", "meta", "social" or "card";
    *card* is what its card shows (None without ``[social] platforms``)."""
    found: dict[str, FileKind] = {}
    if config.site.pages:
        found[pages.page_path(config, url)] = "page"
    if card is not None:
        found[pages.meta_snippet_path(article)] = "meta"
        found[document_path(article)] = "social"
        found[card_path(article)] = "card"
    return found


class Context(NamedTuple):
    """What every job of a build needs: sent to each worker once."""

    config: Config
    #: Each category's feed, by its name.
    feeds: dict[str, str]
    days: pages.Days


class Job(NamedTuple):
    """The files of one article to make (its body when a page or a text needs it)."""

    article: Article
    url: str
    names: frozenset[str]
    body: Rendered | None
    #: What the card shows, when the job draws it.
    card: CardInput | None


class Made(NamedTuple):
    """The files of a :class:`Job`."""

    files: dict[str, bytes]
    #: What the card could not draw.
    problems: tuple[str, ...]
    #: Each file's SHA-256, for the cache (worked out here, on a worker's core).
    hashes: dict[str, str]


def make(context: Context, job: Job) -> Made:
    """The files *job* asks for."""
    config, article, url, body = context.config, job.article, job.url, job.body
    files: dict[str, bytes] = {}
    problems: tuple[str, ...] = ()
    for name in sorted(job.names):
        if name == card_path(article):
            assert job.card is not None
            files[name], layout = render_card(job.card, config.social.card)
            problems = layout.problems
            continue
        assert body is not None
        if name == pages.meta_snippet_path(article):
            files[name] = pages.render_meta_snippet(config, article, url, body.summary)
        elif name == document_path(article):
            files[name] = social_document(config, article, url, body.summary)
        else:
            files[name] = pages.render_article_page(
                config, article, url, body, context.feeds, context.days
            )
    return Made(files, problems, {name: content_hash(data) for name, data in files.items()})


def prepare_jobs(config: Config, jobs: Iterable[Job]) -> None:
    """Load the templates, the post texts' counting rules, fonts and card backdrop now:
    worker processes started afterwards with "fork" inherit them instead of each loading
    them again."""
    environment = templating.environment(config)
    for name in (PAGE_TEMPLATE, META_TEMPLATE):
        with contextlib.suppress(jinja2.TemplateError):  # rendering will say what is wrong
            environment.get_template(name)
    jobs = list(jobs)
    if any(document_path(job.article) in job.names for job in jobs):
        importlib.import_module(".social.text", __package__)
    if any(job.card is not None for job in jobs):
        prepare(config.social.card, config.site.title)

