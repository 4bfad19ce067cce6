"""The card's fonts, and one line of text measured and drawn through Pillow's text API.

Each character is drawn with the first font of a chain whose character map has it: the
publication's own font, Noto Sans (Latin, Cyrillic, Greek, Vietnamese), Noto Sans Arabic,
a CJK font found on the machine (:data:`SYSTEM_FALLBACKS`), then the shipped Droid Sans
Fallback.  A character no font has (emoji, say) is left out rather than drawn as a box,
and reported.

Arabic is shaped by Pillow's libraqm layout.  A Pillow without libraqm cannot join Arabic
letters, so there the Arabic font leaves the chain and Arabic letters are reported like
any other missing glyph instead of being drawn unjoined and in the wrong order.  A line
is cut into runs of one font and one direction, ordered by Unicode's bidirectional
algorithm (:mod:`syndicate.social.bidi`); Pillow shapes and draws each word of a run
once, and the card pastes it (:mod:`.words`).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ...errors import RenderError
from ...templating import default_templates
from ..bidi import available as bidi_available
from ..bidi import visual_runs
from .model import CardStyle, Placed
from .words import Word, advance, bounds, load_font, mask, words

if TYPE_CHECKING:
    from PIL import Image

#: Fonts looked for on the machine, in order, for the scripts the shipped fonts lack (CJK).
#: Only the first one found is used.
SYSTEM_FALLBACKS: tuple[Path, ...] = tuple(
    Path(path)
    for path in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/System/Library/Fonts/PingFang.ttc",
        "C:/Windows/Fonts/msyh.ttc",
    )
)

#: Shipped with the package: CJK glyphs (Chinese, Japanese kana and kanji, Korean Hangul).
CJK_FALLBACK = "DroidSansFallback.ttf"

#: Unicode's first-strong isolate and its end: a part of a line (a name, a date) in one,
#: ordered apart from what is around it (HTML's ``<bdi>``).
ISOLATE, END_ISOLATE = "\u2068", "\u2069"
NO_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")

Box = tuple[int, int, int, int]


@functools.cache
def social_templates() -> Path:
    """The default templates' ``social`` folder (where the package is does not change)."""
    return default_templates() / "social"


def fonts_dir() -> Path:
    """The shipped fonts (Noto Sans and Noto Sans Arabic, OFL: see OFL.txt there)."""
    return social_templates() / "fonts"


@functools.cache
def raqm_available() -> bool:
    """Whether Pillow lays text out with libraqm (needed to shape Arabic)."""
    from PIL import features

    return bool(features.check("raqm"))


def system_fallback() -> Path | None:
    """The first of :data:`SYSTEM_FALLBACKS` on this machine, or None."""
    return _first_file(SYSTEM_FALLBACKS)


@lru_cache(maxsize=4)
def _first_file(paths: tuple[Path, ...]) -> Path | None:
    return next((path for path in paths if path.is_file()), None)


def font_chain(style: CardStyle, *, bold: bool) -> tuple[Path, ...]:
    """The fonts tried, in order, for each character of the title (*bold*) or the rest."""
    return _chain(style.font, bold, raqm_available(), system_fallback())


@lru_cache(maxsize=16)
def _chain(own: Path | None, bold: bool, raqm: bool, fallback: Path | None) -> tuple[Path, ...]:
    shipped = fonts_dir()
    weight = "Bold" if bold else "Regular"
    chain = [shipped / f"NotoSans-{weight}.ttf"]
    if own is not None:
        chain.insert(0, own)
    if raqm:
        chain.append(shipped / f"NotoSansArabic-{weight}.ttf")
    # CJK: a machine's own CJK font first (it has a bold), else the shipped Droid Sans
    # Fallback (Apache 2.0), so CJK titles draw everywhere.
    if fallback is not None:
        chain.append(fallback)
    chain.append(shipped / CJK_FALLBACK)
    return tuple(chain)


@lru_cache(maxsize=16)
def covered(path: Path) -> frozenset[int]:
    """The code points the font at *path* has glyphs for."""
    from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError, KeyError) as error:
        raise RenderError(f"{path}: cannot read the font: {error}") from None


def _ignorable(char: str) -> bool:
    # Zero-width joiners, variation selectors and other format characters draw nothing
    # (in emoji sequences, whose emoji are left out anyway).
    return unicodedata.category(char) in ("Cf", "Cc", "Cs", "Co", "Cn")


def drawable(text: str, chain: Sequence[Path]) -> tuple[str, str]:
    """*text* without the characters no font in *chain* has, and those characters."""
    maps = [covered(path) for path in chain]
    if text.isprintable() and maps[0].issuperset(map(ord, text)):
        return text, ""
    kept, missing = [], []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif _ignorable(char):
            continue
        elif any(ord(char) in cmap for cmap in maps):
            kept.append(char)
        else:
            missing.append(char)
    return "".join(kept), "".join(dict.fromkeys(missing))


class Run(NamedTuple):
    """Text drawn with one font of a chain (its index), in one direction."""

    font: int
    text: str
    #: Drawn right to left (libraqm mirrors its brackets): part of a right-to-left level.
    rtl: bool = False


def font_runs(text: str, chain: Sequence[Path]) -> list[Run]:
    """*text* split into runs drawn with one font each (every character has a font)."""
    maps = [covered(path) for path in chain]
    if maps[0].issuperset(map(ord, text)):
        return [Run(0, text)] if text else []
    runs: list[Run] = []
    for char in text:
        code = ord(char)
        current = runs[-1].font if runs else None
        # Spaces, digits, punctuation and marks stay with the run they are in, if its
        # font has them, so that a Latin word in Arabic text does not split the line.
        if (
            current is not None
            and code in maps[current]
            and (char == " " or not unicodedata.category(char).startswith("L"))
        ):
            index = current
        else:
            index = next((i for i, cmap in enumerate(maps) if code in cmap), 0)
        if runs and runs[-1].font == index:
            runs[-1] = Run(index, runs[-1].text + char)
        else:
            runs.append(Run(index, char))
    return runs


def shaped() -> bool:
    """Whether lines are ordered by Unicode's bidirectional algorithm and right-to-left
    runs drawn so: with libraqm, which shapes them, and FriBidi, which orders them."""
    return raqm_available() and bidi_available()


def right_to_left(text: str) -> bool:
    """Whether *text* has a character that runs right to left, or makes what is around
    it do so (an Arabic digit)."""
    if text.isascii():
        return False
    return any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for char in text)


def union(boxes: Iterable[Box]) -> Box:
    """The smallest box holding every non-empty one of *boxes*; (0, 0, 0, 0) for none."""
    found = [box for box in boxes if box[2] > box[0] and box[3] > box[1]]
    if not found:
        return (0, 0, 0, 0)
    return (
        min(box[0] for box in found),
        min(box[1] for box in found),
        max(box[2] for box in found),
        max(box[3] for box in found),
    )


#: How many runs a :class:`Typeset` keeps measured: more than one card tries.
_KEPT_RUNS = 256


class Typeset:
    """A chain of fonts at one size: measures, places and draws one line of text, word
    by word (:mod:`.words`)."""

    def __init__(self, chain: Sequence[Path], size: int) -> None:
        self.chain = tuple(chain)
        self.size = size
        self.ascent, self.descent = load_font(chain[0], size).getmetrics()
        # Fitting a title measures its lines, and drawing them measures them again.  The
        # lines tried are rarely another card's: the few the card being drawn needs are
        # kept (:data:`_KEPT_RUNS`), not every line of the publication.
        self._words: dict[Run, tuple[list[Word], float]] = {}

    def length(self, run: Run) -> float:
        """The run's advance: its words' and spaces', as Pillow lays each out."""
        return self.split(run)[1]

    def split(self, run: Run) -> tuple[list[Word], float]:
        """The run's words, and its advance (:func:`.words.words`)."""
        found = self._words.get(run)
        if found is None:
            if len(self._words) >= _KEPT_RUNS:
                self._words.clear()
            # A run that runs left to right with right-to-left letters in it is left
            # whole: without FriBidi, libraqm orders its words itself.
            cut = run.rtl or not right_to_left(run.text)
            found = words(self.chain[run.font], self.size, run.text, run.rtl, cut)
            self._words[run] = found
        return found

    def width(self, text: str, rtl: bool = False) -> float:
        """*text*'s width as one line of a paragraph running right to left (*rtl*) or not."""
        return sum(self.length(run) for run in self.pieces(text, rtl))

    def pieces(self, text: str, rtl: bool) -> list[Run]:
        """*text*, one line of a paragraph running right to left (*rtl*) or not, as runs of
        one font and one direction, in the order they are drawn from left to right: its
        runs of one embedding level in their order, each cut where its font changes,
        those of a right-to-left one from the right."""
        if not shaped() or (not rtl and not right_to_left(text)):
            runs = font_runs(text, self.chain)  # one level: no reordering, nothing to mirror
            return runs[::-1] if rtl else runs
        found = []
        for level in visual_runs(text, rtl):
            shown = level.text.translate(NO_ISOLATES)  # they order the line, and draw nothing
            runs = [run._replace(rtl=level.rtl) for run in font_runs(shown, self.chain)]
            found += runs[::-1] if level.rtl else runs
        return found

    def place(self, text: str, left: int, right: int, rtl: bool = False) -> list[tuple[int, Run]]:
        """Where each run goes, from left to right: the line aligned left, or right in a
        paragraph running right to left (*rtl*)."""
        runs = self.pieces(text, rtl)
        widths = [self.length(run) for run in runs]
        x = float(right) - sum(widths) if rtl else float(left)
        placed = []
        for run, width in zip(runs, widths, strict=True):
            placed.append((round(x), run))
            x += width
        return placed

    def runs(self, text: str, left: int, right: int, rtl: bool = False) -> list[Placed]:
        """What :meth:`place` places, each run with the columns its advance spans."""
        return [
            Placed(run.text, x, x + round(self.length(run)), run.rtl)
            for x, run in self.place(text, left, right, rtl)
        ]

    def words(self, text: str, left: int, right: int, rtl: bool) -> list[tuple[int, Path, Run]]:
        """Each word of the line, with the column of its pen's start and its font: a
        right-to-left run's words from its right end."""
        found = []
        for x, run in self.place(text, left, right, rtl):
            path = self.chain[run.font]
            placed, total = self.split(run)
            for offset, word in placed:
                if run.rtl:  # its first word at its right end
                    offset = total - offset - advance(path, self.size, word, True)
                found.append((round(x + offset), path, run._replace(text=word)))
        return found

    def ink(self, text: str, left: int, right: int, baseline: int, rtl: bool = False) -> Box:
        """The box the line's ink covers, drawn with its baseline at *baseline*."""
        boxes = []
        for x, path, word in self.words(text, left, right, rtl):
            x0, y0, x1, y1 = bounds(path, self.size, word.text, word.rtl)
            boxes.append((x + x0, baseline + y0, x + x1, baseline + y1))
        return union(boxes)

    def draw(self, layer: Image.Image, text: str, box: tuple[int, int, int], rtl: bool) -> None:
        """Draw *text*'s coverage on *layer* ("L"), between the columns ``box[0]`` and
        ``box[1]`` with its baseline at ``box[2]``, in a paragraph running right to left
        (*rtl*) or not."""
        left, right, baseline = box
        for x, path, word in self.words(text, left, right, rtl):
            coverage = mask(path, self.size, word.text, word.rtl)
            if coverage is not None:
                x0, y0, _, _ = bounds(path, self.size, word.text, word.rtl)
                layer.paste(255, (x + x0, baseline + y0), coverage)


@lru_cache(maxsize=64)
def typeset(chain: tuple[Path, ...], size: int) -> Typeset:
    """The :class:`Typeset` of *chain* at *size*, made once."""
    return Typeset(chain, size)
