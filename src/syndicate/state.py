"""What a publication remembers between runs, in ``.syndicate/state.json``.

Feed readers treat a changed entry id as a new article, so an id, once
published, must never change.  The state keeps, for every article ever
published, its id with what identifies the article: its source file, title,
date and permalink.  It is committed with the publication, holds no personal
data, and is written atomically, in one place (:class:`StateFile`): a build hands
it what it made, delivery what it sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .cache import source_name
from .config import Config
from .content.model import Article
from .errors import Diagnostic
from .jsontext import json_indented, json_string
from .nfc import nfc
from .output import atomic_write

STATE_VERSION = 1
#: The version of a state that holds a baseline.  A syndicate that knows no baseline would
#: read the state without it and mail the whole archive: it refuses a version it does not
#: know instead.  A state without one stays at version 1, which every version reads.
BASELINE_VERSION = 2


@dataclass(frozen=True, slots=True)
class Record:
    """One article that has been published."""

    id: str
    #: Source file, relative to the publication root, with "/" separators.
    source: str
    title: str
    #: Publication date, ISO 8601 in UTC.
    date: str
    url: str
    #: The article is no longer published (deleted, or a draft again); its id stays taken.
    gone: bool = False

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "url": self.url,
        }
        if self.gone:
            document["gone"] = True
        return document


@dataclass(frozen=True, slots=True)
class DigestRecord:
    """One digest (or single-article email) that has been sent, or has started going out."""

    id: str
    #: Ids of the articles it carried, newest first.
    articles: tuple[str, ...]
    #: When it was sent (when its sending started), ISO 8601 in UTC.
    sent: str
    #: Some readers are still to be reached: a send that was interrupted, or readers whose
    #: server said "not now".  An open digest is finished, with the same articles, before
    #: any newer one starts, and its articles are never put in another digest.
    open: bool = False

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "id": self.id,
            "articles": list(self.articles),
            "sent": self.sent,
        }
        if self.open:
            document["open"] = True
        return document


@dataclass(frozen=True, slots=True)
class Baseline:
    """Articles recorded as already mailed though no email carried them (``syndicate
    publish --baseline``): a publication that moves to syndicate with years of articles
    mails only what is published after them."""

    #: Their ids, sorted.
    articles: tuple[str, ...]
    #: When the last of them were recorded, ISO 8601 in UTC.
    at: str

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "articles": list(self.articles)}


@dataclass(frozen=True, slots=True)
class State:
    records: tuple[Record, ...] = ()
    #: Files written in the output folder by the last build, so stale ones can go.
    outputs: tuple[str, ...] = ()
    #: Digests sent so far, oldest first.
    digests: tuple[DigestRecord, ...] = ()
    baseline: Baseline | None = None

    @property
    def mailed(self) -> frozenset[str]:
        """The ids of the articles mailed already (or going out): those every sent or open
        digest carried, and the baseline's."""
        carried = {article_id for record in self.digests for article_id in record.articles}
        if self.baseline is not None:
            carried.update(self.baseline.articles)
        return frozenset(carried)

    def baselined(self, articles: Iterable[str], when: datetime) -> State:
        """This state with *articles* recorded as already mailed, at *when*, unless they are
        recorded so already: then this very state (a baseline taken twice is one).

        Raises :class:`ValueError` while a digest is open: its readers must get it first,
        and what it carries is settled already.
        """
        going = [record.id for record in self.digests if record.open]
        if going:
            raise ValueError(f"digest {going[0]} is still going out")
        known = self.baseline.articles if self.baseline is not None else ()
        every = set(known) | set(articles)
        if len(every) == len(known):
            return self
        stamp = when.astimezone(UTC).isoformat()
        return replace(self, baseline=Baseline(tuple(sorted(every)), stamp))

    def started(self, digest_id: str, articles: Iterable[str], when: datetime) -> State:
        """This state with the digest *digest_id* recorded as going out from *when* (open),
        unless it is recorded already."""
        if any(record.id == digest_id for record in self.digests):
            return self
        stamp = when.astimezone(UTC).isoformat()
        record = DigestRecord(digest_id, tuple(articles), stamp, open=True)
        return replace(self, digests=(*self.digests, record))

    def sent(self, digest_id: str, articles: Iterable[str], when: datetime) -> State:
        """This state with the digest *digest_id* recorded as sent: an open record is
        closed (keeping the moment it started), or a new one is added for *when*."""
        if any(record.id == digest_id for record in self.digests):
            digests = tuple(
                replace(record, open=False) if record.id == digest_id else record
                for record in self.digests
            )
            return replace(self, digests=digests)
        record = DigestRecord(digest_id, tuple(articles), when.astimezone(UTC).isoformat())
        return replace(self, digests=(*self.digests, record))

    def unsent(self, digest_id: str) -> State:
        """This state without any record of the digest *digest_id*: nobody received it,
        so its articles are due again."""
        return replace(self, digests=tuple(r for r in self.digests if r.id != digest_id))

    def to_json(self) -> bytes:
        """The state file: ``json.dumps(document, indent=2, ensure_ascii=False)``, each
        article record written out directly (a publication has thousands)."""
        records = sorted(self.records, key=lambda r: (r.source, r.id))
        version = STATE_VERSION if self.baseline is None else BASELINE_VERSION
        parts = [
            f'{{\n  "version": {json_indented(version)},\n  "articles": ',
            "[" + ",".join(map(_record_json, records)) + "\n  ]" if records else "[]",
            f',\n  "outputs": {json_indented(sorted(self.outputs), 1)}',
        ]
        if self.digests:
            parts.append(f',\n  "digests": {json_indented([d.to_json() for d in self.digests], 1)}')
        if self.baseline is not None:
            parts.append(f',\n  "baseline": {json_indented(self.baseline.to_json(), 1)}')
        parts.append("\n}\n")
        return "".join(parts).encode("utf-8")


def _record_json(record: Record) -> str:
    """An article record as an item of the state's "articles" list."""
    text = json_string
    gone = ',\n      "gone": true' if record.gone else ""
    return (
        f'\n    {{\n      "id": {text(record.id)},\n      "source": {text(record.source)},'
        f'\n      "title": {text(record.title)},\n      "date": {text(record.date)},'
        f'\n      "url": {text(record.url)}{gone}\n    }}'
    )


def read_state(path: Path) -> tuple[State, list[Diagnostic]]:
    """The saved state; an empty one when there is none yet.

    A damaged file is an error, never silently replaced: it holds the ids that
    feed readers know the articles by.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State(), []
    except (OSError, UnicodeDecodeError) as error:
        return State(), [Diagnostic.error(path, 1, f"cannot read the state file: {error}")]
    try:
        document = json.loads(text)
        records = tuple(_record(item) for item in document["articles"])
        outputs = tuple(str(name) for name in document.get("outputs", []))
        digests = tuple(_digest(item) for item in document.get("digests", []))
        baseline = _baseline(document["baseline"]) if "baseline" in document else None
        if document.get("version") not in (STATE_VERSION, BASELINE_VERSION):
            raise ValueError(f"unknown version {document.get('version')!r}")
    except json.JSONDecodeError as error:
        return State(), [
            Diagnostic.error(
                path,
                error.lineno,
                f"state file is not valid JSON ({error.msg}); restore it from git",
            )
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return State(), [
            Diagnostic.error(path, 1, f"state file is damaged ({error}); restore it from git")
        ]
    return State(records, outputs, digests, baseline), []


class StateFile:
    """The state file: the one writer of it.  A build records what it made around the
    output's swap (:func:`around_swap`), delivery each change of what it sent
    (:meth:`change`).  Every write replaces the whole file in one rename, and only when
    the state differs from the one the file holds."""

    def __init__(self, path: Path, holds: State | None = None) -> None:
        self.path = path
        #: The state the file holds, when known (None: unknown, or no file).
        self.holds = holds

    def record(self, state: State, data: bytes = b"") -> None:
        """Record *state*, whose bytes are *data* when made already.  Raises
        :class:`OSError` when the file cannot be written (the old one stays)."""
        if state != self.holds:
            atomic_write(self.path, data or state.to_json())
            self.holds = state

    def change(self, change: Callable[[State], State]) -> list[Diagnostic]:
        """Record *change* of the state the file holds now; the problems found reading it,
        when it cannot be read (then nothing is written).  Raises :class:`OSError` when
        the file cannot be written."""
        state, problems = read_state(self.path)
        if problems:
            return problems
        self.holds = state
        self.record(change(state))
        return []


def around_swap(
    state: State, saved: State | None, made: Set[str], previous: Sequence[str]
) -> tuple[tuple[State, bytes], tuple[State, bytes]]:
    """The *state* to record just before the output's swap, then once it is done, each
    with its bytes (none when the file holds it already: *saved*); *made* are the files
    of the new output folder, *previous* those of the one it replaces.

    Until the swap is done, the output folder holds the *previous* build's files; once
    it is done, this build's.  So the state recorded before the swap lists both, with the ids
    of the articles the new folder shows: a build killed at any moment leaves a state
    that lists every file syndicate made in the output folder and keeps every id it
    shows, and the next build removes the files its sources no longer make.  The state
    recorded after the swap lists only this build's files (the same state, unless the
    build removes some).
    """
    final = replace(state, outputs=tuple(sorted(made)))
    known = frozenset(previous)
    # Usually one list holds the other: no second list to sort.
    if made <= known:
        both = replace(final, outputs=tuple(previous))
    else:
        both = final if known <= made else replace(final, outputs=tuple(sorted(known | made)))
    before = b"" if both == saved else both.to_json()
    after = before if final == both else b"" if final == saved else final.to_json()
    return (both, before), (final, after)


def _record(item: Any) -> Record:
    fields = ("id", "source", "title", "date", "url")
    if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
        raise ValueError("an article record lacks id, source, title, date or url")
    if not isinstance(item.get("gone", False), bool):
        raise ValueError("an article record has a gone that is not true or false")
    return Record(**{f: item[f] for f in fields}, gone=item.get("gone", False))


def _digest(item: Any) -> DigestRecord:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("id"), str)
        or not isinstance(item.get("sent"), str)
        or not isinstance(item.get("articles"), list)
        or not all(isinstance(a, str) for a in item["articles"])
    ):
        raise ValueError("a digest record lacks id, articles or sent")
    if not isinstance(item.get("open", False), bool):
        raise ValueError("a digest record has an open that is not true or false")
    return DigestRecord(item["id"], tuple(item["articles"]), item["sent"], item.get("open", False))


def _baseline(item: Any) -> Baseline:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("at"), str)
        or not isinstance(item.get("articles"), list)
        or not all(isinstance(a, str) for a in item["articles"])
    ):
        raise ValueError("the baseline lacks at or articles")
    return Baseline(tuple(item["articles"]), item["at"])


def new_id(config: Config, article: Article, host: str | None = None) -> str:
    """A tag URI (RFC 4151) for a newly published article: readable and globally unique.
    *host* is the site's (looked up once for many articles)."""
    if host is None:
        host = urlsplit(config.site.url).hostname or "localhost"
    return _tag(host, article.date.astimezone(UTC), article.slug)


def _tag(host: str, day: datetime, slug: str, iso: str | None = None) -> str:
    """:func:`new_id` of the article *slug* published on *day* (in UTC), whose
    ``isoformat()`` is *iso* when known."""
    # isoformat() starts with strftime's "%Y-%m-%d", faster, but for years before 1000
    # ("0005").
    stamp = f"{day:%Y-%m-%d}" if day.year < 1000 else (iso or day.isoformat())[:10]
    return f"tag:{host},{stamp}:{slug}"


def assign_ids(
    config: Config, published: Iterable[Article], urls: dict[str, str], state: State
) -> tuple[dict[str, str], State, list[Diagnostic]]:
    """The id of every published article (keyed by slug), the state to save and warnings.

    An id in the front matter wins, unless another published article holds it;
    otherwise an article keeps the id of the published record with its source
    file (so a title can change in place), or of a record with its date and
    title whose article is no longer there (a rename, a move, a draft
    republished).  Records of articles that disappeared are kept, marked gone,
    so their ids stay taken and a new article in a reused file name gets an id
    of its own.
    """
    root = config.root
    source_of = {a.slug: source_name(a.source, root) for a in published}
    articles = sorted(published, key=lambda a: source_of[a.slug])
    sources = set(source_of.values())
    by_source = {r.source: r for r in state.records if not r.gone}
    orphans: dict[tuple[str, str], list[Record]] = {}
    for old in state.records:
        if old.gone or old.source not in sources:
            # A title recorded before article text was read in NFC matches it in NFC.
            orphans.setdefault((old.date, nfc(old.title)), []).append(old)
    # Ids of articles still published under another file: a front-matter id cannot take them.
    held = {r.id: r.source for r in state.records if not r.gone and r.source in sources}

    taken: dict[str, str] = {}  # id -> source of the article holding it
    ids: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    claimed: set[str] = set()
    # Front-matter ids first: they are fixed, and generated ids must step aside.
    for article in articles:
        if article.id is None:
            continue
        source = source_of[article.slug]
        holder = taken.get(article.id) or held.get(article.id)
        if holder is not None and holder != source:
            diagnostics.append(
                Diagnostic.error(
                    article.source,
                    article.line("id"),
                    f'id: "{article.id}" is also the id of {holder}',
                )
            )
        taken[article.id] = source
        ids[article.slug] = article.id

    used = {r.id for r in state.records} | set(taken)
    records: dict[str, Record] = {}
    host = urlsplit(config.site.url).hostname or "localhost"
    for article in articles:
        slug = article.slug
        source = source_of[slug]
        url = urls[slug]
        day = article.date.astimezone(UTC)
        date_key = day.isoformat()  # the date a record keeps
        record: Record | None = by_source.get(source)
        if record is not None and record.id in claimed:
            record = None
        if record is None and orphans:
            candidates = orphans.get((date_key, article.title), [])
            record = next((r for r in candidates if r.id not in claimed), None)
        given = ids.get(slug)
        if given is None:
            if record is not None and record.id not in taken:
                given = record.id
            else:
                given = _unique(_tag(host, day, slug, date_key), used)
            ids[slug] = given
            taken[given] = source
            used.add(given)
        if record is not None:
            claimed.add(record.id)
            if record.url != url:
                diagnostics.append(
                    Diagnostic.warning(
                        article.source,
                        article.line("slug"),
                        f"permalink changed from {record.url} to {url}: "
                        "links to the old address will break unless it redirects",
                    )
                )
        records[given] = Record(given, source, article.title, date_key, url)
    # Articles that were published and are gone (deleted, drafted again) keep their ids.
    for old in state.records:
        if old.id not in records:
            records[old.id] = replace(old, gone=True)
    return ids, replace(state, records=tuple(records.values())), diagnostics


def _unique(candidate: str, used: set[str]) -> str:
    number, result = 2, candidate
    while result in used:
        result = f"{candidate}-{number}"
        number += 1
    return result
