"""Open Graph and Twitter card metadata for an article, keyed by property name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..config import Config
from ..content.model import Article
from ..content.values import make_summary
from .card.model import CardFile, card_file

CARD_WIDTH, CARD_HEIGHT = 1200, 630
#: X shows at most this much of ``twitter:description`` (its card documentation's limit).
TWITTER_DESCRIPTION = 200


@dataclass(frozen=True, slots=True)
class CardMeta:
    #: Open Graph properties; a list where the property repeats (authors, tags).
    og: dict[str, str | list[str]]
    twitter: dict[str, str]


def card_path(article: Article) -> str:
    """The card image's path below the output folder: a JPEG for an article with a local
    image (a photo card), else a PNG."""
    return f"social/{article.slug}.{_card_file(article).extension}"


def _card_file(article: Article) -> CardFile:
    return card_file(article.image is not None and article.image.source is not None)


def card_metadata(config: Config, article: Article, url: str, summary: str) -> CardMeta:
    """The card a platform shows for *article* at *url*, pointing at its generated image."""
    site = config.site
    image = site.url + card_path(article)
    alt = f"{article.title}, from {site.title}"
    og: dict[str, str | list[str]] = {
        "og:type": "article",
        "og:title": article.title,
        "og:description": summary,
        "og:url": url,
        "og:site_name": site.title,
        "og:locale": og_locale(article.lang or site.language),
        "og:image": image,
        "og:image:type": _card_file(article).media_type,
        "og:image:width": str(CARD_WIDTH),
        "og:image:height": str(CARD_HEIGHT),
        "og:image:alt": alt,
        "article:published_time": article.date.astimezone(site.timezone).isoformat(),
        "article:modified_time": article.updated.astimezone(site.timezone).isoformat(),
        "article:author": list(article.authors),
        "article:tag": list(article.categories),
    }
    twitter = {
        "twitter:card": "summary_large_image",
        "twitter:title": article.title,
        "twitter:description": make_summary(summary, TWITTER_DESCRIPTION),
        "twitter:image": image,
        "twitter:image:alt": alt,
    }
    handle = config.social.platform("x").handle
    if handle:
        twitter["twitter:site"] = handle
    return CardMeta(og, twitter)


@lru_cache(maxsize=16)
def og_locale(language: str) -> str:
    """Open Graph's ``language_TERRITORY`` for a language tag: ``en`` is ``en_US``, ``ar``
    ``ar_EG``, ``pt-BR`` ``pt_BR``; the territory a tag leaves out is its most likely one
    (CLDR's likely subtags, through Babel).  A tag Babel does not know is kept as written."""
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global

    try:
        locale = Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return language.replace("-", "_")
    territory = locale.territory
    # Open Graph's territories are two letters: a region such as Latin America (419) is
    # not one, and the language's likely territory stands for it.
    if territory is None or not territory.isalpha():
        likely = get_global("likely_subtags")
        known = likely.get(f"{locale.language}_{locale.script}") if locale.script else None
        territory = (known or likely.get(locale.language, "")).rpartition("_")[2] or None
    return f"{locale.language}_{territory}" if territory else locale.language
