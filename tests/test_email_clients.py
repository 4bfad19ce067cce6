"""The email as the mail clients that lack something read it (issue 26, target 2).

caniemail's data (see tests/test_standards_email.py and the README's section on email
clients) says what each client lacks; these tests load the email in real Chromium with
that taken away and state what the reader still gets.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

from browser import Browser
from conftest import NOW, SITE, MakePublication, article
from syndicate.email.render import RenderedDigest
from syndicate.pipeline import build

ARTICLE_MODE = (
    SITE
    + '\n[email]\nfrom = "Test Times <news@example.org>"\nmode = "article"\n'
    + 'unsubscribe_url = "https://news.example.org/unsubscribe/{token}"\n'
)
PHONE = 375
#: An article with what is wider than a phone: a large image with its size written on it,
#: one without, and a long line of code.
WIDE_BODY = """Some text first.

![A wide picture](/images/wide.png)

<img src="/images/wide.png" width="1280" height="720" alt="The same, sized">

```
total = compute(first_argument, second_argument, third_argument, fourth_argument, fifth_argument)
```
"""


def wide_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1280, 720), (200, 120, 60)).save(out, "PNG")
    return out.getvalue()


def wide_article(publication: MakePublication) -> tuple[Path, RenderedDigest]:
    root = publication(
        {"content/a.md": article("A", body=WIDE_BODY), "static/images/wide.png": wide_png()},
        ARTICLE_MODE,
    )
    report = build(root, NOW)
    [email] = report.due
    return root, email


def test_without_its_style_sheet_an_article_still_fits_a_phone(
    publication: MakePublication, browser: Browser
) -> None:
    """Gmail's mobile web client, and Gmail's apps showing another provider's account,
    drop the ``<style>``: what keeps images and code inside the column is written on them,
    or the card's rounded corners clip the end of every line."""
    root, email = wide_article(publication)
    unstyled = re.sub(r"<style\b[^>]*>.*?</style>", "", email.html, flags=re.S | re.I)
    assert "<style" not in unstyled
    mirror = {"https://news.example.org/": root / "feeds"}
    assert browser.clipped(unstyled, PHONE, mirror=mirror) == []


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[tuple[str | None, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            found = dict(attrs)
            self.sizes.append((found.get("width"), found.get("height")))


def test_outlook_gets_no_image_wider_than_the_column(publication: MakePublication) -> None:
    """Outlook for Windows sizes an image by its ``width`` attribute and knows no
    ``max-width`` on it: the attribute is at most the text's width, the height scaled."""
    _, email = wide_article(publication)
    images = Images()
    images.feed(email.html)
    assert ("552", "310") in images.sizes  # 1280 x 720, scaled to 552 wide
    assert [w for w, _ in images.sizes if w is not None and int(w) > 552] == []
