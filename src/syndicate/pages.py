"""HTML pages of the public folder, rendered from overridable templates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .config import Config
from .content.model import Article
from .content.values import category_slug
from .feeds import FeedPlan, feed_links
from .language import article_written, title_written, written
from .markdown import Rendered
from .social.meta import card_metadata
from .templating import render_template

if TYPE_CHECKING:
    from .email.render import Item, RenderedDigest
    from .publication import Publication

LATEST = 10
#: The template of the landing page, ``index.html``.
LANDING = "site/index.html.j2"


def render_pages(
    config: Config,
    plans: list[FeedPlan],
    publication: Publication,
    emails: Sequence[RenderedDigest] = (),
) -> dict[str, bytes]:
    """``index.html``, the landing page listing the feeds, the latest articles and the
    newsletter; with a newsletter, ``digests/index.html``, the archive of its issues."""
    site = written(config.site.language)
    latest = [
        {
            "title": article.title,
            "url": publication.urls[article.slug],
            "date": article.date.astimezone(config.site.timezone),
            "date_iso": machine_date(article.date, config),
            # An Arabic title in an English list: marked, and kept apart from the date.
            "marks": title_written(article, config).marks(site),
        }
        for article in publication.published[:LATEST]
    ]
    issues = [
        {
            "title": rendered.subject,
            "url": rendered.web_url,
            "date": _format_date(rendered.digest.date, config),
            "date_iso": machine_date(rendered.digest.date, config),
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
    landing = {**context, "signup": signup_form(config, config.site.url)}
    files = {"index.html": render_template(config, LANDING, **landing)}
    if config.email is not None:
        files["digests/index.html"] = render_template(config, "site/digests.html.j2", **context)
    return {name: html.encode("utf-8") for name, html in files.items()}


def signup_form(config: Config, page: str) -> dict[str, str] | None:
    """What the sign-up form of the page at *page* needs (``site/signup.html.j2``): where it
    posts, the list service's ``/subscribe``, and the page, for the proof of consent; None
    without ``[subscribers] url``, and then no page carries a form."""
    if config.subscribers is None:
        return None
    return {"action": f"{config.subscribers.url}subscribe", "source": page}


def machine_date(moment: datetime, config: Config) -> str:
    """*moment* in the site's timezone as a ``<time datetime>`` value: to the second, since
    HTML allows at most three digits of a fraction and a reader needs none."""
    return moment.astimezone(config.site.timezone).isoformat(timespec="seconds")


def _format_date(moment: datetime, config: Config, language: str | None = None) -> str:
    # The email package loads only for a build with dates to write (pages or a newsletter).
    from .email.render import format_date

    return format_date(moment, config, language)


def page_path(config: Config, url: str) -> str:
    """Where the page served at *url* lives below the output folder."""
    relative = url.removeprefix(config.site.url)
    return relative + "index.html" if relative.endswith("/") or not relative else relative


class Days:
    """Dates written out, each day once in each language (the site's unless another is
    given): formatting one takes longer than rendering the rest of a page, and a
    publication's articles share days."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.written: dict[tuple[date, str | None], str] = {}

    def __call__(self, moment: datetime, language: str | None = None) -> str:
        day = (moment.astimezone(self.config.site.timezone).date(), language)
        found = self.written.get(day)
        if found is None:
            found = self.written[day] = _format_date(moment, self.config, language)
        return found


def category_feeds(config: Config, articles: Sequence[Article]) -> dict[str, str]:
    """The RSS feed of each category of *articles*, by the category's name (a name that
    makes no slug has no feed)."""
    feeds: dict[str, str] = {}
    for name in dict.fromkeys(n for article in articles for n in article.categories):
        if category_slug(name):
            feeds[name] = f"{config.site.url}categories/{category_slug(name)}/rss.xml"
    return feeds


def render_article_page(
    config: Config,
    article: Article,
    url: str,
    body: Rendered,
    feeds: Mapping[str, str],
    days: Callable[[datetime, str | None], str],
) -> bytes:
    """The page of *article* at *url*, with its card metadata in the head; *feeds* are the
    category feeds (:func:`category_feeds`), *days* writes a date out."""
    site = config.site
    meta = card_metadata(config, article, url, body.summary)
    categories = [
        {"name": name, "rss": feeds[name]} for name in article.categories if name in feeds
    ]
    updated = article.updated if article.updated != article.date else None
    language = article_written(article, config)
    html = render_template(
        config,
        "site/article.html.j2",
        site=site,
        article=article,
        url=url,
        summary=body.summary,
        html=Markup(body.html),  # sanitised and repaired in markdown.render
        og=meta.og,
        twitter=meta.twitter,
        categories=categories,
        # The article's words in its language and direction, the site's in the site's.
        lang=language.lang,
        dir=language.dir,
        title_dir=title_written(article, config).dir,
        site_marks=written(site.language).marks(language),
        published=days(article.date, article.lang),
        published_iso=machine_date(article.date, config),
        updated=days(updated, article.lang) if updated else None,
        updated_iso=machine_date(updated, config) if updated else None,
        signup=signup_form(config, url),
    )
    return html.encode("utf-8")


def meta_snippet_path(article: Article) -> str:
    """Where the ``<meta>`` snippet of *article*'s card lives below the output folder."""
    return f"social/{article.slug}.html"


def render_meta_snippet(config: Config, article: Article, url: str, summary: str) -> bytes:
    """*article*'s card ``<meta>`` tags, for a site template to include, after the
    declaration of their character set (a file read on its own would be guessed at)."""
    meta = card_metadata(config, article, url, summary)
    html = render_template(config, "social/snippet.html.j2", og=meta.og, twitter=meta.twitter)
    return html.encode("utf-8")


def render_digest_page(config: Config, context: Mapping[str, Any], items: Sequence[Item]) -> str:
    """The web version of a newsletter issue: a page of the site (``site/digest.html.j2``)
    with the email's articles, not the email's own markup, which is written for mail
    clients (Outlook's conditional comments and VML, layout tables).  *context* is the
    email templates' (site, subject, digest, email, mode...)."""
    shown = [
        {
            "title": item.title,
            "url": item.url,
            "summary": item.summary,
            "byline": item.byline,
            "date": item.date,
            "date_iso": item.date_iso,
            "image": item.image,
            "html": Markup(item.html) if item.html is not None else None,
            "lang": item.lang,
            "dir": item.dir,
            "title_dir": item.title_dir,
        }
        for item in items
    ]
    return render_template(config, "site/digest.html.j2", **{**context, "items": shown})
