"""HTML in a real headless Chromium: no reader scrolls sideways, at phone or desktop width.

The first tests prove the harness itself: it sees an overflow where there is one, passes a
page that fits, takes screenshots and lets nothing out to the network.  Screenshots land in
``tests/artifacts/screenshots/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PIL import Image

from browser import Browser
from conftest import NOW, REPO, SITE, MakePublication, article
from syndicate.pipeline import build

SCREENSHOTS = REPO / "tests" / "artifacts" / "screenshots"

#: Small and common phones, then the email column on a desktop.
WIDTHS = (320, 375, 600)

FIXED = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
</head><body style="margin:0">
<table width="800" cellpadding="0" cellspacing="0"><tr><td>A table 800 pixels wide.</td></tr>
</table></body></html>
"""

RESPONSIVE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>
  body { margin: 0; font: 16px/1.5 sans-serif; overflow-wrap: anywhere; }
  table { width: 100%; max-width: 600px; margin: 0 auto; border-spacing: 0;
          table-layout: fixed; }
  img { display: block; width: 100%; height: auto; }
</style></head><body>
<table role="presentation"><tr><td>
  <h1>A column up to 600 pixels wide</h1>
  <img src="https://images.example.org/hero.jpg" width="600" height="300" alt="">
  <p>https://example.org/a/very/long/address/that/has/no/spaces/to/break/it/on/anywhere</p>
</td></tr></table></body></html>
"""


def wide_png(path: Path) -> None:
    """An image 800 pixels wide, too wide for a phone at its natural size."""
    Image.new("RGB", (800, 40), "steelblue").save(path)


def png_width(path: Path) -> int:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.width


# --- the harness -----------------------------------------------------------------


def test_a_fixed_width_table_makes_a_phone_scroll_sideways(browser: Browser) -> None:
    assert browser.scroll_width(FIXED, 320) > 320
    shot = browser.screenshot(FIXED, 320, SCREENSHOTS / "harness-fixed-320.png")
    assert png_width(shot) > 320, "the screenshot shows the overflow"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_responsive_page_fits(browser: Browser, width: int) -> None:
    shot = SCREENSHOTS / f"harness-responsive-{width}.png"
    assert browser.scroll_width(RESPONSIVE, width, screenshot=shot) <= width
    assert png_width(shot) == width


def test_a_file_loads_its_local_images_and_nothing_from_the_network(
    browser: Browser, tmp_path: Path
) -> None:
    wide_png(tmp_path / "local.png")
    page = tmp_path / "page.html"
    page.write_text(
        '<!doctype html><link rel="stylesheet" href="https://fonts.example.org/a.css">'
        '<img src="local.png" style="display:block;width:auto">'
        '<img src="https://images.example.org/remote.jpg">'
        '<img src="http://192.0.2.1/by-address.jpg">',
        encoding="utf-8",
    )
    before = len(browser.blocked)

    wide = browser.scroll_width(page, 320)

    assert wide > 320, "the local image loaded at its natural width"
    assert sorted(browser.blocked[before:]) == [
        "http://192.0.2.1/by-address.jpg",
        "https://fonts.example.org/a.css",
        "https://images.example.org/remote.jpg",
    ]


def test_a_mirror_serves_a_site_from_its_folder(browser: Browser, tmp_path: Path) -> None:
    wide_png(tmp_path / "wide.png")
    page = '<img src="https://site.example/wide.png"><img src="https://site.example/gone.png">'
    before = len(browser.blocked)

    wide = browser.scroll_width(page, 320, mirror={"https://site.example/": tmp_path})

    assert wide > 320
    assert browser.blocked[before:] == ["https://site.example/gone.png"]


# --- the example publication ------------------------------------------------------


def test_the_example_digest_fits_every_width(browser: Browser, tmp_path: Path) -> None:
    # Imported here, so that the harness tests above still run while the pipeline is broken.
    from test_feeds import example

    feeds = example(tmp_path)
    site = tomllib.loads((REPO / "syndicate.toml").read_text(encoding="utf-8"))["site"]["url"]
    pages = sorted(feeds.glob("digests/*/index.html"))
    assert pages, "the example publication has a digest with a web version"
    mirror = {site: feeds}
    before = len(browser.blocked)
    too_wide = {}
    for page in pages:
        name = "digest" if len(pages) == 1 else f"digest-{page.parent.name}"
        for width in WIDTHS:
            shot = SCREENSHOTS / f"{name}-{width}.png"
            scroll = browser.scroll_width(page, width, mirror=mirror, screenshot=shot)
            if scroll > width:
                too_wide[f"{page.parent.name} at {width}px"] = scroll
            cut = browser.clipped(page, width, mirror=mirror)
            if cut:
                too_wide[f"{page.parent.name} at {width}px, cut off"] = cut
    assert too_wide == {}, f"scrollWidth wider than the viewport; see {SCREENSHOTS}"
    missing = [url for url in browser.blocked[before:] if url.startswith(site)]
    assert missing == [], "the digest links to files the build did not write"


def test_the_email_itself_fits_every_width_even_with_wide_content(
    browser: Browser, publication: MakePublication
) -> None:
    """The email body (not only its web version), in "article" mode, with content that
    pushes sideways: a wide table, a long unbroken URL and word, a long code line."""
    wide = "| " + " | ".join(f"column {n}" for n in range(12)) + " |\n"
    wide += "|" + "---|" * 12 + "\n" + "| " + " | ".join("x" * 12 for _ in range(12)) + " |\n"
    body = (
        "A link: https://example.org/"
        + "a" * 200
        + "\n\n"
        + "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4
        + "\n\n"
        + wide
        + "\n```python\nprint('"
        + "y" * 300
        + "')\n```\n"
    )
    config = SITE + '\n[email]\nfrom = "Test Times <news@example.org>"\nmode = "article"\n'
    root = publication(
        {"content/wide.md": article("A " + "very-long-title-" * 8, body=body)}, config
    )
    [email] = build(root, NOW).due
    for width in WIDTHS:
        shot = SCREENSHOTS / f"article-email-{width}.png"
        assert browser.scroll_width(email.html, width, screenshot=shot) <= width, width
        assert browser.clipped(email.html, width) == [], width
