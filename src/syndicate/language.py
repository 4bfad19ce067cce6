"""The language an article is written in, and the direction its text runs.

An article may say its language (front matter ``lang``, a BCP 47 tag such as ``ar``,
``pt-BR`` or ``sr-Latn``); without one it is in ``[site] language``.  Every output marks
what is not in the site's language: pages and emails by ``lang`` and ``dir``, feeds by
``xml:lang``, ``dc:language`` and JSON Feed's ``language``, Open Graph by ``og:locale``.

A tag is checked against the grammar of RFC 5646 and against CLDR (through Babel): its
language, script and region must be ones CLDR knows.  Its direction comes from CLDR too,
never from a list kept here: the script the tag names, or the one CLDR says its language
is most likely written in, and the character order CLDR gives the languages written in
that script (Arabic, Hebrew, Thaana, Syriac, N'Ko... right to left).

A piece of text may not run the way its language does: an Arabic title on an article in
English, an English one on an article in Arabic.  :func:`text_direction` decides by its
words, so that the page, the email and the card agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from .config import Config
    from .content.model import Article

Direction = Literal["ltr", "rtl"]

#: RFC 5646's ``langtag``: language (with up to three extended language subtags), script,
#: region, variants, extensions and a private-use part.  Grandfathered tags and tags that
#: are only private use are not taken: no output could say what they mean.
_TAG = re.compile(
    r"(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{5,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?)",
    re.IGNORECASE | re.ASCII,
)


class LanguageError(ValueError):
    """A value that is not a language tag; :attr:`reason` says why, without the value."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{_quoted(value)} is not a language tag ({reason})")
        self.reason = reason


def language_tag(value: str) -> str:
    """*value* as a language tag in its usual case (``pt-BR``, ``sr-Latn``, ``zh-Hant-TW``);
    :class:`LanguageError` when it is no BCP 47 tag, or CLDR does not know its language,
    script or region.  ``pt_BR``, written as a POSIX locale, is ``pt-BR``."""
    text = value.strip().replace("_", "-")
    found = _TAG.fullmatch(text)
    if found is None:
        raise LanguageError(value, 'BCP 47: "en", "ar", "pt-BR"...')
    language = found["language"].lower()
    script = found["script"].title() if found["script"] else None
    region = found["region"].upper() if found["region"] else None
    for subtag in language.split("-"):
        if not _known_language(subtag):
            named = _named(value)
            if named:
                raise LanguageError(value, f'the name of a language, whose tag is "{named}"')
            raise LanguageError(value, f"CLDR knows no language {_quoted(subtag)}")
    if script is not None and not _known_script(script):
        raise LanguageError(value, f"CLDR knows no script {_quoted(script)}")
    if region is not None and not _known_region(region):
        raise LanguageError(value, f"CLDR knows no region {_quoted(region)}")
    parts = [language, script, region, found["rest"].lower().lstrip("-") or None]
    return "-".join(part for part in parts if part)


def problem(value: str) -> str | None:
    """Why *value* is not a language tag, or None when it is one."""
    try:
        language_tag(value)
    except LanguageError as error:
        return error.reason
    return None


def same_language(one: str, other: str) -> bool:
    """Whether two tags are the same (tags ignore case)."""
    return one.lower() == other.lower()


@dataclass(frozen=True, slots=True)
class Written:
    """What a piece of text is written in, as a page or an email marks it."""

    #: Its language tag.
    lang: str
    #: The direction its language runs (``ltr`` or ``rtl``).
    dir: Direction

    def marks(self, within: Written) -> Markup:
        """The ``lang`` and ``dir`` attributes an element holding this text needs inside one
        written as *within* is: those that differ, with a space before each (or nothing)."""
        found = ""
        if not same_language(self.lang, within.lang):
            found += f' lang="{escape(self.lang)}"'
        if self.dir != within.dir:
            found += f' dir="{self.dir}"'
        return Markup(found)


def written(lang: str) -> Written:
    """Text in the language *lang*, in that language's direction."""
    return Written(lang, direction(lang))


def article_written(article: Article, config: Config) -> Written:
    """The language *article* is written in (its own, else the site's) and its direction."""
    return written(article.lang or config.site.language)


def title_written(article: Article, config: Config) -> Written:
    """*article*'s title: in its language, running the way most of its words do (an
    Arabic title on an article in English runs right to left)."""
    language = article_written(article, config)
    return Written(language.lang, text_direction(article.title, language.dir))


@lru_cache(maxsize=64)
def direction(tag: str) -> Direction:
    """``rtl`` for a language written right to left, else ``ltr``, as CLDR has it: the
    direction of the script *tag* names, or of the one its language is usually written
    in (``ar`` and ``az-Arab`` are ``rtl``; ``az`` and ``sd-Deva`` are ``ltr``).  A tag
    CLDR cannot tell about is ``ltr``."""
    found = _TAG.fullmatch(tag.replace("_", "-"))
    if found is None:
        return "ltr"
    language = found["language"].lower().split("-")[0]
    region = found["region"].upper() if found["region"] else None
    usual = _usual_script(language, region)
    script = found["script"].title() if found["script"] else usual
    if script == usual:
        order = _character_order(language)
        if order is not None:
            return order
    if script is None:
        return "ltr"
    return _script_direction(script) or "ltr"


def text_direction(text: str, default: Direction) -> Direction:
    """The direction *text* runs in, for an article whose language runs *default*: the
    other one when most of its words are written that way (an Arabic title on an article
    in English), else *default* (an Arabic title with "iPhone" in it on an article in
    Arabic stays right to left).  A word goes the way of its first letter that has a
    direction; a word without one (a number, a dash) counts for neither."""
    counts = {"ltr": 0, "rtl": 0}
    for word in text.split():
        for char in word:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                counts["ltr"] += 1
                break
            if kind in ("R", "AL"):
                counts["rtl"] += 1
                break
    other: Direction = "rtl" if default == "ltr" else "ltr"
    return other if counts[other] > counts[default] else default


# --- what CLDR knows ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _likely() -> dict[str, str]:
    from babel.core import get_global

    return dict(get_global("likely_subtags"))


@lru_cache(maxsize=1)
def _english() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The languages, scripts and regions CLDR names in English: those it knows that its
    likely subtags leave out (rarely needed: loading them takes longer than the rest)."""
    from babel import Locale

    english = Locale("en")
    return dict(english.languages), dict(english.scripts), dict(english.territories)


def _known_language(language: str) -> bool:
    return language in _likely() or language in _english()[0]


def _known_script(script: str) -> bool:
    return f"und_{script}" in _likely() or script in _english()[1]


def _known_region(region: str) -> bool:
    return f"und_{region}" in _likely() or region in _english()[2]


def _named(value: str) -> str | None:
    """The tag of the language whose English name *value* is ("Arabic": ``ar``)."""
    wanted = value.strip().casefold()
    return next((tag for tag, name in _english()[0].items() if name.casefold() == wanted), None)


def _usual_script(language: str, region: str | None) -> str | None:
    likely = _likely()
    found = (region and likely.get(f"{language}_{region}")) or likely.get(language)
    if not found:
        return None
    parts = found.split("_")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else None


@lru_cache(maxsize=16)
def _script_direction(script: str) -> Direction | None:
    """The character order of the languages CLDR knows written in *script*: the one it
    takes as the script's example first, else any other it has data for (N'Ko's example,
    Manding, has none; N'Ko itself has)."""
    likely = _likely()
    example = likely.get(f"und_{script}")
    candidates = [example] if example else []
    candidates += [
        key for key, value in likely.items() if "_" not in key and value.split("_")[1:2] == [script]
    ]
    for candidate in candidates:
        order = _character_order(candidate)
        if order is not None:
            return order
    return None


@lru_cache(maxsize=64)
def _character_order(identifier: str) -> Direction | None:
    from babel import Locale, UnknownLocaleError

    try:
        order = Locale.parse(identifier).character_order
    except (UnknownLocaleError, ValueError):
        return None
    return "rtl" if order == "right-to-left" else "ltr"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
