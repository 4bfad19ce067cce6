"""Bounds on what a hostile Markdown body can make the parsers do.

Every step from Markdown to safe HTML is linear in the body's size but two, which are
bounded here before they run: comrak fills every row of a table up to the table's
columns (a long delimiter row over many short rows made output the square of the input:
:func:`bounded_tables`), and html5ever, the HTML parser inside nh3, walks the elements
open around each tag (HTML nested without end made the sanitiser quadratic:
:func:`bounded_depth`).
"""

from __future__ import annotations

import re
import string

#: The most empty cells comrak may add to the rows of an article's tables (a row shorter
#: than its table is filled up with empty cells).  An ordinary table adds a few.
MAX_ADDED_CELLS = 200_000
#: A line that may be a table's delimiter row (``|---|:--:|``), inside quotes or lists.
_DELIMITER_ROW = re.compile(
    r"^[ \t>]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$", re.MULTILINE
)
_CELL = re.compile(r"-+")
#: A blank line, which ends a table (in a quote, a line of nothing but ">").
_BLANK_LINE = re.compile(r"\n[ \t>]*(?:\n|\Z)")


def bounded_tables(text: str) -> str:
    """*text* with no table that would make comrak add more than :data:`MAX_ADDED_CELLS`
    empty cells in all: from the table where they would run over, a delimiter row is
    written ``|\\-|...``, which is no delimiter row, and its table stays text.

    comrak gives every row of a table as many cells as the delimiter row has columns: a
    delimiter row of 100,000 columns over 100,000 rows of two characters would be ten
    billion cells.  Each table's rows are counted up to the next blank line (where a table
    ends at the latest), and what a row lacks is counted from its unescaped ``|``: a row
    with *n* of them has at least *n* - 1 cells.  The count is never below what comrak
    adds (but for a row that writes out more cells than its table has, which costs bytes
    of its own), and the cells an article writes out cost their own bytes."""
    if "|" not in text or "-" not in text:  # no table (most articles)
        return text
    added = 0
    cuts: list[int] = []
    # From the end of the last row looked at to the next blank line: its line breaks and
    # "|", kept up to date as the rows of one stretch are met (each counted once).
    seen = stretch_end = lines = bars = 0
    for row in _DELIMITER_ROW.finditer(text):
        if row.end() >= stretch_end:
            blank = _BLANK_LINE.search(text, row.end())
            stretch_end = len(text) if blank is None else blank.start()
            lines = text.count("\n", row.end(), stretch_end)
            bars = _bars(text, row.end(), stretch_end)
        else:
            lines -= text.count("\n", seen, row.end())
            bars -= _bars(text, seen, row.end())
        seen = row.end()
        # Each of the stretch's lines is at most one row, with at least its bars less one cells.
        lacking = len(_CELL.findall(row.group())) * lines - bars + lines
        if lacking <= 0:
            continue
        if added + lacking > MAX_ADDED_CELLS:
            cuts.append(text.index("-", row.start()))
        else:
            added += lacking
    if not cuts:
        return text
    pieces = []
    start = 0
    for cut in cuts:
        pieces += [text[start:cut], "\\"]
        start = cut
    pieces.append(text[start:])
    return "".join(pieces)


def _bars(text: str, start: int, end: int) -> int:
    """The ``|`` between *start* and *end* that separate cells (``\\|`` is a ``|`` in a cell)."""
    return text.count("|", start, end) - text.count("\\|", start, end)


#: How deep elements may be nested in the HTML the sanitiser parses.  html5ever walks the
#: open elements for many of the tags it reads, so HTML nested without end (a million
#: ``>``, or ``<div>`` never closed) made sanitising quadratic.  A browser flattens deeply
#: nested HTML itself (Blink below 512 elements); no article needs this many.
MAX_DEPTH = 128
#: Elements that have no end tag.
_VOID = frozenset(
    {
        *("area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr"),
        *("image", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"),
    }
)
#: What a start tag closes when it is the current element, as HTML's parser does:
#: ``<li>a<li>b`` is two items, not one inside the other.
_CLOSES = {
    "p": {"p"},
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "option": {"option"},
    "optgroup": {"option", "optgroup"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "tr": {"td", "th", "tr"},
    **{name: {"td", "th", "tr", "thead", "tbody", "tfoot"} for name in ("thead", "tbody", "tfoot")},
}
#: Elements whose end tag may be left out: an end tag closes the element it names
#: through them (``</ul>`` after an unclosed ``<li>``).
_IMPLIED = frozenset(
    {
        *("p", "li", "dt", "dd", "option", "optgroup", "td", "th", "tr", "thead", "tbody"),
        *("tfoot", "caption", "colgroup", "rb", "rp", "rt", "rtc"),
    }
)
#: Elements whose content is not HTML's: SVG and MathML.
_FOREIGN = frozenset({"svg", "math"})
#: How many unclosed elements an end tag closes through, at most.
_IMPLIED_RUN = 8
#: A tag, to its first ">" (one in a quoted attribute ends it early here: the rest is
#: counted as text, or as tags the parser does not see, never the reverse).
_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)[^>]*>")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def bounded_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """*html* with no element nested more than *limit* deep: a start tag deeper than that
    is left out, with the end tag that closes it, and what it held stays where it is.

    Elements are counted as HTML's parser opens them, but for what it closes without an
    end tag beyond the cases of :data:`_CLOSES` and :data:`_IMPLIED`: the count may be
    above the parser's depth, never far below it, whatever the HTML.  Each tag is looked
    at once, so this is linear too."""
    if html.count("<") <= limit:  # too few tags to be that deep (most articles)
        return html
    stack: list[str] = []
    dropped: dict[str, int] = {}
    pieces: list[str] = []
    copied = 0  # where the HTML not yet copied to pieces starts
    # Inside <svg> or <math> every start tag opens an element (none is void, none closes
    # another): they are counted as such while one of those is open.
    foreign: list[int] = []  # where each open <svg> and <math> is in the stack
    # Up to the last ">": a tag without its ">" runs to the end, where the parser makes
    # nothing of it, and a search for one from each "<" after it would be quadratic.
    for tag in _TAG.finditer(html, 0, html.rfind(">") + 1):
        closing, name = tag.groups()
        if not name.islower():
            name = name.translate(_ASCII_LOWER)
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
            else:
                if stack and stack[-1] == name:
                    stack.pop()
                else:
                    _close(stack, name)
                while foreign and foreign[-1] >= len(stack):
                    foreign.pop()
                continue
        elif not foreign and name in _VOID:
            continue
        else:
            closes = None if foreign else _CLOSES.get(name)
            while closes and stack and stack[-1] in closes:
                stack.pop()
            if len(stack) < limit:
                if name in _FOREIGN:
                    foreign.append(len(stack))
                stack.append(name)
                continue
            dropped[name] = dropped.get(name, 0) + 1
        pieces.append(html[copied : tag.start()])
        copied = tag.end()
    if not pieces:
        return html
    pieces.append(html[copied:])
    return "".join(pieces)


def _close(stack: list[str], name: str) -> None:
    """An end tag for *name*: it closes *name* when that is the current element, or lies
    below a few elements whose end tags may be left out."""
    for depth in range(1, min(len(stack), _IMPLIED_RUN) + 1):
        current = stack[-depth]
        if current == name:
            del stack[-depth:]
            return
        if current not in _IMPLIED:
            return
