"""The plain-text part: an article's sanitised HTML as text, lines wrapped by display width.

The text a reader of the plain-text part sees is what the HTML shows, not the Markdown it
was written in: links as "text (URL)", absolute; headings underlined; lists with their
markers; tables as columns.  Lines are at most 72 columns wide, counting a CJK character
as two, and break where a reader of that script expects.
"""

from __future__ import annotations

import unicodedata

from syndicate.email.text import display_width, html_to_text, wrap

BASE = "https://news.example.org/posts/here/"


def columns(line: str) -> int:
    """Display width by East Asian Width alone, as a terminal counts CJK."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_links_show_their_absolute_url_after_their_text() -> None:
    html = (
        '<p>See <a href="../other/">the other post</a>, '
        '<a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>, '
        '<a href="mailto:desk@example.org">the desk</a> and <a href="#notes">notes</a>.</p>'
    )
    assert html_to_text(html, BASE) == (
        "See the other post (https://news.example.org/posts/other/),\n"
        "https://example.org/a?b=1&c=2, the desk (desk@example.org) and notes."
    )


def test_headings_lists_quotes_and_code_read_as_text() -> None:
    html = (
        "<h2>Plans</h2><p>Intro.</p><h3>東京の計画</h3>"
        '<ol start="3"><li>Third<ul><li>nested</li></ul></li><li>Fourth</li></ol>'
        "<blockquote><p>Quoted &amp; kept.</p></blockquote>"
        "<pre><code>for x in y:\n    print(x)  # a long line that is never wrapped at all, "
        "whatever its length may be\n</code></pre>"
    )
    assert html_to_text(html, BASE) == (
        "Plans\n=====\n\nIntro.\n\n東京の計画\n----------\n\n"
        "3. Third\n   - nested\n4. Fourth\n\n"
        "> Quoted & kept.\n\n"
        "    for x in y:\n"
        "        print(x)  # a long line that is never wrapped at all, whatever its length may be"
    )


def test_a_long_list_item_wraps_under_its_own_text() -> None:
    text = html_to_text(f"<ul><li>{'word ' * 30}</li></ul>", BASE)
    first, *rest = text.splitlines()
    assert first.startswith("- word") and rest
    assert all(line.startswith("  word") for line in rest)
    assert all(len(line) <= 72 for line in text.splitlines())


def test_images_show_their_alt_text_or_else_their_title() -> None:
    html = (
        '<p><img src="a.png" alt="A market 🏪"> <img src="b.png" title="A stall">'
        ' <img src="c.png" alt="" title="decoration"></p>'
    )
    assert html_to_text(html, BASE) == "[A market 🏪] [A stall]"


def test_a_table_is_columns_aligned_by_display_width() -> None:
    html = (
        "<table><thead><tr><th>都市</th><th>Books</th></tr></thead><tbody>"
        "<tr><td>東京</td><td>300,000</td></tr><tr><td>Paris</td><td>12</td></tr>"
        "</tbody></table>"
    )
    assert html_to_text(html, BASE) == (
        "都市   Books\n-----  -------\n東京   300,000\nParis  12"
    )


def test_a_table_too_wide_for_a_line_is_one_block_per_row() -> None:
    long = "a sentence that goes on " * 3
    html = (
        "<table><tr><th>Name</th><th>Notes</th></tr>"
        f"<tr><td>One</td><td>{long}</td></tr><tr><td>Two</td><td>short</td></tr></table>"
    )
    text = html_to_text(html, BASE)
    assert text.startswith("Name: One\nNotes: a sentence that goes on")
    assert text.endswith("\n\nName: Two\nNotes: short")
    assert all(len(line) <= 72 for line in text.splitlines())


def test_cjk_wraps_by_display_width_and_keeps_punctuation_with_its_word() -> None:
    text = wrap("館長は「本と人、そして人と人をつなぐ場所にしたい」と話した。" * 4)
    lines = text.splitlines()
    assert len(lines) > 1
    assert all(columns(line) <= 72 for line in lines)
    assert not [line for line in lines if line[0] in "、。」"]
    assert not [line for line in lines if line[-1] == "「"]
    assert "".join(lines) == "館長は「本と人、そして人と人をつなぐ場所にしたい」と話した。" * 4


def test_an_emoji_sequence_is_never_split_and_counts_as_one_emoji() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert display_width(family) == display_width("🏳\ufe0f\u200d🌈") == display_width("🇯🇵") == 2
    text = wrap(" ".join([family] * 40), 20)
    assert all(line.split(" ") == [family] * len(line.split(" ")) for line in text.splitlines())


def test_a_word_or_url_longer_than_a_line_stays_whole() -> None:
    url = "https://example.org/" + "x" * 80
    assert wrap(f"See {url} now") == f"See\n{url}\nnow"
