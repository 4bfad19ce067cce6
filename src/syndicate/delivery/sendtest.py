"""Test sends: the email that is due (or a past digest), to a few addresses, counting for nothing.

``syndicate send-test`` renders the email exactly as ``publish`` would and hands it, over
the configured transport (SMTP or the outbox), to the addresses given, and to nobody else:
the subscriber list is never read.  Nothing is recorded either: no journal, no state, no
output folder, so the next ``publish`` sends the real email to every subscriber as if no
test had gone out.

A test copy differs from a reader's in three ways, each on purpose:

* its subject is marked (:data:`MARK`);
* its identity is its own: the digest id with ``.test-<moment>`` behind it, which makes
  its Message-IDs (and its outbox folder) differ from the real send's, so that a mail
  system that drops a second message with a Message-ID it has seen never drops the real
  one, nor a second test;
* its unsubscribe link is the test address's own, keyed like any reader's: it works, and
  it can only unsubscribe the address that received it, never a reader of the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from ..config import Config
from ..email.digest import Digest
from ..email.render import RenderedDigest, email_pictures, render_digest
from ..errors import ConfigError, ContentError, Diagnostic, SyndicateError, has_errors
from ..pipeline import Publication, load_publication, newsletter, render_bodies
from ..scaffold import placeholders
from .backends import Backend, Deferred, PermanentFailure, Unsupported, Unsure, outbox_folder
from .backends import backend as choose_backend
from .letters import Letters, Unaddressable
from .lock import publication_lock
from .send import check_sendable, dkim_settings, sending_secret, smtp_settings, transport
from .subscribers import Subscriber, fold_key, normalize_address

#: What a test copy's subject starts with.
MARK = "[TEST] "


class BadAddress(SyndicateError):
    """A test address that is not one; says which (its position and the address: the
    user's own input, shown back to them)."""

    def __init__(self, source: str, position: int, address: str, problem: str) -> None:
        super().__init__(f'{source} #{position}, "{address}": {problem}')
        self.position = position
        self.address = address
        self.problem = problem


class NothingDue(SyndicateError):
    """No email is due, and no digest was named."""


@dataclass(frozen=True, slots=True)
class Addressee:
    """Where one test copy goes."""

    #: Normalised as a subscriber's address is.
    address: str
    #: How the output names it: "--to #2", "email.test_to #1".
    where: str


@dataclass(frozen=True, slots=True)
class EmailTested:
    """One email sent as a test."""

    #: The digest's own id (the test copies carry it with ``.test-<moment>`` behind it).
    digest_id: str
    #: As the test copies show it, marked.
    subject: str
    titles: tuple[str, ...]
    #: Whether readers got this email already (a past digest named with ``--digest``).
    sent_before: bool
    #: Test addresses that have it.
    sent: int
    #: "smtp host:port", or the outbox folder the test copies are in.
    through: str


@dataclass(frozen=True, slots=True)
class SendTestReport:
    """What ``send-test`` did."""

    emails: tuple[EmailTested, ...]
    #: How many test addresses there were.
    addresses: int
    #: One line for each copy that did not go, naming its address by position.
    problems: tuple[str, ...]
    #: Warnings about the publication (init's example values, a picture left out).
    diagnostics: tuple[Diagnostic, ...]


def addressees(given: Sequence[str], source: str = "--to") -> tuple[Addressee, ...]:
    """*given* checked and normalised as a subscriber row's address is, each once; raises
    :class:`BadAddress` for the first that is not an address."""
    found: dict[str, Addressee] = {}
    for position, raw in enumerate(given, start=1):
        try:
            address = normalize_address(raw.strip())
        except ValueError as error:
            raise BadAddress(source, position, raw, str(error)) from None
        found.setdefault(fold_key(address), Addressee(address, f"{source} #{position}"))
    return tuple(found.values())


def send_test(
    root: Path,
    now: datetime,
    to: Sequence[str] = (),
    *,
    environ: Mapping[str, str],
    digest_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendTestReport:
    """Send the emails that are due, or the digest *digest_id*, to the addresses *to*
    (``[email] test_to`` when there are none) as tests: nothing else is read from the list
    or written to the publication but for the outbox's own test folder.

    Holds the publication lock, as a publish does, so that a test never goes out while a
    publish sends (a second sender on one account would share its rate limit).  Raises
    :class:`NothingDue` when nothing is due and no digest is named.
    """
    with publication_lock(root.resolve()) as notes:
        publication, diagnostics = load_publication(root, now)
        if publication is None or has_errors(diagnostics):
            raise ContentError("the publication has errors", diagnostics)
        config = publication.config
        email = config.email
        if email is None:
            raise ConfigError(
                "no test was sent",
                [Diagnostic.error(config.path, 0, "no [email] table: there is no newsletter")],
            )
        addresses = addressees(to) if to else addressees(email.test_to, "email.test_to")
        if not addresses:
            raise ConfigError(
                "no test address: give --to ADDRESS, or list addresses in [email] test_to"
            )
        check_sendable(config)
        sent, due = newsletter(publication)
        rendered, found = _rendered(publication, _chosen(sent, due, digest_id))
        emails, problems = _send_all(config, rendered, addresses, now, environ, sleep)
    return SendTestReport(
        tuple(emails),
        len(addresses),
        tuple(problems),
        (*notes, *placeholders(config), *diagnostics, *found),
    )


def _send_all(
    config: Config,
    rendered: Sequence[RenderedDigest],
    addresses: Sequence[Addressee],
    now: datetime,
    environ: Mapping[str, str],
    sleep: Callable[[float], None],
) -> tuple[list[EmailTested], list[str]]:
    """Each of *rendered*, marked, to each of *addresses*; and what did not go."""
    smtp = smtp_settings(config, environ)
    secret = sending_secret(config, smtp, environ)
    dkim = dkim_settings(config, environ)
    emails: list[EmailTested] = []
    problems: list[str] = []
    for email in rendered:
        test = marked(email, now)
        letters = Letters(config, test, secret=secret, dkim=dkim, now=now)
        folder = outbox_folder(config.root, test.digest.id)
        with closing(choose_backend(smtp, folder, sleep=sleep)) as backend:
            count = sum(
                _send(backend, letters, to, f"test-{n}", problems)
                for n, to in enumerate(addresses, start=1)
            )
        digest = email.digest
        titles = tuple(a.title for a in digest.articles)
        through = transport(smtp) if smtp else f"the outbox ({folder.relative_to(config.root)}/)"
        emails.append(EmailTested(digest.id, test.subject, titles, digest.sent, count, through))
    return emails, problems


def marked(rendered: RenderedDigest, now: datetime) -> RenderedDigest:
    """The test copy of *rendered*: its subject marked, and an identity of its own (the
    digest id with the moment of the test behind it), so that neither its Message-IDs nor
    its outbox folder can ever be the real send's, nor another test's."""
    stamp = f"{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}"
    digest = replace(rendered.digest, id=f"{rendered.digest.id}.test-{stamp}")
    return replace(rendered, digest=digest, subject=MARK + rendered.subject)


def _chosen(sent: Sequence[Digest], due: Sequence[Digest], digest_id: str | None) -> list[Digest]:
    if digest_id is None:
        if not due:
            raise NothingDue(
                "no email is due: nothing was published since the last one. To send a past "
                "digest as a test, name it: syndicate send-test --digest ID"
                + _known(sent)
            )
        return list(due)
    for digest in (*sent, *due):
        if digest.id == digest_id:
            return [digest]
    raise ConfigError(f'no digest "{digest_id}"' + _known([*sent, *due]))


def _known(digests: Sequence[Digest]) -> str:
    """The ids of the last few *digests*, for a message."""
    if not digests:
        return " (no digest was sent yet)"
    shown = ", ".join(d.id for d in digests[-5:])
    return f" (the latest: {shown})"


def _rendered(
    publication: Publication, digests: Sequence[Digest]
) -> tuple[list[RenderedDigest], list[Diagnostic]]:
    """*digests* rendered as ``publish`` renders them."""
    config = publication.config
    articles = [a for digest in digests for a in digest.articles]
    bodies = render_bodies(publication, articles)
    pictures = email_pictures(config, articles)
    rendered = [
        render_digest(config, digest, publication.urls, bodies, pictures.images)
        for digest in digests
    ]
    found = [*pictures.diagnostics, *(d for r in rendered for d in r.diagnostics)]
    return rendered, found


def _send(
    backend: Backend, letters: Letters, to: Addressee, key: str, problems: list[str]
) -> int:
    """Send *to* their test copy (named *key*, never by its address, in the outbox): 1 when
    it went, 0 (with the reason in *problems*) when it did not."""
    try:
        copy = letters.copy(Subscriber(to.address, "", 0))
        backend.send(copy.data, letters.sender, copy.envelope, key=key)
    except Unaddressable as refusal:
        problems.append(f"{to.where}: not sent: {refusal.reason}")
    except PermanentFailure as refusal:
        problems.append(f"{to.where}: refused for good by the mail server: {refusal}")
    except Deferred as refusal:
        problems.append(f"{to.where}: the mail server said not now: {refusal}")
    except Unsupported as refusal:
        problems.append(f"{to.where}: not sent: {refusal}")
    except Unsure as failure:
        problems.append(f"{to.where}: {failure}: the server may have kept it")
    else:
        return 1
    return 0
