"""A digest as an email: MJML templates rendered by Jinja2, then by mjml-python.

Every value reaches the templates through Jinja2's autoescaping, so article
text can neither break the MJML nor inject markup or template code.  The
email is rendered once per digest, and each reader's copy differs only in their
own unsubscribe link, which :func:`personalize` puts in the slots the templates
left for it, and nowhere else.

Those slots are found without trusting anything an article could write: the
templates write ``{{ unsubscribe_url }}`` as a marker made afresh, at random,
for each render (an article cannot contain what did not exist when it was
written), each use of it is counted, and the rendered text is cut at the
marker into pieces, which must be exactly one more than the uses.  The marker
itself is kept nowhere: :class:`RenderedDigest` holds only the pieces, so no
later step can replace it inside the text either.
"""

from __future__ import annotations

import html as html_lib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
import jinja2.sandbox
from markupsafe import Markup
from slugify import slugify

from ..config import Config, EmailConfig
from ..content.model import Article
from ..content.values import make_summary
from ..errors import Diagnostic, RenderError
from ..language import direction, title_written
from ..markdown import Rendered
from ..templating import render_template
from .body import email_body
from .digest import Digest
from .headers import mailbox
from .images import EmailImage, email_image
from .message import Letter
from .text import html_to_text

#: Shows where a reader's own unsubscribe link goes when a rendered email is looked at
#: (:attr:`RenderedDigest.html`, the preview).  Never searched for: see :func:`personalize`.
UNSUBSCRIBE = "https://unsubscribe.invalid/syndicate-personal-link"
#: Gmail clips messages whose HTML is larger than about 102 KB.
MAX_HTML_BYTES = 102_000
#: Summary lengths tried, in turn, while a digest is too large.
SHORTER = (200, 120, 60)
PREHEADER_LENGTH = 140


@dataclass(frozen=True, slots=True)
class Item:
    """One article as an email shows it."""

    title: str
    url: str
    summary: str
    byline: str
    date: str
    date_iso: str
    image: EmailImage | None
    #: Full sanitised HTML ("article" mode only).
    html: Markup | None
    #: The full text for the plain-text part, from the sanitised HTML ("article" mode only).
    text: str | None
    #: The article's language, the direction it runs, and the direction its title runs
    #: (see :func:`syndicate.pages.title_written`): each article's block is marked with them.
    lang: str = "en"
    dir: str = "ltr"
    title_dir: str = "ltr"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    digest: Digest
    subject: str
    preheader: str
    #: The email's HTML in pieces: a reader's own unsubscribe link goes between each two.
    html_parts: tuple[str, ...]
    #: The same email without personal links: the "view in browser" page.
    web: str
    #: The plain-text part in pieces, like :attr:`html_parts`.
    text_parts: tuple[str, ...]
    web_url: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def html(self) -> str:
        """The HTML to look at, with :data:`UNSUBSCRIBE` where each reader's link goes."""
        return UNSUBSCRIBE.join(self.html_parts)

    @property
    def text(self) -> str:
        """The plain-text part to look at, with :data:`UNSUBSCRIBE` in the link's slots."""
        return UNSUBSCRIBE.join(self.text_parts)


def personalize(rendered: RenderedDigest, unsubscribe_url: str) -> tuple[str, str]:
    """The HTML and text parts for one subscriber, with their own unsubscribe link in the
    slots the templates made for it, and nowhere else."""
    escaped = html_lib.escape(unsubscribe_url, quote=True)
    return escaped.join(rendered.html_parts), unsubscribe_url.join(rendered.text_parts)


class _Slot:
    """What the templates see as ``unsubscribe_url``: a marker nobody knew before this
    render, which counts how often a template writes it (escaped or not)."""

    def __init__(self) -> None:
        # A URL, so that a template may put it wherever a link goes; 128 random bits,
        # so that no article written before this moment contains it.
        self.marker = f"https://unsubscribe.invalid/{secrets.token_hex(16)}"
        self.uses = 0

    def __str__(self) -> str:
        self.uses += 1
        return self.marker

    def __html__(self) -> str:
        self.uses += 1
        return self.marker  # nothing in it for HTML to escape


def _with_slots(template: str, render: Callable[[_Slot], str]) -> tuple[str, ...]:
    """*render* the template with a fresh slot, cut into the pieces around each use.

    A template that changes the link as it writes it (a filter, a slice) leaves fewer
    whole markers than uses: that is an error, never an email without its link.
    """
    slot = _Slot()
    parts = tuple(render(slot).split(slot.marker))
    if len(parts) - 1 != slot.uses:
        raise RenderError(
            f"{template}: unsubscribe_url must be written as it is, "
            "{{ unsubscribe_url }}, without filters"
        )
    return parts


@lru_cache(maxsize=16)
def _locale(language: str, fallback: str = "en") -> Any:
    """Babel's locale for *language*; a language CLDR has no dates for writes them as
    *fallback* does (the site's language), else in English."""
    from babel import Locale, UnknownLocaleError

    for tag in (language, fallback, "en"):
        try:
            return Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def format_date(moment: datetime, config: Config, language: str | None = None) -> str:
    """*moment* in the site's timezone, written out for *language* (an article's), else
    ``[site] language``: 18 August 2025, ١٨ أغسطس ٢٠٢٥."""
    from babel.dates import format_date as babel_format_date

    local = moment.astimezone(config.site.timezone)
    locale = _locale(language or config.site.language, config.site.language)
    return str(babel_format_date(local, format="long", locale=locale))


def _sandbox() -> jinja2.sandbox.SandboxedEnvironment:
    return jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def _line(template: str, config: Config, key: str, context: Mapping[str, Any]) -> str:
    """Render a one-line template from the config; CR, LF and tabs fold into spaces."""
    try:
        text = _sandbox().from_string(template).render(**context)
    except jinja2.TemplateError as error:
        raise RenderError(f"{config.path}: email.{key}: {error.message or error}") from None
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Pictures:
    """The articles' images as emails show them, converted once per build."""

    #: By article slug; an article whose image is missing or unreadable has none.
    images: Mapping[str, EmailImage]
    #: Converted files to publish, by path below the output folder.
    files: Mapping[str, bytes]
    diagnostics: tuple[Diagnostic, ...]


def email_pictures(config: Config, articles: Iterable[Article]) -> Pictures:
    """Convert the local images of *articles* for email (JPEG or PNG, at most 1200 px wide);
    remote ones are used as they are.  One that cannot be read is left out with a warning."""
    images: dict[str, EmailImage] = {}
    files: dict[str, bytes] = {}
    diagnostics: list[Diagnostic] = []
    for article in {a.slug: a for a in articles}.values():
        image = article.image
        if image is None:
            continue
        is_local = image.url.startswith(config.site.url)
        if is_local and image.source is None:
            continue  # the loader already warned that the file is missing
        try:
            converted = email_image(
                image.source if is_local else None,
                image.url,
                site_url=config.site.url,
                alt=article.title,
            )
        except ValueError as error:
            diagnostics.append(
                Diagnostic.warning(
                    article.source, article.line("image"), f"image: left out of the email: {error}"
                )
            )
            continue
        images[article.slug] = converted.image
        if converted.path is not None and converted.data is not None:
            files[converted.path] = converted.data
    return Pictures(images, files, tuple(diagnostics))


def _context(
    config: Config, email: EmailConfig, digest: Digest, items: list[Item], web_url: str
) -> dict[str, Any]:
    articles = [
        {"title": i.title, "url": i.url, "summary": i.summary, "byline": i.byline, "date": i.date}
        for i in items
    ]
    about = {"id": digest.id, "date": format_date(digest.date, config), "url": web_url}
    context: dict[str, Any] = {"site": config.site, "articles": articles, "digest": about}
    subject = _line(email.subject, config, "subject", context)
    if email.preheader:
        preheader = _line(email.preheader, config, "preheader", context)
    elif len(items) == 1:
        preheader = items[0].summary
    else:
        preheader = " · ".join(i.title for i in items)
    return {
        **context,
        "email": email,
        "items": items,
        "subject": subject,
        "preheader": make_summary(preheader, PREHEADER_LENGTH),
        "mode": email.mode,
    }


def _mjml(source: str, template: str) -> str:
    from mjml import mjml2html

    shelter = _Shelter()
    try:
        # No web fonts: a font link would load from a third party each time the email opens.
        html = str(mjml2html(shelter.hide(source), fonts={}))
    except (ValueError, RuntimeError) as error:
        raise RenderError(f"{template}: MJML error: {error}") from None
    return shelter.restore(html)


#: What mjml-python writes wrongly in an attribute: a backslash (doubled), and characters its
#: Unicode tables call unprintable or combining, written as Rust escapes (``\u{200d}``).
#: Those tables are not Python's, so every character past ASCII is sheltered.
_UNSAFE = re.compile(r"[\\\x7f-\U0010ffff]")


class _Shelter:
    """Keeps characters away from mjml-python, which rewrites some of them in attributes
    (a zero-width joiner in an emoji sequence, a variation selector, an Arabic vowel mark,
    a no-break space; in an image's alt text, a link, or the title it copies into the
    email's ``aria-label``) and leaves them alone in text.

    Each such character goes to mjml-python as a marker, ASCII letters and digits it
    passes through everywhere, and comes back after it.  The marker is made afresh at
    random for each render, so no article can contain one (as for the unsubscribe slot).
    """

    def __init__(self) -> None:
        self.marker = f"mjml{secrets.token_hex(8)}x"
        self._back = re.compile(re.escape(self.marker) + "([0-9a-f]{6})")

    def hide(self, source: str) -> str:
        return _UNSAFE.sub(lambda match: f"{self.marker}{ord(match[0]):06x}", source)

    def restore(self, html: str) -> str:
        return self._back.sub(lambda match: chr(int(match[1], 16)), html)


def render_digest(
    config: Config,
    digest: Digest,
    urls: Mapping[str, str],
    bodies: Mapping[str, Rendered],
    pictures: Mapping[str, EmailImage],
) -> RenderedDigest:
    """The email of *digest*, its web version and its plain-text part.

    *urls*, *bodies* and *pictures* hold every article's permalink, rendered
    body and email image (see :func:`email_pictures`), by slug.
    """
    email = config.email
    if email is None:
        raise RenderError(f"{config.path}: no [email] table, so there is no newsletter to render")
    kind = "article" if email.mode == "article" else "digest"
    web_url = f"{config.site.url}digests/{digest.id}/"
    diagnostics: list[Diagnostic] = []
    items: list[Item] = []
    for article in digest.articles:
        body = bodies[article.slug]
        title = title_written(article, config)
        items.append(
            Item(
                title=article.title,
                url=urls[article.slug],
                summary=body.summary,
                byline=", ".join(article.authors),
                date=format_date(article.date, config, article.lang),
                # HTML's <time datetime> takes at most three digits of a fraction.
                date_iso=article.date.astimezone(config.site.timezone).isoformat("T", "seconds"),
                image=pictures.get(article.slug),
                html=Markup(body.html) if kind == "article" else None,
                text=html_to_text(body.html, urls[article.slug]) if kind == "article" else None,
                lang=title.lang,
                dir=direction(title.lang),
                title_dir=title.dir,
            )
        )
    context = _context(config, email, digest, items, web_url)

    def render(items: list[Item], web: bool) -> tuple[str, ...]:
        template = f"email/{kind}.mjml.j2"
        mailed = [replace(i, html=Markup(email_body(i.html))) if i.html else i for i in items]

        def make(slot: _Slot) -> str:
            extra = {"items": mailed, "web": web, "web_url": web_url, "unsubscribe_url": slot}
            return _mjml(render_template(config, template, **{**context, **extra}), template)

        return _with_slots(template, make)

    html = render(items, web=False)
    if _size(html) > MAX_HTML_BYTES:
        html, items = _shrink(config, digest, items, render, diagnostics)
    from ..pages import render_digest_page  # the web version is a page of the site

    web = render_digest_page(config, {**context, "web_url": web_url}, items)
    text_template = f"email/{kind}.txt.j2"
    text = _with_slots(
        text_template,
        lambda slot: render_template(
            config,
            text_template,
            **{**context, "items": items, "web_url": web_url, "unsubscribe_url": slot},
        ),
    )
    return RenderedDigest(
        digest=digest,
        subject=context["subject"],
        preheader=context["preheader"],
        html_parts=html,
        web=web,
        text_parts=text,
        web_url=web_url,
        diagnostics=tuple(diagnostics),
    )


def _size(parts: tuple[str, ...]) -> int:
    """The size in UTF-8 of the HTML in *parts*, with a link of the placeholder's length."""
    return sum(len(part.encode("utf-8")) for part in parts) + len(UNSUBSCRIBE) * (len(parts) - 1)


def _shrink(
    config: Config,
    digest: Digest,
    items: list[Item],
    render: Callable[[list[Item], bool], tuple[str, ...]],
    diagnostics: list[Diagnostic],
) -> tuple[tuple[str, ...], list[Item]]:
    """Shorter summaries until the HTML fits under Gmail's clipping size (with a warning)."""
    html: tuple[str, ...] = ()
    for length in SHORTER:
        shorter = [replace(i, summary=make_summary(i.summary, length)) for i in items]
        html = render(shorter, False)
        if _size(html) <= MAX_HTML_BYTES:
            diagnostics.append(
                Diagnostic.warning(
                    config.path,
                    0,
                    f"digest {digest.id}: summaries shortened to {length} characters to keep "
                    f"the email under {MAX_HTML_BYTES:,} bytes (Gmail clips larger ones)",
                )
            )
            return html, shorter
    diagnostics.append(
        Diagnostic.warning(
            config.path,
            0,
            f"digest {digest.id}: the email is {_size(html):,} bytes; Gmail clips "
            f"emails over {MAX_HTML_BYTES:,} bytes (fewer [email] max_articles would help)",
        )
    )
    return html, items


def letter(config: Config, rendered: RenderedDigest, unsubscribe_url: str) -> Letter:
    """What :func:`~syndicate.email.message.build_message` needs to mail *rendered* to one
    reader whose own unsubscribe link is *unsubscribe_url*."""
    email = config.email
    if email is None or email.sender is None:
        raise RenderError(f"{config.path}: email.from: required to send the newsletter")
    html, text = personalize(rendered, unsubscribe_url)
    return Letter(
        subject=rendered.subject,
        text=text,
        html=html,
        sender=email.sender,
        reply_to=email.reply_to,
        list_id=list_id(config),
        domain=mail_domain(config),
    )


def mail_domain(config: Config) -> str:
    """The domain of the site, for Message-IDs and the List-Id."""
    return urlsplit(config.site.url).hostname or "localhost"


def list_id(config: Config) -> str:
    """The publication's List-Id (RFC 2919), the same on every email it sends (the
    newsletter's and the list service's), so that a reader's filters keep them together."""
    label = slugify(config.site.title) or "newsletter"
    return f"{config.site.title} <{label}.{mail_domain(config)}>"


def unsubscribe_mailto(config: Config) -> str | None:
    """A ``mailto:`` for List-Unsubscribe: the reply-to (or from) address, subject "unsubscribe"."""
    email = config.email
    address = email and (email.reply_to or email.sender)
    if not address:
        return None
    return f"mailto:{mailbox(address, 'Reply-To').addr_spec}?subject=unsubscribe"
