"""The files that show the newsletter's state (each email's web version and pictures, the
archive and the landing page), and what rendering needs first."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import feeds, markdown
from .config import Config
from .email.digest import Digest
from .errors import Diagnostic, RenderError
from .publication import Publication

if TYPE_CHECKING:  # each loads when a build needs it, not on start-up
    from .email.render import Pictures, RenderedDigest


@dataclass(frozen=True, slots=True)
class Front:
    """The files that show the newsletter's state: each email's web version, the pictures
    the emails carry, the landing page and, with a newsletter, its archive."""

    files: dict[str, bytes]
    #: Every email: those sent, then those due now.
    emails: tuple[RenderedDigest, ...]
    diagnostics: tuple[Diagnostic, ...]
    #: The emails' pictures, and the slugs of the articles they were made for.
    pictures: Pictures | None = None
    pictured: frozenset[str] = frozenset()


def render_front(
    publication: Publication,
    plans: Sequence[feeds.FeedPlan],
    digests: tuple[Sequence[Digest], Sequence[Digest]],
    bodies: Mapping[str, markdown.Rendered],
    known: Front | None = None,
) -> Front:
    """The files that show the newsletter's state, for the *digests* sent and due; *bodies*
    has the rendered body of every article they carry.  The pictures of a *known* front
    made for the same articles are used again."""
    config = publication.config
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    emails: list[RenderedDigest] = []
    pictures, pictured = None, frozenset[str]()
    every = (*digests[0], *digests[1])
    if every:  # the email package loads only for a build with a newsletter
        from .email.render import email_pictures, render_digest

        in_emails = [a for digest in every for a in digest.articles]
        pictured = frozenset(a.slug for a in in_emails)
        if known is not None and known.pictures is not None and known.pictured == pictured:
            pictures = known.pictures
        else:
            pictures = email_pictures(config, in_emails)
        files.update(pictures.files)
        diagnostics.extend(pictures.diagnostics)
        emails = [
            render_digest(config, d, publication.urls, bodies, pictures.images) for d in every
        ]
    for email in emails:
        files[f"digests/{email.digest.id}/index.html"] = email.web.encode("utf-8")
        diagnostics.extend(email.diagnostics)
    from . import pages

    files.update(pages.render_pages(config, list(plans), publication, emails))
    return Front(files, tuple(emails), tuple(diagnostics), pictures, pictured)


def prepare_rendering(config: Config) -> None:
    """What rendering needs first, made while the helpers read the articles: the template
    engine, emptied (templates are read afresh by every build), with the landing page's
    template compiled, and the Markdown engine.  A template that does not compile is
    reported when its page is rendered."""
    from . import pages, templating

    templating.environment.cache_clear()
    with contextlib.suppress(RenderError):
        templating.compile_template(config, pages.LANDING)
    markdown.engine()
