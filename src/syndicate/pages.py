"""HTML pages of the public folder, rendered from overridable templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Config
from .email.render import format_date
from .feeds import FeedPlan, feed_links
from .templating import render_template

if TYPE_CHECKING:
    from .email.render import RenderedDigest
    from .pipeline import Publication

LATEST = 10


def render_pages(
    config: Config,
    plans: list[FeedPlan],
    publication: Publication,
    emails: Sequence[RenderedDigest] = (),
) -> dict[str, bytes]:
    """``index.html``, the landing page listing the feeds, the latest articles and the
    newsletter; with a newsletter, ``digests/index.html``, the archive of its issues."""
    latest = [
        {
            "title": article.title,
            "url": publication.urls[article.slug],
            "date": article.date.astimezone(config.site.timezone),
        }
        for article in publication.published[:LATEST]
    ]
    issues = [
        {
            "title": rendered.subject,
            "url": rendered.web_url,
            "date": format_date(rendered.digest.date, config),
            "date_iso": rendered.digest.date.astimezone(config.site.timezone).isoformat(),
            "articles": len(rendered.digest.articles),
            "sent": rendered.digest.sent,
        }
        for rendered in sorted(emails, key=lambda r: (r.digest.date, r.digest.id), reverse=True)
    ]
    context = {
        "site": config.site,
        "feeds": feed_links(config, plans),
        "latest": latest,
        "newsletter": config.email is not None,
        "issues": issues,
    }
    files = {"index.html": render_template(config, "site/index.html.j2", **context)}
    if config.email is not None:
        files["digests/index.html"] = render_template(config, "site/digests.html.j2", **context)
    return {name: html.encode("utf-8") for name, html in files.items()}
