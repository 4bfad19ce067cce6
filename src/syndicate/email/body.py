"""An article's sanitised HTML made ready for mail clients that read no ``<style>``.

Gmail's mobile web client, and Gmail's apps showing a non-Gmail account, drop the email's
``<style>``; Outlook for Windows reads it but knows no ``max-width`` on an image.  What
keeps an article inside its column must then be on the elements themselves:

* an image scales down to the column (``max-width``), and its ``width`` attribute, which
  Outlook follows, is at most the column's width (its height scaled to match);
* a code block wraps its long lines.

Otherwise a wide image or code block widens the card, whose rounded corners clip whatever
sticks out: the ends of every line of text become unreadable.  (A table needs nothing: the
column's cell breaks long words, MJML writes that on it.)
"""

from __future__ import annotations

import re

#: The width of an article's text in the email: the 600 px body less its side padding.
TEXT_WIDTH = 552

_STYLES = {
    "img": "max-width:100%;height:auto",
    "pre": "white-space:pre-wrap;word-break:break-word",
}

#: A start tag of one of those elements as the sanitiser writes it: every attribute value
#: in double quotes (a quote inside escaped), none of them a style attribute.
_TAG = re.compile(r'<(img|pre)((?:\s+[^\s"=>/]+(?:="[^"]*")?)*)\s*(/?)>')
_ATTRIBUTE = re.compile(r'\s+([^\s"=>/]+)(?:="([^"]*)")?')


def email_body(html: str) -> str:
    """*html*, sanitised article HTML, with the styles that keep it in the email's column
    written on its images and code blocks."""
    return _TAG.sub(_styled, html)


def _styled(match: re.Match[str]) -> str:
    tag, attributes, slash = match[1], match[2], match[3]
    if re.search(r"\sstyle=", attributes, re.IGNORECASE):
        return match[0]  # the sanitiser allows none here; one that came through stays
    if tag == "img":
        attributes = _capped(attributes)
    return f'<{tag}{attributes} style="{_STYLES[tag]}"{slash and " /"}>'


def _capped(attributes: str) -> str:
    """An image's attributes with its width at most :data:`TEXT_WIDTH` (its height scaled
    by as much, so that Outlook keeps its shape)."""
    found = {name.lower(): value for name, value in _ATTRIBUTE.findall(attributes)}
    width, height = found.get("width", ""), found.get("height", "")
    if not width.isdigit() or int(width) <= TEXT_WIDTH:
        return attributes
    scaled = {"width": str(TEXT_WIDTH)}
    if height.isdigit():
        scaled["height"] = str(round(int(height) * TEXT_WIDTH / int(width)))
    return _ATTRIBUTE.sub(
        lambda a: f' {a[1]}="{scaled[a[1].lower()]}"' if a[1].lower() in scaled else a[0],
        attributes,
    )
