"""Loading every article of a publication from its content folder: the files listed, and
what carries an article read on a worker's core back to this one.  The build engine
(:func:`~syndicate.engine.read_articles`) reads them, in parallel, each one taken from
the build cache when its file and reading settings are unchanged."""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import source_name
from ..config import Config
from ..errors import Diagnostic
from ..static import leads_inside, leaving_links
from .model import Article
from .records import with_path, without_path

if TYPE_CHECKING:  # only passed on, to the engine
    from ..cache import BuildCache


def article_paths(content_dir: Path, root: Path) -> Iterator[tuple[str, bool, str]]:
    """Every ``*.md`` below *content_dir*, in a stable order: its path as text, whether it
    is a symbolic link, and its :func:`source_name` below *root*; names starting with "."
    or "_" (editor files, Hugo's ``_index.md``) are skipped.  Text, not path objects: the
    helpers can start reading sooner (making a path object for every file takes time)."""
    folders = [str(content_dir)]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        prefix = "" if folder == str(root) else source_name(folder, root) + "/"
        below = []
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")):
                continue
            if entry.is_dir(follow_symlinks=False):  # as os.walk: links to folders are not entered
                below.append(entry.path)
            elif entry.is_dir():
                continue
            elif name.endswith(".md"):
                yield entry.path, entry.is_symlink(), prefix + name
        folders.extend(reversed(below))


def load_articles(
    config: Config,
    cache: BuildCache | None = None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[list[Article], list[Diagnostic]]:
    """Every article of the publication, with every problem found in any of them.

    With a *cache*, an article whose file, reading settings and static folder are
    unchanged since it was last read is taken from the cache instead of parsed again.
    The articles are read by the build engine (:func:`~syndicate.engine.read_articles`);
    *meanwhile* is called once it has started, so that the caller prepares what comes
    next while they are read.
    """
    if not config.content.dir.is_dir():
        where = config.content.dir
        return [], [Diagnostic.error(where, 0, "the content folder does not exist")]
    from ..engine import read_articles  # the engine loads the stages, not the other way

    return read_articles(config, cache, meanwhile)


def listed_articles(config: Config) -> list[tuple[str, str]]:
    """Every article file of the content folder (see :func:`article_paths`), as text, with
    its :func:`source_name`: those symbolic links that lead out of the folder left out
    (:func:`outside_links` reports them)."""
    return [
        (text, name)
        for text, link, name in article_paths(config.content.dir, config.root)
        if not link or leads_inside(text, config.content.dir)
    ]


def outside_links(config: Config) -> list[Diagnostic]:
    """The symbolic links that lead out of the content folder."""
    return list(leaving_links(config.content.dir, "the content folder"))


#: An article's fields, in the order ``Article()`` takes them.
_article_fields = operator.attrgetter(*(f.name for f in dataclasses.fields(Article)))


#: What a worker sends back of an article it read: the article's fields and the
#: diagnostics' lines, severities and messages without the file's path, which the main
#: process has (a path is much of the cost of carrying an article between processes).
Sent = tuple[tuple[Any, ...] | None, list[tuple[int, str, str]]]


def sendable(article: Article | None, found: list[Diagnostic]) -> Sent:
    """An article read and the problems found in its file, made cheap to send from a
    worker: taken apart, without the file's path (see :func:`received`)."""
    fields = None if article is None else _article_fields(article)[1:]
    return fields, without_path(found)


def received(path: Path, sent: Sent) -> tuple[Article | None, list[Diagnostic]]:
    """What :func:`sendable` made, for the file at *path*, as it was read."""
    fields, found = sent
    article = None if fields is None else Article(path, *fields)
    return article, with_path(path, found)


def collected(
    results: Iterable[tuple[Article | None, list[Diagnostic]]],
    diagnostics: list[Diagnostic],
    root: Path,
) -> tuple[list[Article], list[Diagnostic]]:
    """The articles of *results*, with *diagnostics*, every problem they found and the
    slugs given twice."""
    articles: list[Article] = []
    for article, found in results:
        diagnostics.extend(found)
        if article is not None:
            articles.append(article)
    diagnostics.extend(_duplicate_slugs(articles, root))
    return articles, diagnostics


def _duplicate_slugs(articles: list[Article], root: Path) -> Iterator[Diagnostic]:
    first: dict[str, Article] = {}
    for article in articles:
        other = first.setdefault(article.slug, article)
        if other is not article:
            yield Diagnostic.error(
                article.source,
                article.line("slug"),
                f'slug: "{article.slug}" is also the slug of '
                f"{source_name(other.source, root)}; "
                "give one of them another slug",
            )
