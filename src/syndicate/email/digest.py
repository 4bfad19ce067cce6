"""Which articles are due in the next email, and the digest's identity.

A digest covers the articles published since the last digest that was sent
(the state file records sent digests, and those still going out), newest
first, at most ``[email] max_articles``.  The first digest ever covers the newest
``max_articles`` (:func:`first_send` says so before it goes), unless a baseline
(``publish --baseline``) recorded the archive as mailed already: then it covers what
was published after it.  In "article" mode every due article is an email of its own.
Nothing here reads a clock or writes a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..config import EmailConfig
from ..content.model import Article
from ..state import State


@dataclass(frozen=True, slots=True)
class Digest:
    """One email's worth of articles: a digest, or a single article in "article" mode."""

    #: Stable: derived from the date and the ids of what it carries.
    id: str
    #: The newest article's publication date; the digest's date.
    date: datetime
    articles: tuple[Article, ...]
    #: True for a sent digest, False for the one due next.
    sent: bool


def digest_id(articles: Sequence[Article], ids: Mapping[str, str]) -> str:
    """``YYYY-MM-DD-<hash>``: the newest article's date and a hash of the article ids."""
    newest = max(articles, key=lambda a: a.date)
    digest = hashlib.sha256("\n".join(sorted(ids[a.slug] for a in articles)).encode("utf-8"))
    return f"{newest.date:%Y-%m-%d}-{digest.hexdigest()[:10]}"


def _make(articles: Sequence[Article], ids: Mapping[str, str], sent: bool) -> Digest:
    ordered = tuple(sorted(articles, key=lambda a: (-a.date.timestamp(), a.slug)))
    return Digest(digest_id(ordered, ids), ordered[0].date, ordered, sent)


def due(
    email: EmailConfig, published: Sequence[Article], ids: Mapping[str, str], state: State
) -> list[Digest]:
    """The emails due now: the open ones first (started and not finished, with the
    articles they started with), then at most one new digest, or one email per new
    article; maybe none.

    *published* is newest first.  "Since the last digest" means newer than the
    newest article any sent or open digest (or the baseline) carried, and not carried
    by one already, so an article backdated behind the last digest is not mailed out of
    order, and no article is ever in two digests.
    """
    resumed = _recorded(published, ids, state, open_ones=True)
    carried = state.mailed
    by_id = {ids[a.slug]: a for a in published}
    dates = [by_id[i].date for i in carried if i in by_id]
    cutoff = max(dates) if dates else None
    new = [
        a for a in published if ids[a.slug] not in carried and (cutoff is None or a.date > cutoff)
    ][: email.max_articles]
    if not new:
        return resumed
    if email.mode == "article":
        return [*resumed, *(_make([article], ids, sent=False) for article in new)]
    return [*resumed, _make(new, ids, sent=False)]


@dataclass(frozen=True, slots=True)
class FirstSend:
    """The first send of a publication that has sent nothing and taken no baseline."""

    #: Articles published in all.
    published: int
    #: Articles the first send carries: the newest ``max_articles`` of them.
    articles: int
    #: Emails it makes: one, or one per article in "article" mode.
    emails: int


def first_send(
    email: EmailConfig, published: Sequence[Article], ids: Mapping[str, str], state: State
) -> FirstSend | None:
    """What the very first send will carry; None once anything was sent (or a baseline
    taken), and while nothing is published."""
    if state.digests or state.baseline is not None:
        return None
    emails = due(email, published, ids, state)
    if not emails:
        return None
    return FirstSend(len(published), sum(len(d.articles) for d in emails), len(emails))


def sent_digests(
    published: Sequence[Article], ids: Mapping[str, str], state: State
) -> list[Digest]:
    """The digests already sent, as they read today (articles since removed are left out)."""
    return _recorded(published, ids, state, open_ones=False)


def _recorded(
    published: Sequence[Article], ids: Mapping[str, str], state: State, *, open_ones: bool
) -> list[Digest]:
    """The open (or the finished) digests of *state*, with the ids they went out with."""
    by_id = {ids[a.slug]: a for a in published}
    result = []
    for record in state.digests:
        if record.open != open_ones:
            continue
        articles = [by_id[i] for i in record.articles if i in by_id]
        if articles:
            digest = _make(articles, ids, sent=not record.open)
            # The id it was sent with, even if an article has since disappeared.
            result.append(Digest(record.id, digest.date, digest.articles, sent=not record.open))
    return result
