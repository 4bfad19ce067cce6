"""Social cards: one 1200×630 PNG per article, drawn with Pillow.

A card shows the site name (after the publication's logo, if it has one), the article's
title, wrapped and shrunk to fit, and its author and date.  When the article has an
image it fills the card, cover-cropped and darkened by the background colour at the
``overlay`` opacity of ``templates/social/card.toml``, so any colour scheme keeps its
contrast; without one (or with one that cannot be read) the card is the plain design:
the background colour and an accent stripe.

Text and fonts
    The title is Noto Sans Bold and the rest Noto Sans Regular (OFL, shipped in
    ``templates/social/fonts``), or the publication's own font.  Each character is drawn
    with the first font whose character map has it: the publication's font, Noto Sans
    (Latin, Cyrillic, Greek, Vietnamese), Noto Sans Arabic, then the first CJK font
    found on the machine (:data:`SYSTEM_FALLBACKS`; CJK fonts are too large to ship).
    A character no font has (emoji, or CJK on a machine without a CJK font) is left out
    rather than drawn as a box, and the card's :attr:`Layout.problems` says so.

Arabic and Hebrew
    Arabic is shaped and laid out right to left by Pillow's libraqm layout.  A Pillow
    without libraqm cannot join Arabic letters, so there the Arabic font is not used and
    Arabic letters are left out like any other missing glyph (and reported) instead of
    being drawn unjoined and in the wrong order.  A line whose first strong character is
    right-to-left is right-aligned, and its runs of different fonts are placed from the
    right; inside a run libraqm resolves the direction itself.

Speed
    A build renders a card for every article, so a card is drawn in pieces that are made
    once and kept: the fonts and their character maps, the layout file, and the backdrop
    (the background, the stripe, the logo and the site name, the same on every card of a
    publication).  Each card draws only its title and its author and date.  Latin, Greek
    and Cyrillic text in Noto Sans is drawn cluster by cluster (a ligature, else a
    character), each cluster's bitmap and advances made once by Pillow: the same pixels
    as Pillow drawing the whole line, without FreeType loading and rendering every glyph
    of every line again (:class:`_Clusters`).  The shipped Noto fonts have no hinting
    instructions, which FreeType would run for each glyph it loads, for no visible change.
    Text is drawn as coverage (how much of each pixel the glyphs cover, in 86 steps:
    :data:`LEVELS`), then painted in its colour; so a plain card has at most 256 colours
    (the background and 85 steps from it to each of the accent, the title and the footer
    colours) and is written as a palette PNG, one byte per pixel, by
    :mod:`syndicate.social.png`, which compresses the rows every card shares only once:
    a card compresses only the rows its lines of text are on, drawn straight onto rows
    as wide as the PNG's scanlines.  A title in Noto Sans is laid out word by word, each
    word's clusters placed and measured once per size and reused by every title it is
    in.  A card with an article's image, or with a logo, has more colours: an RGB PNG.

Determinism
    The PNG has no timestamp or text chunks, so the same inputs give the same bytes: the
    kept pieces are made from the same inputs as the card, and only ever copied.
    :func:`card_key` hashes everything a card shows (its texts, the style, the bytes of
    the image, the logo, every font and the layout file, the Pillow version and whether
    libraqm is there) with the syndicate version and :data:`RENDERER`, so a pipeline
    renders a card again only when its key changes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import json
import math
import re
import tomllib
import unicodedata
import zlib
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..config import CardConfig
from ..errors import RenderError
from ..images import ImageError, open_image, reading
from ..language import text_direction
from ..output import json_text
from ..templating import default_templates
from . import png
from .bidi import available as bidi_available
from .bidi import visual_runs

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageFont
    from PIL._imaging import ImagingCore


SIZE = (1200, 630)

#: The revision of how a card is drawn and encoded, part of :func:`card_key`: raising it
#: renders again the cards an earlier renderer left in the output folder.
RENDERER = 5

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

ELLIPSIS = "…"
#: The most characters of a title, and of the author, that a card lays out: more than
#: fit its lines at the smallest size.  A longer one is cut there with "…" first, so that
#: a title of megabytes costs no more than one that fills the card.
MAX_TITLE = 1000
MAX_META = 300
# Closing punctuation that must not begin a line of CJK text.
_NO_LINE_START = frozenset("、。，．・：；！？）」』】〉》〕］｝ー々")


#: How a publication's cards look: ``[social.card]`` in syndicate.toml.
CardStyle = CardConfig


@dataclass(frozen=True, slots=True)
class CardInput:
    """What one article's card shows."""

    site: str
    title: str
    author: str
    #: Already formatted for display.
    date: str
    #: A local image under static/, or None.
    image: Path | None
    #: The direction the article's language runs (``ltr`` or ``rtl``): its title and
    #: byline do, unless most of their words run the other way.
    direction: str = "ltr"


class Placed(NamedTuple):
    """A run of one font and one direction, where a line put it."""

    text: str
    #: The columns its advance spans on the card.
    left: int
    right: int
    #: Drawn right to left, its brackets mirrored.
    rtl: bool


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things were drawn, for tests and for the build's diagnostics."""

    #: The ink box of the title: (left, top, right, bottom), inside ``safe_area``.
    title_box: tuple[int, int, int, int]
    title_size: int
    #: The title's lines as drawn, the last ending with "…" when the title was cut.
    lines: tuple[str, ...]
    safe_area: tuple[int, int, int, int]
    #: Whether the article's image was drawn (False: the plain design).
    image_used: bool = False
    #: What could not be drawn: an unreadable image or logo, characters no font has.
    problems: tuple[str, ...] = field(default=())
    #: The direction the title runs (``rtl``: its lines are aligned right).
    direction: str = "ltr"
    #: Each line of the title as runs, from left to right.
    title_runs: tuple[tuple[Placed, ...], ...] = ()
    #: The author and date line as drawn, its direction, and its runs from left to right.
    footer: str = ""
    footer_direction: str = "ltr"
    footer_runs: tuple[Placed, ...] = ()


# -- layout file --------------------------------------------------------------------------


class _Frame(NamedTuple):
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


@functools.cache
def _social_templates() -> Path:
    # Where the package is does not change while it runs; finding it takes a dozen stats.
    return default_templates() / "social"


def layout_file() -> Path:
    """The card's layout: ``social/card.toml`` among the default templates."""
    return _social_templates() / "card.toml"


@lru_cache(maxsize=4)
def _frame(data: bytes, where: str) -> _Frame:
    try:
        table = tomllib.loads(data.decode("utf-8"))["layout"]
        values = {name: table[name] for name in _Frame._fields}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise RenderError(f"{where}: cannot read the card layout: {error}") from None
    for name, value in values.items():
        kind = float if name in ("line_height", "overlay") else int
        if isinstance(value, bool) or not isinstance(value, (kind, int)) or value < 0:
            raise RenderError(f"{where}: {name}: expected a non-negative {kind.__name__}")
    frame = _Frame(**values)
    if not 0 < frame.title_min <= frame.title_max or frame.title_step < 1:
        raise RenderError(f"{where}: expected 0 < title_min <= title_max and title_step >= 1")
    if frame.overlay > 1 or frame.line_height < 1:
        raise RenderError(f"{where}: expected overlay <= 1 and line_height >= 1")
    return frame


@lru_cache(maxsize=4)
def _read_frame(path: Path, mtime_ns: int, size: int) -> _Frame:
    del mtime_ns, size  # only part of the cache's key
    return _frame(path.read_bytes(), str(path))


def _load_frame() -> _Frame:
    path = layout_file()
    stat = path.stat()
    return _read_frame(path, stat.st_mtime_ns, stat.st_size)


# -- fonts --------------------------------------------------------------------------------


def fonts_dir() -> Path:
    """The shipped fonts (Noto Sans and Noto Sans Arabic, OFL: see OFL.txt there)."""
    return _social_templates() / "fonts"


def raqm_available() -> bool:
    """Whether Pillow lays text out with libraqm (needed to shape Arabic)."""
    return _raqm()


@functools.cache
def _raqm() -> bool:
    from PIL import features

    return bool(features.check("raqm"))


#: Shipped with the package: CJK glyphs (Chinese, Japanese kana and kanji, Korean Hangul).
CJK_FALLBACK = "DroidSansFallback.ttf"


def system_fallback() -> Path | None:
    """The first of :data:`SYSTEM_FALLBACKS` on this machine, or None."""
    return _first_file(SYSTEM_FALLBACKS)


@lru_cache(maxsize=4)
def _first_file(paths: tuple[Path, ...]) -> Path | None:
    # Looked for once per process: every card (and its key) needs the chain.
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
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError, KeyError) as error:
        raise RenderError(f"{path}: cannot read the font: {error}") from None


def covered(path: Path) -> frozenset[int]:
    """The code points the font at *path* has glyphs for."""
    return _cmap(path)


@lru_cache(maxsize=256)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(str(path), size)
    except OSError as error:
        raise RenderError(f"{path}: cannot read the font: {error}") from None


class _Run(NamedTuple):
    font: int
    text: str
    #: Drawn right to left (libraqm mirrors its brackets): part of a right-to-left level.
    rtl: bool = False


def _ignorable(char: str) -> bool:
    # Zero-width joiners, variation selectors and other format characters draw nothing
    # (in emoji sequences, whose emoji are left out anyway).
    return unicodedata.category(char) in ("Cf", "Cc", "Cs", "Co", "Cn")


def _drawable(text: str, chain: Sequence[Path]) -> tuple[str, str]:
    """*text* without the characters no font in *chain* has, and those characters."""
    maps = [covered(path) for path in chain]
    # The usual case: one space between words, nothing to leave out.  Whatever is not
    # printable is a control, format, surrogate, private use or unassigned character, or
    # a space other than " ".
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


def _runs(text: str, chain: Sequence[Path]) -> list[_Run]:
    """*text* split into runs drawn with one font each (every character has a font)."""
    maps = [covered(path) for path in chain]
    if maps[0].issuperset(map(ord, text)):  # the usual case: the first font has it all
        return [_Run(0, text)] if text else []
    runs: list[_Run] = []
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
            runs[-1] = _Run(index, runs[-1].text + char)
        else:
            runs.append(_Run(index, char))
    return runs


def _shaped() -> bool:
    """Whether lines are ordered by Unicode's bidirectional algorithm and right-to-left
    runs drawn so: with libraqm, which shapes them, and FriBidi, which orders them."""
    return raqm_available() and bidi_available()


#: Unicode's first-strong isolate and its end: a part of a line (a name, a date) in one,
#: ordered apart from what is around it (HTML's ``<bdi>``).
ISOLATE, END_ISOLATE = "\u2068", "\u2069"
_NO_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")


def _right_to_left(text: str) -> bool:
    """Whether *text* has a character that runs right to left, or makes what is around
    it do so (an Arabic digit)."""
    if text.isascii():
        return False
    return any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for char in text)


#: The shipped fonts whose shaping of simple text (see :func:`_simple`) is nothing but
#: their ligatures and pair kerning, as the tests check in their tables: text in them is
#: drawn cluster by cluster (see :class:`_Clusters`).
CLUSTERED_FONTS = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf")


@lru_cache(maxsize=4096)
def _simple(char: str) -> bool:
    """Whether *char* is drawn the same whatever is around it, but for kerning and the
    font's ligatures: no mark, joiner or control, nothing right to left, no fraction slash
    (which makes the digits around it a fraction)."""
    return not (
        unicodedata.category(char)[0] in "MC"
        or unicodedata.bidirectional(char) in ("R", "AL", "AN", "NSM")
        or char == "\u2044"
    )


#: The features HarfBuzz applies to horizontal text unless told not to, that change glyphs.
_SUBSTITUTIONS = ("ccmp", "locl", "rlig", "liga", "clig", "calt", "rclt")


class _Clustering(NamedTuple):
    """What of simple text a font draws otherwise than character by character."""

    #: Sequences drawn as one glyph ("fi"), longest first.
    ligatures: tuple[str, ...]
    #: Sequences whose glyphs change with what is around them (a Catalan "l·l").
    contexts: tuple[str, ...]


def subtables(table: Any, features: Container[str] | None = None) -> Iterator[tuple[int, Any]]:
    """Each subtable of the lookups of a GSUB or GPOS *table* (fontTools), with its lookup
    type, an extension subtable opened to the one it holds; only the lookups of
    *features* when they are given."""
    if features is None:
        lookups = list(table.LookupList.Lookup)
    else:
        lookups = [
            table.LookupList.Lookup[index]
            for record in table.FeatureList.FeatureRecord
            if record.FeatureTag in features
            for index in record.Feature.LookupListIndex
        ]
    for lookup in lookups:
        for sub in lookup.SubTable:
            if hasattr(sub, "ExtSubTable"):  # GSUB's type 7, GPOS's type 9
                yield sub.ExtensionLookupType, sub.ExtSubTable
            else:
                yield lookup.LookupType, sub


@lru_cache(maxsize=8)
def _clustering(path: Path) -> _Clustering | None:
    """The ligatures and contextual substitutions of simple text in the font at *path*;
    None when it has substitutions this cannot list."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        if "GSUB" not in font:
            return _Clustering((), ())
        chars: dict[str, list[str]] = {}
        for code, name in (font.getBestCmap() or {}).items():
            chars.setdefault(name, []).append(chr(code))

        def spelled(glyphs: Sequence[Sequence[str]]) -> set[str]:
            """The simple texts of the glyph sequences, one of *glyphs[i]* at i."""
            options = [
                [char for name in names for char in chars.get(name, ()) if _simple(char)]
                for names in glyphs
            ]
            if math.prod(map(len, options)) > 10_000:
                raise ValueError("too many sequences")
            return set(map("".join, itertools.product(*options)))

        table = font["GSUB"].table
        found: set[str] = set()
        contexts: set[str] = set()
        try:
            for kind, sub in subtables(table, _SUBSTITUTIONS):
                if kind == 4:  # ligatures
                    for first, ligatures in sub.ligatures.items():
                        for ligature in ligatures:
                            found |= spelled([[first], *[[c] for c in ligature.Component]])
                elif kind == 6 and sub.Format == 3:  # in context, by coverage
                    around = [*reversed(sub.BacktrackCoverage), *sub.InputCoverage]
                    around += sub.LookAheadCoverage
                    contexts |= spelled([coverage.glyphs for coverage in around])
                elif kind not in (1, 2, 3):  # one glyph for one (or more), in any context
                    return None
        except ValueError:
            return None
    ligatures = sorted((text for text in found if len(text) > 1), key=lambda t: (-len(t), t))
    return _Clustering(tuple(ligatures), tuple(sorted(text for text in contexts if len(text) > 1)))


_Box = tuple[int, int, int, int]


class _Clusters:
    """A font at one size, drawn cluster by cluster (a ligature, else one character):
    each cluster is drawn and measured once, then pasted where the advances before it,
    with kerning, put it.  Pillow would lay out every line with libraqm and load and
    render each of its glyphs three times.

    Only for simple text (:func:`_simple`) in :data:`CLUSTERED_FONTS`; a run is drawn
    by Pillow when its clusters' advances do not add up to its width as Pillow lays it
    out (contextual kerning)."""

    def __init__(self, font: ImageFont.FreeTypeFont, clustering: _Clustering) -> None:
        self.font = font
        # A ligature, longest first, else one character: a regular expression tries the
        # alternatives in order.
        either = "|".join([*map(re.escape, clustering.ligatures), "."])
        self._split = re.compile(either, re.DOTALL).findall
        self.ligatures = clustering.ligatures
        self.contexts = clustering.contexts
        self._advances: dict[tuple[str, str], float] = {}
        self._glyphs: dict[str, tuple[PILImage.Image | None, int, int]] = {}

    def split(self, text: str) -> list[str] | None:
        """*text* as clusters, or None when it is not simple."""
        if not all(map(_simple, text)) or any(part in text for part in self.contexts):
            return None
        return self._split(text)

    def pens(self, clusters: Sequence[str]) -> tuple[list[float], float]:
        """Where each cluster starts, and where the last one ends."""
        pens, x = [], 0.0
        for cluster, following in zip(clusters, [*clusters[1:], ""], strict=True):
            pens.append(x)
            x += self.advance(cluster, following)
        return pens, x

    def advance(self, cluster: str, following: str) -> float:
        """How far *cluster* moves the pen when *following* comes next (kerning)."""
        key = (cluster, following)
        found = self._advances.get(key)
        if found is None:
            if len(self._advances) >= 65536:
                self._advances.clear()
            found = self.font.getlength(cluster + following)
            if following:  # less its own advance, kept like any other
                found -= self.advance(following, "")
            self._advances[key] = found
        return found

    def glyph(self, cluster: str) -> tuple[PILImage.Image | None, int, int]:
        """The cluster's coverage as Pillow draws it alone, and where its top left corner
        is from the pen on the baseline."""
        found = self._glyphs.get(cluster)
        if found is None:
            from PIL import Image, ImageDraw

            x0, y0, x1, y1 = map(int, self.font.getbbox(cluster, anchor="ls"))
            coverage = None
            if x1 > x0 and y1 > y0:
                coverage = Image.new("L", (x1 - x0, y1 - y0))
                draw = ImageDraw.Draw(coverage)
                draw.text((-x0, -y0), cluster, font=self.font, fill=255, anchor="ls")
            found = self._glyphs[cluster] = (coverage, x0, y0)
        return found

    def placed(
        self, clusters: Sequence[str], x: int, baseline: int
    ) -> list[tuple[PILImage.Image, _Box]]:
        """Each cluster's coverage and where it goes, drawn from *x* on *baseline*."""
        pens, _ = self.pens(clusters)
        out = []
        for cluster, pen in zip(clusters, pens, strict=True):
            coverage, left, top = self.glyph(cluster)
            if coverage is not None:
                at = x + math.floor(pen + 0.5) + left, baseline + top  # as FreeType rounds
                out.append((coverage, (*at, at[0] + coverage.width, at[1] + coverage.height)))
        return out


def _clusters(path: Path, font: ImageFont.FreeTypeFont) -> _Clusters | None:
    """*font* drawn cluster by cluster, when it is one of :data:`CLUSTERED_FONTS`."""
    if path.parent != fonts_dir() or path.name not in CLUSTERED_FONTS:
        return None
    clustering = _clustering(path)
    return None if clustering is None else _Clusters(font, clustering)


#: A glyph's coverage, as Pillow's core image, and the box it goes in.
_Glyph = tuple["ImagingCore", tuple[int, int, int, int]]
#: A cluster's pen from the start of its word, its coverage, and its top left corner from
#: the pen on the baseline.
_Placed = tuple[float, "PILImage.Image", int, int]


class _Word(NamedTuple):
    """A word drawn by clusters, laid out once at a size and reused by every line it is in."""

    #: Its width as Pillow lays it out, which its clusters' advances add up to.
    width: float
    #: Each cluster with ink: its pen from the word's start, its coverage and its top left
    #: corner from the pen on the baseline.
    glyphs: tuple[_Placed, ...]
    #: The glyphs that can be the leftmost and the rightmost, wherever the word starts.
    first: tuple[_Placed, ...]
    last: tuple[_Placed, ...]
    #: The top of the highest glyph and the bottom of the lowest, from the baseline.
    top: int
    bottom: int


class _Typeset:
    """A chain of fonts at one size: measures and draws one line of text."""

    def __init__(self, chain: Sequence[Path], size: int) -> None:
        self.chain = chain
        self.size = size
        self.fonts = [_font(path, size) for path in chain]
        ascent, descent = self.fonts[0].getmetrics()
        self.ascent = ascent
        self.descent = descent
        pairs = zip(chain, self.fonts, strict=True)
        self.clustered = [_clusters(path, font) for path, font in pairs]
        # Fitting a title measures its lines, and drawing them measures them again.
        self._lengths: dict[_Run, float] = {}
        self._checked: dict[_Run, bool] = {}
        self._words: dict[str, _Word | None] = {}
        self._placed: dict[tuple[str, int, int], list[_Glyph]] = {}
        # Words are laid out alone when the first font is drawn by clusters and nothing in
        # it joins or moves glyphs across a space (the tests check the shipped fonts).
        first = self.clustered[0]
        self._by_words = (
            first is not None
            and ord(" ") in covered(chain[0])
            and not any(" " in text for text in (*first.ligatures, *first.contexts))
        )

    def _clusters(self, run: _Run) -> tuple[_Clusters, list[str]] | None:
        clustered = self.clustered[run.font]
        if clustered is None or run.rtl:  # drawn by libraqm, which mirrors its brackets
            return None
        clusters = clustered.split(run.text)
        return None if clusters is None else (clustered, clusters)

    def length(self, run: _Run) -> float:
        found = self._lengths.get(run)
        if found is None:
            found = self._measure(run)
            if len(self._lengths) >= 16384:
                self._lengths.clear()
            self._lengths[run] = found
        return found

    def _measure(self, run: _Run) -> float:
        """The run's width as Pillow lays it out.  Simple text in a font drawn by clusters
        is measured word by word: nothing in those fonts kerns or substitutes across a
        space (the tests check their tables), so the words and spaces add up to the line,
        to the 64th of a pixel, and a title tried at several sizes measures each word
        once instead of every line it could make.  A word that :meth:`word` lays out is
        as wide as its clusters' advances, without asking Pillow."""
        clustered = self.clustered[run.font]
        text = run.text
        if run.rtl:
            return self.fonts[run.font].getlength(text, direction="rtl")
        word = self.word(text) if run.font == 0 and " " not in text else None
        if word is not None:
            return word.width
        if " " in text != " " and clustered is not None and clustered.split(text) is not None:
            words = text.split(" ")
            space = self.length(_Run(run.font, " "))
            return sum(self.length(_Run(run.font, w)) for w in words) + space * (len(words) - 1)
        return self.fonts[run.font].getlength(text)

    def _drawn_by_clusters(self, run: _Run) -> tuple[_Clusters, list[str]] | None:
        """The run's clusters, when their advances add up to the run's width as measured
        (for a run Pillow measured, else something more than pair kerning moved a glyph)."""
        split = self._clusters(run)
        if split is None:
            return None
        agrees = self._checked.get(run)
        if agrees is None:
            if len(self._checked) >= 4096:
                self._checked.clear()
            agrees = self._checked[run] = split[0].pens(split[1])[1] == self.length(run)
        return split if agrees else None

    def width(self, text: str, rtl: bool = False) -> float:
        """*text*'s width as one line of a paragraph running right to left (*rtl*) or not."""
        if not rtl and self.words(text) is not None:
            return sum(self.length(run) for run in _runs(text, self.chain))
        return sum(self.length(run) for run in self.pieces(text, rtl))

    def pieces(self, text: str, rtl: bool) -> list[_Run]:
        """*text*, one line of a paragraph running right to left (*rtl*) or not, as runs of
        one font and one direction, in the order they are drawn from left to right: its
        runs of one embedding level (see :mod:`syndicate.social.bidi`) in their order,
        each cut where its font changes, those of a right-to-left one from the right."""
        if not _shaped() or (not rtl and not _right_to_left(text)):
            runs = _runs(text, self.chain)  # one level: no reordering, nothing to mirror
            return runs[::-1] if rtl else runs
        found = []
        for level in visual_runs(text, rtl):
            shown = level.text.translate(_NO_ISOLATES)  # they order the line, and draw nothing
            runs = [run._replace(rtl=level.rtl) for run in _runs(shown, self.chain)]
            found += runs[::-1] if level.rtl else runs
        return found

    def word(self, text: str) -> _Word | None:
        """*text*, one word, laid out alone: None unless it is simple text that the first
        font has and draws by clusters, whose advances do not change next to a space.

        Its width is its clusters' advances added up, not measured again by Pillow: with
        nothing but pair kerning and listed ligatures in the font (the tests check its
        tables, and that the two agree), they are how Pillow lays the word out, and a new
        word costs no layout of its own."""
        try:
            return self._words[text]
        except KeyError:
            pass
        found = None
        clustered = self.clustered[0]
        if (
            self._by_words
            and clustered is not None
            and text
            and covered(self.chain[0]).issuperset(map(ord, text))
        ):
            clusters = clustered.split(text)
            if clusters is not None:
                found = self._laid_out(clustered, clusters)
        if len(self._words) >= 16384:
            self._words.clear()
        self._words[text] = found
        return found

    @staticmethod
    def _laid_out(clustered: _Clusters, clusters: Sequence[str]) -> _Word | None:
        advance = clustered.advance
        if advance(clusters[-1], " ") != advance(clusters[-1], "") or advance(
            " ", clusters[0]
        ) != advance(" ", ""):
            return None
        pens, end = clustered.pens(clusters)
        glyphs = []
        for cluster, pen in zip(clusters, pens, strict=True):
            coverage, left, top = clustered.glyph(cluster)
            if coverage is not None:
                glyphs.append((pen, coverage, left, top))
        if not glyphs:
            return _Word(end, (), (), (), 0, 0)
        # Where a glyph goes is its pen rounded, less than half a pixel away: only a glyph
        # less than a pixel from the leftmost (rightmost) can be it wherever the word starts.
        lefts = [pen + left for pen, _, left, _ in glyphs]
        rights = [pen + left + coverage.width for pen, coverage, left, _ in glyphs]
        leftmost, rightmost = min(lefts), max(rights)
        return _Word(
            end,
            tuple(glyphs),
            tuple(glyphs[i] for i, x in enumerate(lefts) if x < leftmost + 1),
            tuple(glyphs[i] for i, x in enumerate(rights) if x > rightmost - 1),
            min(top for _, _, _, top in glyphs),
            max(top + coverage.height for _, coverage, _, top in glyphs),
        )

    def words(self, text: str) -> list[_Word] | None:
        """*text*'s words laid out alone (see :meth:`word`), when the line is nothing
        else: words with one space between them, no context that changes glyphs."""
        if not self._by_words:
            return None
        words = []
        for part in text.split(" "):
            word = self.word(part)
            if word is None:
                return None
            words.append(word)
        clustered = self.clustered[0]
        if clustered is None or any(part in text for part in clustered.contexts):
            return None
        return words

    def _words_ink(self, words: Sequence[_Word], left: int, baseline: int) -> _Box:
        """The box the glyphs of *words* cover, placed as :meth:`_glyphs` places them."""
        space = self.length(_Run(0, " "))
        floor = math.floor
        x0 = y0 = 1 << 30
        x1 = y1 = -(1 << 30)
        start = 0.0
        for word in words:
            if word.glyphs:
                for pen, _, x, _ in word.first:
                    x0 = min(x0, left + floor(start + pen + 0.5) + x)
                for pen, coverage, x, _ in word.last:
                    x1 = max(x1, left + floor(start + pen + 0.5) + x + coverage.width)
                y0, y1 = min(y0, baseline + word.top), max(y1, baseline + word.bottom)
            start += word.width + space
        return (x0, y0, x1, y1) if x1 > x0 else (0, 0, 0, 0)

    def _glyphs(self, text: str, left: int, baseline: int) -> list[_Glyph] | None:
        """Each glyph of a line laid out word by word, where it goes: the same places as
        :meth:`_Clusters.placed` gives for the whole line, as its pens are the words' pens
        after the words and spaces before them (sums of 64ths of a pixel: exact)."""
        key = (text, left, baseline)
        found = self._placed.get(key)
        if found is not None:
            return found
        words = self.words(text)
        if words is None:
            return None
        space = self.length(_Run(0, " "))
        found = []
        start = 0.0
        floor = math.floor
        for word in words:
            for pen, coverage, x, y in word.glyphs:
                x += left + floor(start + pen + 0.5)
                y += baseline
                width, height = coverage.size
                found.append((coverage.im, (x, y, x + width, y + height)))
            start += word.width + space
        if len(self._placed) >= 64:
            self._placed.clear()
        self._placed[key] = found
        return found

    def place(self, text: str, left: int, right: int, rtl: bool = False) -> list[tuple[int, _Run]]:
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

    def ink(
        self, text: str, left: int, right: int, baseline: int, rtl: bool = False
    ) -> tuple[int, int, int, int]:
        """The box the line's ink covers, drawn with its baseline at *baseline*."""
        words = None if rtl else self.words(text)
        if words is not None:
            return self._words_ink(words, left, baseline)
        boxes = []
        for x, run in self.place(text, left, right, rtl):
            split = self._drawn_by_clusters(run)
            if split is not None:
                boxes += [box for _, box in split[0].placed(split[1], x, baseline)]
                continue
            x0, y0, x1, y1 = self.fonts[run.font].getbbox(
                run.text, anchor="ls", direction="rtl" if run.rtl else None
            )
            box = (x + math.floor(x0), baseline + math.floor(y0))
            boxes.append((*box, x + math.ceil(x1), baseline + math.ceil(y1)))
        return _union(boxes)

    def draw(
        self, layer: PILImage.Image, text: str, box: tuple[int, int, int], rtl: bool = False
    ) -> None:
        """Draw *text*'s coverage on *layer* ("L", made by ``Image.new``: its core is
        written to directly), its baseline at ``box[2]``, in a paragraph running right to
        left (*rtl*) or not."""
        from PIL import ImageDraw

        left, right, baseline = box
        glyphs = None if rtl else self._glyphs(text, left, baseline)
        if glyphs is not None:
            # Pillow's core pastes each glyph: what Image.paste does for a mask, without
            # its checks on every one of a card's seventy glyphs (a fifth of drawing it).
            layer.load()
            paste = layer.im.paste
            for core, at in glyphs:
                paste(255, at, core)
            return
        draw = ImageDraw.Draw(layer)
        for x, run in self.place(text, left, right, rtl):
            split = self._drawn_by_clusters(run)
            if split is None:
                font = self.fonts[run.font]
                direction = "rtl" if run.rtl else None
                draw.text(
                    (x, baseline), run.text, font=font, fill=255, anchor="ls", direction=direction
                )
                continue
            for coverage, at in split[0].placed(split[1], x, baseline):
                layer.paste(255, at, coverage)


@lru_cache(maxsize=64)
def _typeset(chain: tuple[Path, ...], size: int) -> _Typeset:
    return _Typeset(chain, size)


def _union(boxes: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    boxes = [box for box in boxes if box[2] > box[0] and box[3] > box[1]]
    if not boxes:
        return (0, 0, 0, 0)
    return (
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    )


# -- wrapping -----------------------------------------------------------------------------


class _Token(NamedTuple):
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


def _is_cjk(char: str) -> bool:
    return _CJK.match(char) is not None


def _tokens(text: str) -> list[_Token]:
    """Words, and CJK characters one by one (closing punctuation kept with the one before)."""
    if _CJK.search(text) is None:  # the usual case: words between spaces
        return [_Token(word, index > 0) for index, word in enumerate(text.split(" ")) if word]
    return _tokens_by_character(text)


def _tokens_by_character(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    word = ""
    space = False
    for char in text:
        if char == " ":
            if word:
                tokens.append(_Token(word, space))
                word = ""
            space = True
        elif _is_cjk(char):
            if char in _NO_LINE_START and (word or tokens) and not space:
                if word:
                    word += char
                else:
                    tokens[-1] = _Token(tokens[-1].text + char, tokens[-1].space_before)
                continue
            if word:
                tokens.append(_Token(word, space))
                space = False
            word = ""
            tokens.append(_Token(char, space))
            space = False
        else:
            word += char
    if word:
        tokens.append(_Token(word, space))
    return tokens


def _join(tokens: Sequence[_Token]) -> str:
    return "".join(
        (" " if token.space_before and i else "") + token.text for i, token in enumerate(tokens)
    )


def _graphemes(text: str) -> list[str]:
    """*text* in user-perceived characters: a base with its combining marks."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char).startswith("M"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _split_long(token: _Token, fits: _Fits) -> list[_Token]:
    """A word too wide for a line, cut into pieces that fit, at grapheme boundaries."""
    pieces: list[_Token] = []
    piece = ""
    for cluster in _graphemes(token.text):
        if piece and not fits(piece + cluster):
            pieces.append(_Token(piece, token.space_before if not pieces else False))
            piece = ""
        piece += cluster
    if piece:
        pieces.append(_Token(piece, token.space_before if not pieces else False))
    return pieces


class _Fits:
    def __init__(self, typeset: _Typeset, width: int, rtl: bool = False) -> None:
        self.typeset = typeset
        self.limit = width
        self.rtl = rtl

    def __call__(self, text: str) -> bool:
        return self.typeset.width(text, self.rtl) <= self.limit


def _wrap(tokens: Sequence[_Token], fits: _Fits, most: int) -> list[list[_Token]]:
    """*tokens* in lines that fit; no more than *most* + 1 of them, which is enough to
    tell that they do not fit in *most*."""
    lines: list[list[_Token]] = []
    line: list[_Token] = []
    for token in tokens:
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


def _wrap_words(
    tokens: Sequence[_Token], typeset: _Typeset, limit: int, most: int
) -> list[list[_Token]] | None:
    """What :func:`_wrap` gives for words that :meth:`_Typeset.word` lays out alone, one
    space apart, from their widths: a line is as wide as its words and spaces (what
    :meth:`_Typeset.length` measures, added in the same order), no more than *most* + 1
    of them.  None for other text, or a word wider than a line."""
    if not all(t.space_before for t in tokens[1:]):
        return None
    space = typeset.length(_Run(0, " "))
    lines: list[list[_Token]] = []
    start, width = 0, 0.0
    for index, token in enumerate(tokens):
        word = typeset.word(token.text)
        if word is None:
            return None
        if len(lines) > most:
            return lines
        if index > start:
            if width + word.width + space * (index - start) <= limit:
                width += word.width
                continue
            lines.append(list(tokens[start:index]))
        if word.width > limit:
            return None
        start, width = index, word.width
    lines.append(list(tokens[start:]))
    return lines


def _truncate(line: list[_Token], fits: _Fits) -> str:
    """*line* cut at its end until it fits with "…" after it: by words, else graphemes."""
    tokens = list(line)
    while tokens:
        text = _join(tokens).rstrip()
        if fits(text + ELLIPSIS):
            return text + ELLIPSIS
        if len(tokens) > 1:
            tokens.pop()
        else:
            clusters = _graphemes(tokens[0].text)[:-1]
            tokens = [_Token("".join(clusters), tokens[0].space_before)] if clusters else []
    return ELLIPSIS


class _Title(NamedTuple):
    size: int
    lines: tuple[str, ...]
    baselines: tuple[int, ...]
    box: tuple[int, int, int, int]


#: How many lines past the title area's capacity are laid out before a size is given up:
#: ink above the lines' ascent (stacked marks) may let one more line fit.
_SPARE_LINES = 2


def _fit_title(
    text: str,
    chain: Sequence[Path],
    area: tuple[int, int, int, int],
    frame: _Frame,
    rtl: bool = False,
) -> _Title:
    """The largest size at which *text* fits *area*; at the smallest, cut with "…".  A
    title running right to left (*rtl*) has its lines aligned right."""
    left, top, right, bottom = area
    tokens = _tokens(text)
    if not tokens:
        return _Title(frame.title_max, (), (), (left, top, left, top))
    size = frame.title_max
    while True:
        typeset = _typeset(tuple(chain), size)
        fits = _Fits(typeset, right - left, rtl)
        smallest = size - frame.title_step < frame.title_min
        step = round(size * frame.line_height)
        room = bottom - top - typeset.ascent - typeset.descent
        capacity = max(1, room // step + 1)
        # Lines well past what the area holds are not laid out: a title that has them does
        # not fit (a long one would cost its whole length at every size).
        most = capacity + _SPARE_LINES
        wrapped = (None if rtl else _wrap_words(tokens, typeset, right - left, most)) or _wrap(
            tokens, fits, most
        )
        if len(wrapped) > most and not smallest:
            size -= frame.title_step
            continue
        lines = [_join(line) for line in wrapped]
        if smallest and len(lines) > capacity:
            lines = [*lines[: capacity - 1], _truncate(wrapped[capacity - 1], fits)]
        while True:
            height = typeset.ascent + (len(lines) - 1) * step + typeset.descent
            first = top + max(0, (bottom - top - height) // 2) + typeset.ascent
            baselines = [first + i * step for i in range(len(lines))]
            box = _union(
                typeset.ink(line, left, right, baseline, rtl)
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
            return _Title(size, tuple(lines), tuple(baselines), box if inside else area)
        size -= frame.title_step


def _clip(text: str, limit: int) -> str:
    """*text*, or its first *limit* characters and "…"."""
    return text if len(text) <= limit else text[:limit].rstrip() + ELLIPSIS


def _one_line(typeset: _Typeset, text: str, width: int, rtl: bool = False) -> str:
    fits = _Fits(typeset, width, rtl)
    if fits(text):
        return text
    return _truncate(_tokens(text), fits)


# -- images -------------------------------------------------------------------------------


def _open_image(path: Path) -> PILImage.Image:
    """The image at *path*, upright, in RGB, or RGBA when it has transparency;
    :class:`~syndicate.images.ImageError` when it cannot be read."""
    from PIL import ImageOps

    with reading(path):
        picture = open_image(path, needed=lambda _: SIZE, mode="RGB")
        # In place: otherwise a copy of the photo is made when there is nothing to turn,
        # and converting to the mode it has makes another.
        ImageOps.exif_transpose(picture, in_place=True)
        wanted = "RGBA" if picture.has_transparency_data else "RGB"
        if picture.mode == wanted:
            return picture
        with picture:
            return picture.convert(wanted)
    raise AssertionError("unreachable")  # reading() raises whatever it caught


def _cover(picture: PILImage.Image) -> PILImage.Image:
    """*picture* scaled to cover the card, and cut to it around its centre."""
    from PIL import Image

    width, height = picture.size
    scale = max(SIZE[0] / width, SIZE[1] / height)
    crop = (SIZE[0] / scale, SIZE[1] / scale)
    left, top = (width - crop[0]) / 2, (height - crop[1]) / 2
    # Bilinear, from a picture first reduced by whole factors to no less than three times
    # the card: under the overlay it cannot be told from bicubic (at most one level of
    # difference), at half the time, and a large photo costs little more than a small one.
    box = (left, top, left + crop[0], top + crop[1])
    return picture.resize(SIZE, Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)


def _shaded(path: Path, background: str, overlay: float) -> PILImage.Image:
    """The image at *path* covering the card, under *background* at *overlay* opacity;
    :class:`~syndicate.images.ImageError` when it cannot be read."""
    from PIL import Image, ImageColor

    with reading(path), _open_image(path) as opened:
        picture = _cover(opened)
    if picture.mode == "RGBA":
        base = Image.new("RGBA", SIZE, background)
        base.alpha_composite(picture)
        picture = base.convert("RGB")
    # The background colour is the same on every pixel: one table per channel does it.
    table = [
        round(value * (1 - overlay) + channel * overlay)
        for channel in ImageColor.getrgb(background)[:3]
        for value in range(256)
    ]
    return picture.point(table)


# -- painting -----------------------------------------------------------------------------

#: The steps of coverage text is drawn in, from none to full: few enough that a plain card
#: (the background and, for each of the three text colours, the steps from it to the
#: background) fits a palette of 256 colours, many enough that the edges look the same.
LEVELS = 86
_STEP = 255 // (LEVELS - 1)
_STEPS = [(value + _STEP // 2) // _STEP * _STEP for value in range(256)]

#: The colours text is painted in: see :func:`_colours`.
ACCENT, FOREGROUND, META = 0, 1, 2
# The palette index of each coverage of each text colour, through its step; 0 is the
# background.
_INDEX = [
    [0 if step == 0 else (LEVELS - 1) * colour + step // _STEP for step in _STEPS]
    for colour in (ACCENT, FOREGROUND, META)
]
_COVERED = [0 if step == 0 else 255 for step in _STEPS]


class _Ink(NamedTuple):
    """Text to paint: how much of each pixel it covers, where, and in which colour."""

    #: "L", as drawn (it is painted in :data:`LEVELS` steps), cropped to the ink.
    coverage: PILImage.Image
    x: int
    y: int
    #: ACCENT, FOREGROUND or META.
    colour: int


def _ink(layer: PILImage.Image, x: int, y: int, colour: int) -> _Ink | None:
    """The text drawn on *layer* (placed at *x*, *y* on the card); None for no ink."""
    box = layer.getbbox()
    if box is None:
        return None
    return _Ink(layer.crop(box), x + box[0], y + box[1], colour)


def _mix(colour: str, other: str, amount: float) -> str:
    from PIL import ImageColor

    a = ImageColor.getrgb(colour)
    b = ImageColor.getrgb(other)
    return "#" + "".join(
        f"{round(x * (1 - amount) + y * amount):02x}" for x, y in zip(a, b, strict=False)
    )


def _colours(style: CardStyle) -> tuple[str, str, str]:
    """The site name's and stripe's, the title's, and the author and date's colours."""
    return style.accent, style.foreground, _mix(style.foreground, style.background, 0.25)


@lru_cache(maxsize=8)
def _palette(style: CardStyle) -> bytes:
    """A plain card's palette: the background, then each text colour's steps over it, as
    painting that step on the background gives them, so a palette card decodes to the
    same pixels as the RGB one."""
    from PIL import Image, ImageColor

    steps = Image.frombytes("L", (LEVELS - 1, 1), bytes(range(_STEP, 256, _STEP)))
    palette = bytearray(ImageColor.getrgb(style.background)[:3])
    for colour in _colours(style):
        strip = Image.new("RGB", steps.size, style.background)
        strip.paste(colour, (0, 0, *steps.size), steps)
        palette += strip.tobytes()
    return bytes(palette)


def _paint(canvas: PILImage.Image, ink: _Ink, style: CardStyle) -> None:
    """*ink* on *canvas*: its palette indices on an "L" canvas, its colour on an RGB one."""
    left, top = ink.x, ink.y
    box = (left, top, left + ink.coverage.width, top + ink.coverage.height)
    if canvas.mode != "L":
        canvas.paste(_colours(style)[ink.colour], box, ink.coverage.point(_STEPS))
    elif canvas.crop(box).getbbox() is None:  # on the background: its pixels are all 0
        canvas.paste(ink.coverage.point(_INDEX[ink.colour]), box)
    else:
        canvas.paste(ink.coverage.point(_INDEX[ink.colour]), box, ink.coverage.point(_COVERED))


def _paint_stripe(canvas: PILImage.Image, frame: _Frame, style: CardStyle) -> None:
    if frame.stripe:
        full = _INDEX[ACCENT][255] if canvas.mode == "L" else style.accent
        canvas.paste(full, (0, 0, frame.stripe, SIZE[1]))


def _clean(value: str, chain: Sequence[Path], what: str) -> tuple[str, str | None]:
    """*value* as drawn (spaces collapsed, characters no font has left out), and the
    problem to report when some were."""
    kept, missing = _drawable(" ".join(unicodedata.normalize("NFC", value).split()), chain)
    problem = f"{what}: no font has {', '.join(map(repr, missing))}: left out" if missing else None
    return " ".join(kept.split()), problem


def _title_area(frame: _Frame) -> tuple[int, int, int, int]:
    """Where the title goes: between the header and the footer, inside the margins."""
    width, height = SIZE
    m = frame.margin
    return (m, m + frame.header + frame.gap, width - m, height - m - frame.footer - frame.gap)


class _Backdrop(NamedTuple):
    """What every card of a publication shows alike: the background, the stripe, the logo
    and the site name."""

    #: A plain card without its title and footer: palette indices ("L"), or RGB when a
    #: logo makes it too colourful for a palette.
    plain: PILImage.Image
    #: The logo, resized, drawn at the top left of the safe area (RGBA).
    logo: PILImage.Image | None
    site: _Ink | None
    problems: tuple[str, ...]
    #: What a card's rows are cut from: ``plain`` widened into its own scanlines
    #: (:func:`png.widened`) when it is palette indices, else ``plain``.
    scan: PILImage.Image
    #: Where the rows begin that are all alike down to the bottom (the stripe and the
    #: background, below the header).
    alike: int
    #: What those rows show but the background, as runs of one palette index in ``scan``:
    #: (first column, last column + 1, index).  Empty for RGB.
    marks: tuple[tuple[int, int, int], ...]
    #: Rows of ``plain`` already compressed, by (top, bottom): each card compresses only
    #: the rows its own text is on.
    rows: dict[tuple[int, int], png.Piece]


@lru_cache(maxsize=8)
def _backdrop(
    site: str, style: CardStyle, frame: _Frame, chain: tuple[Path, ...], logo: str | None
) -> _Backdrop:
    """The backdrop of the cards of *site* in *style*.  *logo* is the digest of the logo's
    bytes: part of the cache key, so that an edited logo is read again."""
    from PIL import Image

    del logo  # only part of the key
    width = SIZE[0]
    m = frame.margin
    problems: list[str] = []
    picture = None
    x = m
    if style.logo is not None:
        try:
            with reading(style.logo), _open_image(style.logo) as opened:
                scale = frame.header / opened.height
                width = max(1, min(round(opened.width * scale), 4 * frame.header))
                picture = opened.convert("RGBA").resize(
                    (width, frame.header), Image.Resampling.LANCZOS
                )
        except ImageError as error:
            problems.append(f"cannot read the logo: {error}")
        else:
            x += picture.width + frame.header // 3

    typeset = _typeset(chain, frame.site_size)
    name, problem = _clean(site, chain, "site")
    problems += [problem] if problem else []
    rtl = text_direction(name, "ltr") == "rtl"
    line = _one_line(typeset, name, width - m - x, rtl)
    ink = None
    if line:
        baseline = m + (frame.header + typeset.ascent - typeset.descent) // 2
        band = Image.new("L", (width, _title_area(frame)[1]))  # everything above the title
        typeset.draw(band, line, (x, width - m, baseline), rtl)
        ink = _ink(band, 0, 0, ACCENT)

    if picture is None:
        plain = Image.new("L", SIZE, 0)  # palette index 0: the background
        _paint_stripe(plain, frame, style)
    else:
        plain = Image.new("RGB", SIZE, style.background)
        _paint_stripe(plain, frame, style)
        plain.paste(picture, (m, m), picture)
    if ink is not None:
        _paint(plain, ink, style)
    scan = png.widened(plain) if plain.mode == "L" else plain
    pixels = plain.tobytes()
    row = len(pixels) // SIZE[1]
    alike = SIZE[1] - 1
    last = pixels[alike * row :]
    while alike and pixels[(alike - 1) * row : alike * row] == last:
        alike -= 1
    marks = []
    if plain.mode == "L":
        for value, run in itertools.groupby(enumerate(b"\0" + last), key=lambda pixel: pixel[1]):
            columns = [column for column, _ in run]
            if value:
                marks.append((columns[0], columns[-1] + 1, value))
    return _Backdrop(plain, picture, ink, tuple(problems), scan, alike, tuple(marks), {})


def _shared_rows(backdrop: _Backdrop, top: int, bottom: int) -> png.Piece:
    """Rows *top* to *bottom* of the plain backdrop, compressed (once)."""
    if top > backdrop.alike:  # the same rows as the first ones alike
        top, bottom = backdrop.alike, backdrop.alike + bottom - top
    piece = backdrop.rows.get((top, bottom))
    if piece is None:
        if len(backdrop.rows) >= 4096:  # a bound that real cards never reach
            backdrop.rows.clear()
        rows = backdrop.plain.crop((0, top, SIZE[0], bottom))
        piece = backdrop.rows[top, bottom] = png.compress(rows)
    return piece


def _plain_png(backdrop: _Backdrop, inks: Sequence[_Ink], style: CardStyle) -> bytes:
    """A card on the plain backdrop as PNG: the rows its *inks* are on cut from the
    backdrop, painted and compressed now, the others taken from the backdrop's.  Palette
    indices make a palette PNG."""
    scan = backdrop.scan
    palette = backdrop.plain.mode == "L"
    height = SIZE[1]
    bands: list[tuple[int, int, list[_Ink]]] = []  # rows that inks are on, and the inks
    for ink in sorted(inks, key=lambda ink: ink.y):
        top, bottom = ink.y, ink.y + ink.coverage.height
        if bands and top < bands[-1][1]:
            bands[-1] = (bands[-1][0], max(bottom, bands[-1][1]), [*bands[-1][2], ink])
        else:
            bands.append((top, bottom, [ink]))
    pieces = []
    row = 0
    for top, bottom, painted in bands:
        if top > row:
            pieces.append(_shared_rows(backdrop, row, top))
        band = None
        if palette and len(painted) == 1 and top >= backdrop.alike:
            band = _on_alike_rows(painted[0], backdrop)
        if band is None:
            band = scan.crop((0, top, scan.width, bottom))
            for ink in sorted(painted, key=inks.index):  # in the order given, as on a canvas
                _paint(band, ink._replace(x=ink.x + palette, y=ink.y - top), style)
        pieces.append(png.compress_rows(band) if palette else png.compress(band))
        row = bottom
    if row < height:
        pieces.append(_shared_rows(backdrop, row, height))
    return png.write(SIZE, backdrop.plain.mode, pieces, _palette(style) if palette else b"")


def _on_alike_rows(ink: _Ink, backdrop: _Backdrop) -> PILImage.Image | None:
    """The rows of a palette card that *ink* is on, as scanlines (a :func:`png.widened`
    image), when it is whole scanlines on rows of the backdrop that are alike (see
    :attr:`_Backdrop.alike`) and covers none of what they show: its palette indices, and
    the backdrop's marks where it has no ink.  None otherwise."""
    coverage = ink.coverage
    width, height = coverage.size
    if ink.x != -1 or width != backdrop.scan.width:
        return None
    for start, end, _ in backdrop.marks:
        if coverage.crop((start, 0, end, height)).getbbox() is not None:
            return None
    rows = coverage.point(_INDEX[ink.colour])
    for start, end, value in backdrop.marks:
        rows.paste(value, (start, 0, end, height))
    return rows


def _text_inks(
    typeset: _Typeset,
    lines: Sequence[tuple[str, int]],
    area: _Box,
    colour: int,
    scanlines: bool,
    between: tuple[int, int] | None = None,
    rtl: bool = False,
) -> list[_Ink]:
    """*lines*, each with its baseline on the card, drawn inside *area* (nothing reaches
    past it) from its left to its right edge, or *between* those columns of the card, as
    one ink for each band of rows they are on: the rows between lines have
    nothing of the card's own.  Each ink is cropped to what it covers, or, for
    *scanlines* (a palette card), is the whole width of the card's rows, one column wider
    as :func:`png.widened` makes them, ready to be painted in palette indices.  Lines of
    a paragraph running right to left (*rtl*) are aligned right."""
    from PIL import Image

    left, top, right, bottom = area
    offset = 1 if scanlines else -left  # where the card's first column is on the layer
    layer = Image.new("L", (SIZE[0] + 1 if scanlines else right - left, bottom - top))
    start, end = between or (left, right)
    boxes = []
    for line, baseline in lines:
        where = (start + offset, end + offset, baseline - top)
        typeset.draw(layer, line, where, rtl)
        boxes.append(typeset.ink(line, *where, rtl))
    if scanlines:  # the filter type's column, left of the card's first
        layer.paste(0, (0, 0, 1, layer.height))
    # Lines laid out word by word are the glyphs pasted in their boxes; others are
    # Pillow's, whose boxes are looked at again.
    exact = not rtl and all(typeset.words(line) is not None for line, _ in lines)
    found = None
    if not exact:
        if scanlines:  # as on a layer the size of the area
            layer.paste(0, (0, 0, left + offset, layer.height))
            layer.paste(0, (right + offset, 0, layer.width, layer.height))
        found = layer.getbbox()
        if found is None:
            return []
    spans = sorted((max(box[1], 0), min(box[3], layer.height)) for box in boxes)
    bands: list[tuple[int, int]] = []
    for first, last in spans:
        if first >= last:
            continue
        if bands and (
            first <= bands[-1][1]
            or (
                found is not None
                and layer.crop((0, bands[-1][1], layer.width, first)).getbbox() is not None
            )
        ):
            bands[-1] = (bands[-1][0], max(last, bands[-1][1]))
        else:
            bands.append((first, last))
    if found is not None:  # with whatever the boxes left out above and below
        bands = bands or [(found[1], found[3])]
        bands[0] = (min(found[1], bands[0][0]), bands[0][1])
        bands[-1] = (bands[-1][0], max(found[3], bands[-1][1]))
    if scanlines:
        return [
            _Ink(layer.crop((0, first, layer.width, last)), -1, top + first, colour)
            for first, last in bands
        ]
    inks = [
        _ink(layer.crop((0, first, layer.width, last)), left, top + first, colour)
        for first, last in bands
    ]
    return [ink for ink in inks if ink is not None]


_DEFAULT_STYLE = CardStyle()


def render_card(card: CardInput, style: CardStyle = _DEFAULT_STYLE) -> tuple[bytes, Layout]:
    """The card of one article as PNG bytes, and where its title went.

    Never fails on the article's own files: an image or logo that cannot be read gives
    the plain design (or no logo) and a line in :attr:`Layout.problems`.  A font or layout
    file that cannot be read is the publication's configuration: a :class:`RenderError`.
    """

    frame = _load_frame()
    width, height = SIZE
    m = frame.margin
    problems: list[str] = []
    title_chain = font_chain(style, bold=True)
    text_chain = font_chain(style, bold=False)

    photo = None
    if card.image is not None:
        try:
            photo = _shaded(card.image, style.background, frame.overlay)
        except ImageError as error:
            problems.append(f"cannot read the image, the card is plain: {error}")
    backdrop = _backdrop(card.site, style, frame, text_chain, file_digest(style.logo))
    problems += backdrop.problems
    if photo is not None:
        _paint_stripe(photo, frame, style)
        if backdrop.logo is not None:
            photo.paste(backdrop.logo, (m, m), backdrop.logo)
        if backdrop.site is not None:
            _paint(photo, backdrop.site, style)

    def text(value: str, chain: Sequence[Path], what: str) -> str:
        kept, problem = _clean(value, chain, what)
        problems.extend([problem] if problem else [])
        return kept

    # A palette card's text is drawn on rows as wide as its scanlines.
    scanlines = photo is None and backdrop.plain.mode == "L"
    inks: list[_Ink] = []
    # Footer: author and date.
    meta = _typeset(text_chain, frame.meta_size)
    parts = [
        text(_clip(card.author, MAX_META), text_chain, "author"),
        text(_clip(card.date, MAX_META), text_chain, "date"),
    ]
    # In the article's direction, as its date is written in its language: "name · date" is
    # read from the right in an article in Arabic, the name first, whatever the name.
    shown = " · ".join(part for part in parts if part)
    meta_rtl = card.direction == "rtl"
    meta_direction = "rtl" if meta_rtl else "ltr"
    if _shaped() and (meta_rtl or _right_to_left(shown)):
        # The name and the date each in an isolate, as <bdi> on a page: a name's last word
        # cannot take the date's first number ("Leila Hassan · 3 يونيو 2025") as its own.
        shown = " · ".join(f"{ISOLATE}{part}{END_ISOLATE}" for part in parts if part)
    meta_line = _one_line(meta, shown, width - 2 * m, meta_rtl)
    area = _title_area(frame)
    if meta_line:
        baseline = height - m - (frame.footer - meta.ascent - meta.descent) // 2 - meta.descent
        below = (0, area[3], width, height)  # everything below the title
        inks += _text_inks(
            meta, [(meta_line, baseline)], below, META, scanlines, (m, width - m), meta_rtl
        )

    # The title, between them.
    title_text = text(_clip(card.title, MAX_TITLE), title_chain, "title")
    direction = text_direction(title_text, "rtl" if card.direction == "rtl" else "ltr")
    rtl = direction == "rtl"
    title = _fit_title(title_text, title_chain, area, frame, rtl)
    typeset = _typeset(title_chain, title.size)
    lines = list(zip(title.lines, title.baselines, strict=True))
    inks += _text_inks(typeset, lines, area, FOREGROUND, scanlines, rtl=rtl)

    if photo is None:
        data = _plain_png(backdrop, inks, style)
    else:
        for ink in inks:
            _paint(photo, ink, style)
        # A photo compresses best with a filter chosen row by row, as Pillow does; zlib's
        # run-length strategy at level 1 makes files about as small as its default level
        # 6, in half the time.
        buffer = io.BytesIO()
        photo.save(buffer, "PNG", compress_level=1, compress_type=zlib.Z_RLE)
        data = buffer.getvalue()
    layout = Layout(
        title_box=title.box,
        title_size=title.size,
        lines=title.lines,
        safe_area=(m, m, width - m, height - m),
        image_used=photo is not None,
        problems=tuple(problems),
        direction=direction,
        title_runs=tuple(tuple(typeset.runs(line, area[0], area[2], rtl)) for line in title.lines),
        footer=meta_line.translate(_NO_ISOLATES),
        footer_direction=meta_direction,
        footer_runs=tuple(meta.runs(meta_line, m, width - m, meta_rtl)),
    )
    return data, layout


def prepare(style: CardStyle, site: str) -> None:
    """Load what every card of *site* in *style* needs (the layout, the fonts and their
    character maps, the backdrop) now: worker processes started afterwards with "fork"
    inherit it instead of each loading it again."""
    frame = _load_frame()
    chains = (font_chain(style, bold=True), font_chain(style, bold=False))
    for path in dict.fromkeys(chains[0] + chains[1]):
        covered(path)
    _backdrop(site, style, frame, chains[1], file_digest(style.logo))
    _palette(style)


# -- keys ---------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    del mtime_ns, size  # only part of the cache's key
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_digest(path: Path | None) -> str | None:
    """The SHA-256 of the file at *path*; None for no path, "missing" when unreadable."""
    if path is None:
        return None
    try:
        stat = path.stat()
        return _digest(path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return "missing"


@functools.cache
def _pillow_version() -> str:
    return metadata.version("pillow")


class CardKeys:
    """:func:`card_key` for the cards of one *style*: what they all share (fonts, layout,
    logo, versions) is read and hashed once, each card adds its texts and its image."""

    def __init__(self, style: CardStyle, version: str) -> None:
        fonts = dict.fromkeys([*font_chain(style, bold=True), *font_chain(style, bold=False)])
        shared = {
            "syndicate": version,
            "renderer": RENDERER,
            "zlib": zlib.ZLIB_RUNTIME_VERSION,
            "compressor": png.COMPRESSOR,
            "pillow": _pillow_version(),
            "raqm": raqm_available(),
            "style": [style.background, style.foreground, style.accent],
            "logo": file_digest(style.logo),
            "fonts": [[path.name, file_digest(path)] for path in fonts],
            "layout": file_digest(layout_file()),
        }
        encoded = json.dumps(shared, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self._started = hashlib.sha256(encoded)

    def __call__(self, card: CardInput) -> str:
        parts = [card.site, card.title, card.author, card.date, file_digest(card.image)]
        parts.append(card.direction)
        hasher = self._started.copy()
        hasher.update(json_text(parts).encode("utf-8"))
        return hasher.hexdigest()


def card_key(card: CardInput, style: CardStyle, version: str) -> str:
    """A hash of everything the card shows: the same key means the same PNG bytes.

    It covers the card's texts, the style, the bytes of the image, the logo, the fonts of
    both chains and the layout file, the syndicate *version*, :data:`RENDERER`, the
    Pillow, zlib and zlib-ng versions and whether Pillow has libraqm.
    """
    return CardKeys(style, version)(card)
