"""Each article's social files: ``social/<slug>.json`` (post texts and card metadata) and
``social/<slug>.png`` or ``.jpg`` (the card); the ``<meta>`` snippet ``social/<slug>.html`` is
:func:`syndicate.pages.render_meta_snippet`.

Each is made for one article alone, so that :mod:`syndicate.article_files` can make an
article's files together, on every core, and keep those that did not change.
"""

from __future__ import annotations

from typing import Any

from ..config import Config
from ..content.model import Article
from ..errors import RenderError
from ..jsontext import json_bytes
from ..language import article_written
from .card import CardInput
from .meta import card_metadata, card_path


def document_path(article: Article) -> str:
    """Where ``social/<slug>.json`` of *article* lives below the output folder."""
    return f"social/{article.slug}.json"


def _posts(config: Config, article: Article, url: str, summary: str) -> dict[str, Any]:
    # The counting rules (and the regex module) load only for a build that writes posts:
    # a build that keeps every social file needs none of them.
    from .text import compose

    social = config.social
    posts: dict[str, Any] = {}
    for platform in social.platforms:
        settings = social.platform(platform)
        post = compose(
            platform,
            title=article.title,
            summary=summary,
            url=url,
            categories=article.categories,
            hashtags=social.hashtags,
            suffix=settings.suffix,
            limit=settings.limit,
        )
        posts[platform] = post.as_dict()
        if platform == "bluesky":
            posts[platform]["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": url,
                    "title": article.title,
                    "description": summary,
                    "thumb": card_path(article),
                },
            }
    return posts


def card_input(config: Config, article: Article, date: str) -> CardInput:
    """What *article*'s card shows, *date* being its date written out."""
    image = article.image.source if article.image is not None else None
    return CardInput(
        site=config.site.title,
        title=article.title,
        author=", ".join(article.authors),
        date=date,
        image=image,
        direction=article_written(article, config).dir,
    )


def social_document(config: Config, article: Article, url: str, summary: str) -> bytes:
    """``social/<slug>.json``: *article*'s post texts for each platform, its card metadata
    and the address of its card."""
    try:
        posts = _posts(config, article, url, summary)
    except ValueError as error:
        raise RenderError(f"{article.source}: social posts: {error}") from None
    meta = card_metadata(config, article, url, summary)
    document = {
        "url": url,
        "posts": posts,
        "og": meta.og,
        "twitter": meta.twitter,
        "image": config.site.url + card_path(article),
    }
    return json_bytes(document)
