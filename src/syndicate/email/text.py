"""Plain text for the email's text part: an article's HTML as text, and lines wrapped by
the width they take on screen.

A plain-text reader sees what the HTML shows, not the Markdown it was written in: links
as "text (URL)" with absolute URLs, headings underlined, lists with their markers, quotes
behind "> ", code as it is, tables as aligned columns (or, too wide for a line, one
"header: value" line per cell).

Widths are display widths (Unicode's East Asian Width): a CJK character or an emoji takes
two columns, a combining mark or a joiner none.  Lines break at spaces, and between two
characters where one of them is wide (CJK has no spaces), but never inside an emoji
sequence, before closing punctuation or after opening punctuation, and never inside a word
or a URL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urljoin

#: The width of the plain-text part: room for a quote marker or two within 78 columns.
WIDTH = 72

#: Characters a line may not start with (closing brackets, CJK full stops and commas,
#: small kana, the prolonged sound mark), nor end with (opening brackets).
_NO_START = frozenset(
    "!%),.:;?]}¢°’”‰′″℃、。〃々〉》」』】〕〗〙〟ゝゞァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎ"
    "ー・！％），．：；？］｝｡｣､･ｧｨｩｪｫｬｭｮｯｰ"
)
_NO_END = frozenset("([{‘“〈《「『【〔〖〘〝（［｛｢")
_SPACES = re.compile(r"[ \t\n\r\f]+")
_RUNS = re.compile(r" {2,}")
#: What makes a sequence one emoji: ZWJ, emoji presentation (VS16), the skin tones.
_EMOJI_JOINERS = frozenset("\u200d\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    """The columns *char* takes: 2 for wide and fullwidth, 0 for marks and format
    characters (joiners, variation selectors), else 1."""
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def display_width(text: str) -> int:
    """The columns *text* takes on a terminal or in a monospaced font: an emoji sequence
    (joined by ZWJ, with a variation selector or a skin tone, a flag) is one emoji, two
    columns wide."""
    if text.isascii():
        return len(text)
    return sum(_cluster_width(cluster) for cluster in _clusters(text))


def _cluster_width(cluster: str) -> int:
    width = sum(char_width(char) for char in cluster)
    if len(cluster) > 1 and (_EMOJI_JOINERS & set(cluster) or _flag_half(cluster[0])):
        return 2
    return width


def _clusters(text: str) -> Iterator[str]:
    """*text* in the pieces a line may never split: a character with the marks, joiners,
    variation selectors and skin tones that follow it, an emoji sequence joined by ZWJ,
    a pair of regional indicators (a flag)."""
    cluster = ""
    for char in text:
        point = ord(char)
        joined = bool(cluster) and (
            char_width(char) == 0
            or cluster[-1] == "\u200d"
            or 0x1F3FB <= point <= 0x1F3FF  # skin tone
            or (0x1F1E6 <= point <= 0x1F1FF and len(cluster) == 1 and _flag_half(cluster))
        )
        if joined:
            cluster += char
        else:
            if cluster:
                yield cluster
            cluster = char
    if cluster:
        yield cluster


def _flag_half(cluster: str) -> bool:
    return 0x1F1E6 <= ord(cluster) <= 0x1F1FF


def _words(line: str) -> Iterator[tuple[bool, str]]:
    """The pieces of *line* a wrap keeps whole, each with whether a space comes before it.
    Spaces separate pieces; so does the gap between two clusters where one is wide,
    unless punctuation holds them together."""
    for number, word in enumerate(line.split(" ")):
        spaced = number > 0
        if word.isascii():  # no wide character: the word is whole
            if word:
                yield spaced, word
            continue
        piece, previous, was_wide = "", "", False
        for cluster in _clusters(word):
            wide = _cluster_width(cluster) > 1
            if (
                piece
                and (wide or was_wide)
                and cluster[0] not in _NO_START
                and previous[-1] not in _NO_END
            ):
                yield spaced, piece
                piece, spaced = "", False
            piece += cluster
            previous, was_wide = cluster, wide
        yield spaced, piece


def wrap(text: str, width: int = WIDTH, *, indent: str = "", first: str | None = None) -> str:
    """*text* with each line broken to at most *width* columns where it can be (a word or
    URL longer than that stays whole, on a line of its own).  Lines after a line's first
    start with *indent*, the first with *first* (*indent* if not given): a list item's
    marker, a quote's "> "."""
    lead = indent if first is None else first
    out: list[str] = []
    for number, line in enumerate(text.split("\n")):
        prefix = lead if number == 0 else indent
        current, used = prefix, display_width(prefix)
        empty = True
        for spaced, word in _words(line):
            gap = " " if spaced and not empty else ""
            size = display_width(gap + word)
            if not empty and used + size > width:
                out.append(current.rstrip())
                current, used, gap = indent, display_width(indent), ""
                size = display_width(word)
            current += gap + word
            used += size
            empty = False
        out.append(current.rstrip())
    return "\n".join(out)


# --- HTML to text ---------------------------------------------------------------------

_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "source", "wbr"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
    }
)  # fmt: skip
_SKIPPED = frozenset({"script", "style", "template", "head", "title"})


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)

    def attr(self, name: str) -> str:
        return self.attrs.get(name) or ""


class _Tree(HTMLParser):
    """Sanitised HTML (every element closed, as the sanitiser writes it) as a tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("")
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(node)
        if tag not in _VOID:
            self._open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open[-1].children.append(_Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)


def html_to_text(html: str, base_url: str, width: int = WIDTH) -> str:
    """The sanitised HTML *html* as plain text, wrapped to *width* columns; relative links
    resolve against *base_url*."""
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return "\n\n".join(_Text(base_url).blocks(tree.root, width)).strip("\n")


class _Text:
    def __init__(self, base_url: str) -> None:
        self.base = base_url

    def blocks(self, node: _Node, width: int) -> list[str]:
        """The blocks (paragraphs, headings, lists...) in *node*, each as wrapped text."""
        out: list[str] = []
        inline: list[_Node | str] = []

        def flush() -> None:
            text = self.inline(_Node("", children=list(inline))).strip()
            inline.clear()
            if text:
                out.append(wrap(text, width))

        for child in node.children:
            if isinstance(child, str) or child.tag not in _BLOCKS:
                if not (isinstance(child, _Node) and child.tag in _SKIPPED):
                    inline.append(child)
                continue
            flush()
            block = self.block(child, width)
            if block:
                out.append(block)
        flush()
        return out

    def block(self, node: _Node, width: int) -> str:
        tag = node.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = wrap(self.inline(node).strip(), width)
            if not text:
                return ""
            rule = "=" if tag in ("h1", "h2") else "-"
            return f"{text}\n{rule * max(display_width(line) for line in text.splitlines())}"
        if tag in ("ul", "ol"):
            return self.items(node, width)
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(node, width - 2))
            return "\n".join(f"> {line}".rstrip() for line in inner.splitlines())
        if tag == "pre":
            return "\n".join("    " + line for line in _plain(node).strip("\n").splitlines())
        if tag == "hr":
            return "* * *"
        if tag == "table":
            return _table(self.rows(node), width)
        if tag == "dd":
            inner = "\n\n".join(self.blocks(node, width - 4))
            return "\n".join(f"    {line}".rstrip() for line in inner.splitlines())
        return "\n\n".join(self.blocks(node, width))

    def items(self, node: _Node, width: int) -> str:
        items = [c for c in node.children if isinstance(c, _Node) and c.tag == "li"]
        start = int(node.attr("start")) if node.attr("start").isdigit() else 1
        out = []
        for number, item in enumerate(items, start):
            marker = f"{number}. " if node.tag == "ol" else "- "
            indent = " " * len(marker)
            # A loose list (paragraphs in its items) keeps blank lines between blocks.
            loose = any(isinstance(c, _Node) and c.tag == "p" for c in item.children)
            inner = ("\n\n" if loose else "\n").join(self.blocks(item, width - len(marker)))
            lines = inner.splitlines() or [""]
            out.append(
                "\n".join([marker + lines[0]] + [(indent + line).rstrip() for line in lines[1:]])
            )
        return "\n".join(out)

    def rows(self, table: _Node) -> list[tuple[bool, list[str]]]:
        """Each row of *table*: whether it is a header row, and its cells' text."""
        out: list[tuple[bool, list[str]]] = []
        for row in _find(table, "tr"):
            cells = [c for c in row.children if isinstance(c, _Node) and c.tag in ("th", "td")]
            texts = [" ".join(self.inline(cell).split()) for cell in cells]
            out.append((bool(cells) and all(c.tag == "th" for c in cells), texts))
        return out

    def inline(self, node: _Node) -> str:
        """The text of *node*'s inline content, spaces collapsed as HTML does; ``<br>``
        is a line break."""
        parts: list[str] = []
        for child in node.children:
            if isinstance(child, str):
                parts.append(_SPACES.sub(" ", child))
            elif child.tag == "br":
                parts.append("\n")
            elif child.tag == "img":
                # No alt at all (alt="" says the image is decoration): its title, if any.
                said = child.attrs["alt"] if "alt" in child.attrs else child.attr("title")
                alt = " ".join(said.split())
                parts.append(f"[{alt}]" if alt else "")
            elif child.tag == "a":
                parts.append(self.link(child))
            elif child.tag in _BLOCKS:
                parts.append(" " + " ".join(self.blocks(child, 10**6)) + " ")
            elif child.tag not in _SKIPPED:
                parts.append(self.inline(child))
        text = "".join(parts)
        return "\n".join(_RUNS.sub(" ", line).strip(" ") for line in text.split("\n"))

    def link(self, node: _Node) -> str:
        text = self.inline(node)
        href = node.attr("href")
        if not href or href.startswith("#"):
            return text
        url = urljoin(self.base, href)
        shown = " ".join(text.split())
        if not shown:
            return url
        bare = url.removeprefix("mailto:")
        if shown in (url, bare) or url.split("://", 1)[-1].rstrip("/") == shown.rstrip("/"):
            return text
        return f"{text} ({bare})"


def _find(node: _Node, tag: str) -> Iterator[_Node]:
    """Every element *tag* below *node*, in document order, not looking inside one found
    (a table's rows, not a nested table's)."""
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                yield child
            elif child.tag != "table":
                yield from _find(child, tag)


def _plain(node: _Node) -> str:
    return "".join(c if isinstance(c, str) else _plain(c) for c in node.children)


def _table(rows: list[tuple[bool, list[str]]], width: int) -> str:
    """Columns padded to their widest cell, two spaces apart, a rule under header rows.
    A table that cannot fit in *width* becomes one block per row, "header: value" lines."""
    rows = [(head, cells) for head, cells in rows if any(cells)]
    if not rows:
        return ""
    columns = max(len(cells) for _, cells in rows)
    grid = [(head, cells + [""] * (columns - len(cells))) for head, cells in rows]
    widths = [max(display_width(cells[n]) for _, cells in grid) for n in range(columns)]
    if sum(widths) + 2 * (columns - 1) <= width:
        lines = []
        for head, cells in grid:
            padded = [
                cell + " " * (w - display_width(cell))
                for cell, w in zip(cells, widths, strict=True)
            ]
            lines.append("  ".join(padded).rstrip())
            if head:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)
    header = grid[0][1] if grid[0][0] else None
    body = grid[1:] if header else grid
    names = header or [str(n) for n in range(1, columns + 1)]
    return "\n\n".join(
        "\n".join(
            wrap(f"{name}: {cell}", width, indent="  ", first="")
            for name, cell in zip(names, cells, strict=True)
        )
        for _, cells in body
    )
