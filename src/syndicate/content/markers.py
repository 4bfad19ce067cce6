"""Whether an article is published: its markers (``draft``, ``status``, ``published``),
the articles a build publishes at a moment, and why the others are left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import show_path
from .model import Article
from .values import describe

#: What ``status:`` may say (Ghost's and WordPress's statuses), and whether it publishes
#: the article (at its date: ``scheduled`` and ``future`` wait for it, as every article
#: does) or keeps it out.
STATUSES = {
    "draft": False,
    "private": False,
    "pending": False,
    "published": True,
    "publish": True,
    "scheduled": True,
    "future": True,
}
#: The keys that say whether an article is published, in any case (Hugo reads ``Draft``).
MARKERS = frozenset({"draft", "published", "status"})
_YES = frozenset({"true", "yes", "on", "y"})
_NO = frozenset({"false", "no", "off", "n"})


def markers(data: Mapping[str, Any]) -> list[str]:
    """The keys of *data* that say whether the article is published, in their order."""
    return [key for key in data if isinstance(key, str) and key.casefold() in MARKERS]


def _flag(value: object) -> bool | None:
    """True or false, from YAML's or TOML's booleans or the same words as text; None for
    anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES or word in _NO:
            return word in _YES
    return None


def unpublished(
    data: Mapping[str, Any],
    fail: Callable[[str, str], None],
    warn: Callable[[str, str], None],
    line: Callable[[str, int], int],
) -> str | None:
    """What keeps an article with the front matter *data* unpublished (``status: draft``),
    or None.  Every way of saying it counts: ``draft: true``, ``published: false``, a
    ``status`` that keeps it out (:data:`STATUSES`); where they disagree, the one that
    keeps it out wins, with a warning.  A value that says neither, such as a status
    syndicate does not know, is an error: a draft must never go out because its marker
    was spelt another way.  *line* gives the line of a key; *fail* and *warn* take a key
    and a message."""
    said: list[tuple[str, bool, str]] = []  # key, whether it keeps the article out, as read
    for key in markers(data):
        value = data[key]
        if key.casefold() == "status":
            word = value.strip().lower() if isinstance(value, str) else None
            if word not in STATUSES:
                fail(
                    key,
                    f"{key}: {describe(value)} is not a status syndicate knows: draft, private "
                    "and pending keep an article out; published, publish, scheduled and future "
                    "publish it at its date",
                )
                continue
            said.append((key, not STATUSES[word], f"{key}: {word}"))
            continue
        flag = _flag(value)
        if flag is None:
            fail(key, f"{key}: must be true or false, not {describe(value)}")
            continue
        keeps_out = flag if key.casefold() == "draft" else not flag
        said.append((key, keeps_out, f"{key}: {str(flag).lower()}"))
    out = [item for item in said if item[1]]
    if not out:
        return None
    key, _, marker = min(out, key=lambda item: line(item[0], 1))
    for other, keeps_out, shown in said:
        if not keeps_out:
            warn(
                other,
                f"{shown} disagrees with {marker} (line {line(key, 1)}); the article stays a draft",
            )
    return marker


def select(articles: Iterable[Article], now: datetime) -> list[Article]:
    """The published articles, newest first: drafts and articles dated after *now* wait."""
    ready = [a for a in articles if a.draft is None and a.date <= now]
    return sorted(ready, key=lambda a: (-a.date.timestamp(), a.slug))


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An article that is not published, and why."""

    source: Path
    #: "draft" or "future".
    reason: str
    #: What says so: the draft's marker (``status: draft``), the future article's date.
    detail: str
    #: When the article is dated.
    date: datetime

    def format(self, relative_to: Path | None = None) -> str:
        """``content/x.md: draft (status: draft)``, the path as a diagnostic shows it."""
        return f"{show_path(self.source, relative_to)}: {self.reason} ({self.detail})"


def left_out(articles: Iterable[Article], now: datetime) -> list[LeftOut]:
    """The articles :func:`select` leaves out at *now*: those dated in the future first,
    the soonest first (they go out by themselves), then the drafts by file."""
    future: list[LeftOut] = []
    drafts: list[LeftOut] = []
    for article in articles:
        if article.draft is not None:
            drafts.append(LeftOut(article.source, "draft", article.draft, article.date))
        elif article.date > now:
            when = article.date.isoformat(sep=" ", timespec="minutes")
            future.append(LeftOut(article.source, "future", when, article.date))
    future.sort(key=lambda a: (a.date, str(a.source)))
    drafts.sort(key=lambda a: str(a.source))
    return future + drafts
