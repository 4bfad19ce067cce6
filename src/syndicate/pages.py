"""HTML pages of the public folder, rendered from overridable templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2

from .config import Config
from .errors import RenderError
from .feeds import FeedPlan, feed_links
from .templating import environment

if TYPE_CHECKING:
    from .pipeline import Publication

LATEST = 10


def render_template(config: Config, name: str, **context: object) -> str:
    """Render template *name*; a broken template is a :class:`RenderError` naming it."""
    try:
        return environment(config).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        where = error.filename or error.name or name
        raise RenderError(f"{where}:{error.lineno}: template error: {error.message}") from None
    except jinja2.TemplateError as error:
        raise RenderError(f"{name}: template error: {error.message}") from None


def render_pages(
    config: Config, plans: list[FeedPlan], publication: Publication
) -> dict[str, bytes]:
    """``index.html``: the publication's landing page, listing its feeds and latest articles."""
    latest = [
        {
            "title": article.title,
            "url": publication.urls[article.slug],
            "date": article.date.astimezone(config.site.timezone),
        }
        for article in publication.published[:LATEST]
    ]
    html = render_template(
        config,
        "site/index.html.j2",
        site=config.site,
        feeds=feed_links(config, plans),
        latest=latest,
    )
    return {"index.html": html.encode("utf-8")}
