"""Where a card's text goes: the layout file (``templates/social/card.toml``), the title
wrapped and shrunk to fit its area, the footer cut to one line.

Sizes, margins and the overlay's opacity are the layout file's; to change how a card is
laid out, change it (or :func:`fit_title` for how a title wraps).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from ...errors import RenderError
from .fonts import Box, Typeset, social_templates, typeset, union
from .model import SIZE

ELLIPSIS = "…"
#: The most characters of a title, and of the author, that a card lays out: more than
#: fit its lines at the smallest size.  A longer one is cut there with "…" first, so that
#: a title of megabytes costs no more than one that fills the card.
MAX_TITLE = 1000
MAX_META = 300
# Closing punctuation that must not begin a line of CJK text.
_NO_LINE_START = frozenset("、。，．・：；！？）」』】〉》〕］｝ー々")


class Frame(NamedTuple):
    """The ``[layout]`` table of the layout file: pixels, but for the two ratios."""

    margin: int
    stripe: int
    header: int
    footer: int
    gap: int
    site_size: int
    meta_size: int
    title_max: int
    title_min: int
    title_step: int
    line_height: float
    overlay: float


def layout_file() -> Path:
    """The card's layout: ``social/card.toml`` among the default templates."""
    return social_templates() / "card.toml"


def load_frame(path: Path | None = None) -> Frame:
    """The layout file at *path* (by default :func:`layout_file`), read once while it
    does not change; a :class:`RenderError` when it cannot be read or makes no sense."""
    path = path or layout_file()
    stat = path.stat()
    return _read_frame(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_frame(path: Path, mtime_ns: int, size: int) -> Frame:
    del mtime_ns, size  # only part of the cache's key
    where = str(path)
    try:
        table = tomllib.loads(path.read_bytes().decode("utf-8"))["layout"]
        values = {name: table[name] for name in Frame._fields}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise RenderError(f"{where}: cannot read the card layout: {error}") from None
    for name, value in values.items():
        kind = float if name in ("line_height", "overlay") else int
        if isinstance(value, bool) or not isinstance(value, (kind, int)) or value < 0:
            raise RenderError(f"{where}: {name}: expected a non-negative {kind.__name__}")
    frame = Frame(**values)
    if not 0 < frame.title_min <= frame.title_max or frame.title_step < 1:
        raise RenderError(f"{where}: expected 0 < title_min <= title_max and title_step >= 1")
    if frame.overlay > 1 or frame.line_height < 1:
        raise RenderError(f"{where}: expected overlay <= 1 and line_height >= 1")
    return frame


def title_area(frame: Frame) -> Box:
    """Where the title goes: between the header and the footer, inside the margins."""
    width, height = SIZE
    m = frame.margin
    return (m, m + frame.header + frame.gap, width - m, height - m - frame.footer - frame.gap)


# -- wrapping -----------------------------------------------------------------------------


class Token(NamedTuple):
    """A word, or one CJK character: where a line may break."""

    text: str
    space_before: bool


_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x9FFF),  # CJK radicals, punctuation, kana, ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # fullwidth forms
    (0x20000, 0x3FFFF),  # CJK extensions
)
_CJK = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES) + "]")


def tokens(text: str) -> list[Token]:
    """Words, and CJK characters one by one (closing punctuation kept with the one before)."""
    found: list[Token] = []
    word = ""
    space = False
    for char in text:
        if char == " ":
            if word:
                found.append(Token(word, space))
                word = ""
            space = True
        elif _CJK.match(char):
            if char in _NO_LINE_START and (word or found) and not space:
                if word:
                    word += char
                else:
                    found[-1] = Token(found[-1].text + char, found[-1].space_before)
                continue
            if word:
                found.append(Token(word, space))
                space = False
            word = ""
            found.append(Token(char, space))
            space = False
        else:
            word += char
    if word:
        found.append(Token(word, space))
    return found


def _join(line: Sequence[Token]) -> str:
    return "".join((" " if t.space_before and i else "") + t.text for i, t in enumerate(line))


def _graphemes(text: str) -> list[str]:
    """*text* in user-perceived characters: a base with its combining marks."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char).startswith("M"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


class _Fits:
    """Whether a text fits one line *width* wide."""

    def __init__(self, typeset: Typeset, width: int, rtl: bool = False) -> None:
        self.typeset, self.width, self.rtl = typeset, width, rtl

    def __call__(self, text: str) -> bool:
        return self.typeset.width(text, self.rtl) <= self.width


def _split_long(token: Token, fits: _Fits) -> list[Token]:
    """A word too wide for a line, cut into pieces that fit, at grapheme boundaries."""
    pieces: list[Token] = []
    piece = ""
    for cluster in _graphemes(token.text):
        if piece and not fits(piece + cluster):
            pieces.append(Token(piece, token.space_before if not pieces else False))
            piece = ""
        piece += cluster
    if piece:
        pieces.append(Token(piece, token.space_before if not pieces else False))
    return pieces


def _wrap(words: Sequence[Token], fits: _Fits, most: int) -> list[list[Token]]:
    """*words* in lines that fit; no more than *most* + 1 of them, which is enough to
    tell that they do not fit in *most*."""
    lines: list[list[Token]] = []
    line: list[Token] = []
    for token in words:
        if len(lines) > most:
            return lines
        if line and fits(_join([*line, token])):
            line.append(token)
            continue
        if line:
            lines.append(line)
        line = []
        if fits(token.text):
            line = [token]
        else:
            *whole, last = _split_long(token, fits)
            lines.extend([piece] for piece in whole)
            line = [last]
    if line:
        lines.append(line)
    return lines


def _truncate(line: Sequence[Token], fits: _Fits) -> str:
    """*line* cut at its end until it fits with "…" after it: by words, else graphemes."""
    kept = list(line)
    while kept:
        text = _join(kept).rstrip()
        if fits(text + ELLIPSIS):
            return text + ELLIPSIS
        if len(kept) > 1:
            kept.pop()
        else:
            clusters = _graphemes(kept[0].text)[:-1]
            kept = [Token("".join(clusters), kept[0].space_before)] if clusters else []
    return ELLIPSIS


class Title(NamedTuple):
    """A title laid out: its size, its lines and their baselines, and its ink's box."""

    size: int
    lines: tuple[str, ...]
    baselines: tuple[int, ...]
    box: Box


#: How many lines past the title area's capacity are laid out before a size is given up:
#: ink above the lines' ascent (stacked marks) may let one more line fit.
_SPARE_LINES = 2


def fit_title(text: str, chain: Sequence[Path], area: Box, frame: Frame, rtl: bool) -> Title:
    """The largest size at which *text* fits *area*; at the smallest, cut with "…".  A
    title running right to left (*rtl*) has its lines aligned right."""
    left, top, right, bottom = area
    words = tokens(text)
    if not words:
        return Title(frame.title_max, (), (), (left, top, left, top))
    size = frame.title_max
    while True:
        font = typeset(tuple(chain), size)
        fits = _Fits(font, right - left, rtl)
        smallest = size - frame.title_step < frame.title_min
        step = round(size * frame.line_height)
        capacity = max(1, (bottom - top - font.ascent - font.descent) // step + 1)
        # Lines well past what the area holds are not laid out: a title that has them does
        # not fit (a long one would cost its whole length at every size).
        most = capacity + _SPARE_LINES
        wrapped = _wrap(words, fits, most)
        if len(wrapped) > most and not smallest:
            size -= frame.title_step
            continue
        lines = [_join(line) for line in wrapped]
        if smallest and len(lines) > capacity:
            lines = [*lines[: capacity - 1], _truncate(wrapped[capacity - 1], fits)]
        while True:
            height = font.ascent + (len(lines) - 1) * step + font.descent
            first = top + max(0, (bottom - top - height) // 2) + font.ascent
            baselines = [first + i * step for i in range(len(lines))]
            box = union(
                font.ink(line, left, right, baseline, rtl)
                for line, baseline in zip(lines, baselines, strict=True)
            )
            inside = box[0] >= left and box[1] >= top and box[2] <= right and box[3] <= bottom
            if inside or not smallest:
                break
            # Marks stacked above the font's ascent (or a wide glyph) still reach out of
            # the area at the smallest size: give up a line for room.
            if len(lines) == 1:
                lines = [""]
                break
            keep = len(lines) - 1
            lines = [*lines[: keep - 1], _truncate(wrapped[keep - 1], fits)]
        if inside or smallest:
            return Title(size, tuple(lines), tuple(baselines), box if inside else area)
        size -= frame.title_step


def clip(text: str, limit: int) -> str:
    """*text*, or its first *limit* characters and "…"."""
    return text if len(text) <= limit else text[:limit].rstrip() + ELLIPSIS


def one_line(font: Typeset, text: str, width: int, rtl: bool = False) -> str:
    """*text*, cut with "…" where it would be wider than *width*."""
    fits = _Fits(font, width, rtl)
    return text if fits(text) else _truncate(tokens(text), fits)
