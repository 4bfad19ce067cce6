"""Each reader's own copy of an email, made from one letter built and checked once.

A copy differs from the letter only in what is the reader's: the To header, the
Message-ID, List-Unsubscribe and the unsubscribe link in the slots the templates left for
it (:func:`~syndicate.email.render.personalize`).  A reader whose copy cannot be made (a
name too long for a header, an address the message builder refuses) is
:class:`Unaddressable`, with a reason that names neither the address nor the link: the
caller reports the reader by their line in the list and goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..email.headers import mailbox, message_id, reader_mailbox
from ..email.message import for_reader, prepare
from ..email.render import RenderedDigest, letter, personalize, unsubscribe_mailto
from ..errors import DeliveryError, RenderError
from .dkim import DkimSettings, sign
from .subscribers import Subscriber, redact, token, unsubscribe_link

#: Stands for a reader while the letter is checked once, before any copy is made.
SAMPLE = "reader@example.org"
_SAMPLE_TOKEN = "0" * 32


class Unaddressable(Exception):
    """This reader's copy cannot be made; the reason names no address and no link."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Copy:
    """One reader's message, and the address to give the server for it."""

    #: ASCII (the domain in IDNA) when the address can be written so; otherwise the local
    #: part in UTF-8, which needs SMTPUTF8.
    envelope: str
    data: bytes


class Letters:
    """The copies of *rendered* for each reader, signed when *dkim* is set."""

    def __init__(
        self,
        config: Config,
        rendered: RenderedDigest,
        *,
        secret: bytes,
        dkim: DkimSettings | None,
        now: datetime,
    ) -> None:
        email = config.email
        assert email is not None and email.unsubscribe_url is not None
        assert email.sender is not None
        self._rendered = rendered
        self._link = email.unsubscribe_url
        self._secret = secret
        self._dkim = dkim
        self.sender = mailbox(email.sender, "From").addr_spec
        # Built and checked once; each reader's copy changes only what is theirs.
        template = letter(config, rendered, unsubscribe_link(self._link, SAMPLE, _SAMPLE_TOKEN))
        self._domain = template.domain
        self._prepared = prepare(
            template, unsubscribe_mailto=unsubscribe_mailto(config), date=now, sample=email.sender
        )
        try:
            # A link the template can never make right fails here, for every reader alike.
            self._make(SAMPLE, "", unsubscribe_link(self._link, SAMPLE, _SAMPLE_TOKEN))
        except RenderError as error:
            raise DeliveryError(
                f"{config.path}: email.unsubscribe_url: {self._link!r} does not make a usable "
                f"link: {error}"
            ) from None

    def copy(self, reader: Subscriber) -> Copy:
        """*reader*'s message; raises :class:`Unaddressable` when it cannot be made."""
        secret = token(self._secret, reader.email)
        link = ""
        try:
            link = unsubscribe_link(self._link, reader.email, secret)
            return self._make(reader.email, reader.name, link)
        except RenderError as error:
            # Its words never quote the reader's To or link; blotted out all the same.
            reason = str(error).replace(link or secret, "…").replace(secret, "…")
        except (DeliveryError, ValueError, LookupError, TypeError) as error:
            # What the builder did not foresee: its words might hold the address.
            reason = f"the message cannot be made ({type(error).__name__})"
        raise Unaddressable(redact(reason, reader.email))

    def _make(self, address: str, name: str, link: str) -> Copy:
        to = reader_mailbox(name, address)
        html, text = personalize(self._rendered, link)
        data = for_reader(
            self._prepared,
            text=text,
            html=html,
            to=to,
            unsubscribe_url=link,
            message_id=message_id(self._rendered.digest.id, address, self._domain),
        )
        if self._dkim is not None:
            data = sign(data, self._dkim)
        return Copy(to.addr_spec, data)
