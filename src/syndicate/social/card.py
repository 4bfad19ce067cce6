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

Determinism
    The PNG has no timestamp or text chunks, so the same inputs give the same bytes.
    :func:`card_key` hashes everything a card shows (its texts, the style, the bytes of
    the image, the logo, every font and the layout file, the Pillow version and whether
    libraqm is there) with the syndicate version, so a pipeline renders a card again only
    when its key changes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import tomllib
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..config import CardConfig
from ..errors import RenderError
from ..templating import default_templates

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageFont


SIZE = (1200, 630)

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


def layout_file() -> Path:
    """The card's layout: ``social/card.toml`` among the default templates."""
    return default_templates() / "social" / "card.toml"


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


def _load_frame() -> _Frame:
    path = layout_file()
    return _frame(path.read_bytes(), str(path))


# -- fonts --------------------------------------------------------------------------------


def fonts_dir() -> Path:
    """The shipped fonts (Noto Sans and Noto Sans Arabic, OFL: see OFL.txt there)."""
    return default_templates() / "social" / "fonts"


def raqm_available() -> bool:
    """Whether Pillow lays text out with libraqm (needed to shape Arabic)."""
    from PIL import features

    return bool(features.check("raqm"))


#: Shipped with the package: CJK glyphs (Chinese, Japanese kana and kanji, Korean Hangul).
CJK_FALLBACK = "DroidSansFallback.ttf"


def system_fallback() -> Path | None:
    """The first of :data:`SYSTEM_FALLBACKS` on this machine, or None."""
    return next((path for path in SYSTEM_FALLBACKS if path.is_file()), None)


def font_chain(style: CardStyle, *, bold: bool) -> tuple[Path, ...]:
    """The fonts tried, in order, for each character of the title (*bold*) or the rest."""
    shipped = fonts_dir()
    weight = "Bold" if bold else "Regular"
    chain = [shipped / f"NotoSans-{weight}.ttf"]
    if style.font is not None:
        chain.insert(0, style.font)
    if raqm_available():
        chain.append(shipped / f"NotoSansArabic-{weight}.ttf")
    # CJK: a machine's own CJK font first (it has a bold), else the shipped Droid Sans
    # Fallback (Apache 2.0), so CJK titles draw everywhere.
    fallback = system_fallback()
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


def _ignorable(char: str) -> bool:
    # Zero-width joiners, variation selectors and other format characters draw nothing
    # (in emoji sequences, whose emoji are left out anyway).
    return unicodedata.category(char) in ("Cf", "Cc", "Cs", "Co", "Cn")


def _drawable(text: str, chain: Sequence[Path]) -> tuple[str, str]:
    """*text* without the characters no font in *chain* has, and those characters."""
    maps = [covered(path) for path in chain]
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


def _is_rtl(text: str) -> bool:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


class _Typeset:
    """A chain of fonts at one size: measures and draws one line of text."""

    def __init__(self, chain: Sequence[Path], size: int) -> None:
        self.chain = chain
        self.size = size
        self.fonts = [_font(path, size) for path in chain]
        ascent, descent = self.fonts[0].getmetrics()
        self.ascent = ascent
        self.descent = descent

    def width(self, text: str) -> float:
        return sum(self.fonts[run.font].getlength(run.text) for run in _runs(text, self.chain))

    def place(self, text: str, left: int, right: int) -> list[tuple[int, _Run]]:
        """Where each run goes: aligned left, or right for right-to-left text."""
        runs = _runs(text, self.chain)
        widths = [self.fonts[run.font].getlength(run.text) for run in runs]
        placed = []
        if _is_rtl(text):
            x = float(right)
            for run, width in zip(runs, widths, strict=True):
                x -= width
                placed.append((round(x), run))
        else:
            x = float(left)
            for run, width in zip(runs, widths, strict=True):
                placed.append((round(x), run))
                x += width
        return placed

    def ink(self, text: str, left: int, right: int, baseline: int) -> tuple[int, int, int, int]:
        """The box the line's ink covers, drawn with its baseline at *baseline*."""
        boxes = []
        for x, run in self.place(text, left, right):
            x0, y0, x1, y1 = self.fonts[run.font].getbbox(run.text, anchor="ls")
            box = (x + math.floor(x0), baseline + math.floor(y0))
            boxes.append((*box, x + math.ceil(x1), baseline + math.ceil(y1)))
        return _union(boxes)

    def draw(
        self, canvas: PILImage.Image, text: str, box: tuple[int, int, int], colour: str
    ) -> None:
        from PIL import ImageDraw

        left, right, baseline = box
        draw = ImageDraw.Draw(canvas)
        for x, run in self.place(text, left, right):
            draw.text((x, baseline), run.text, font=self.fonts[run.font], fill=colour, anchor="ls")


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


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x1100 <= code <= 0x11FF  # Hangul Jamo
        or 0x2E80 <= code <= 0x9FFF  # CJK radicals, punctuation, kana, ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # fullwidth forms
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions
    )


def _tokens(text: str) -> list[_Token]:
    """Words, and CJK characters one by one (closing punctuation kept with the one before)."""
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
    def __init__(self, typeset: _Typeset, width: int) -> None:
        self.typeset = typeset
        self.limit = width

    def __call__(self, text: str) -> bool:
        return self.typeset.width(text) <= self.limit


def _wrap(tokens: Sequence[_Token], fits: _Fits) -> list[list[_Token]]:
    lines: list[list[_Token]] = []
    line: list[_Token] = []
    for token in tokens:
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


def _fit_title(
    text: str, chain: Sequence[Path], area: tuple[int, int, int, int], frame: _Frame
) -> _Title:
    """The largest size at which *text* fits *area*; at the smallest, cut with "…"."""
    left, top, right, bottom = area
    tokens = _tokens(text)
    if not tokens:
        return _Title(frame.title_max, (), (), (left, top, left, top))
    size = frame.title_max
    while True:
        typeset = _Typeset(chain, size)
        fits = _Fits(typeset, right - left)
        wrapped = _wrap(tokens, fits)
        lines = [_join(line) for line in wrapped]
        smallest = size - frame.title_step < frame.title_min
        step = round(size * frame.line_height)
        room = bottom - top - typeset.ascent - typeset.descent
        capacity = max(1, room // step + 1)
        if smallest and len(lines) > capacity:
            lines = [*lines[: capacity - 1], _truncate(wrapped[capacity - 1], fits)]
        while True:
            height = typeset.ascent + (len(lines) - 1) * step + typeset.descent
            first = top + max(0, (bottom - top - height) // 2) + typeset.ascent
            baselines = [first + i * step for i in range(len(lines))]
            box = _union(
                typeset.ink(line, left, right, baseline)
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


def _one_line(typeset: _Typeset, text: str, width: int) -> str:
    fits = _Fits(typeset, width)
    if fits(text):
        return text
    return _truncate(_tokens(text), fits)


# -- images -------------------------------------------------------------------------------


def _open_image(path: Path) -> PILImage.Image:
    """The image at *path*, decoded to RGBA; OSError (or ValueError) when it cannot be."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as picture:
                picture.draft("RGB", SIZE)
                upright = ImageOps.exif_transpose(picture)
                return upright.convert("RGBA")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValueError(str(error)) from None


def _cover(picture: PILImage.Image) -> PILImage.Image:
    from PIL import ImageOps

    return ImageOps.fit(picture, SIZE, method=3, centering=(0.5, 0.5))  # 3: BICUBIC


# -- rendering ----------------------------------------------------------------------------


def _mix(colour: str, other: str, amount: float) -> str:
    from PIL import ImageColor

    a = ImageColor.getrgb(colour)
    b = ImageColor.getrgb(other)
    return "#" + "".join(
        f"{round(x * (1 - amount) + y * amount):02x}" for x, y in zip(a, b, strict=False)
    )


_DEFAULT_STYLE = CardStyle()


def render_card(card: CardInput, style: CardStyle = _DEFAULT_STYLE) -> tuple[bytes, Layout]:
    """The card of one article as PNG bytes, and where its title went.

    Never fails on the article's own files: an image or logo that cannot be read gives
    the plain design (or no logo) and a line in :attr:`Layout.problems`.  A font or layout
    file that cannot be read is the publication's configuration: a :class:`RenderError`.
    """
    from PIL import Image

    frame = _load_frame()
    width, height = SIZE
    m = frame.margin
    safe = (m, m, width - m, height - m)
    problems: list[str] = []
    background = style.background

    canvas = Image.new("RGB", SIZE, background)
    image_used = False
    if card.image is not None:
        try:
            picture = _cover(_open_image(card.image))
        except (OSError, ValueError, SyntaxError) as error:
            problems.append(f"{card.image}: cannot read the image, the card is plain: {error}")
        else:
            base = Image.new("RGBA", SIZE, background)
            base.alpha_composite(picture)
            shade = Image.new("RGBA", SIZE, background)
            shade.putalpha(round(255 * frame.overlay))
            base.alpha_composite(shade)
            canvas = base.convert("RGB")
            image_used = True
    if frame.stripe:
        canvas.paste(style.accent, (0, 0, frame.stripe, height))

    title_chain = font_chain(style, bold=True)
    text_chain = font_chain(style, bold=False)

    # Header: the logo, then the site name.
    x = m
    if style.logo is not None:
        try:
            logo = _open_image(style.logo)
        except (OSError, ValueError, SyntaxError) as error:
            problems.append(f"{style.logo}: cannot read the logo: {error}")
        else:
            scale = frame.header / logo.height
            box = (max(1, min(round(logo.width * scale), 4 * frame.header)), frame.header)
            logo = logo.resize(box, Image.Resampling.LANCZOS)
            canvas.paste(logo, (x, m), logo)
            x += logo.width + frame.header // 3

    def text(value: str, chain: Sequence[Path], what: str) -> str:
        kept, missing = _drawable(" ".join(unicodedata.normalize("NFC", value).split()), chain)
        if missing:
            problems.append(f"{what}: no font has {', '.join(map(repr, missing))}: left out")
        return " ".join(kept.split())

    site = _Typeset(text_chain, frame.site_size)
    site_line = _one_line(site, text(card.site, text_chain, "site"), width - m - x)
    if site_line:
        baseline = m + (frame.header + site.ascent - site.descent) // 2
        site.draw(canvas, site_line, (x, width - m, baseline), style.accent)

    # Footer: author and date.
    meta = _Typeset(text_chain, frame.meta_size)
    parts = [text(card.author, text_chain, "author"), text(card.date, text_chain, "date")]
    meta_line = _one_line(meta, " · ".join(part for part in parts if part), width - 2 * m)
    if meta_line:
        baseline = height - m - (frame.footer - meta.ascent - meta.descent) // 2 - meta.descent
        colour = _mix(style.foreground, background, 0.25)
        meta.draw(canvas, meta_line, (m, width - m, baseline), colour)

    # The title, between them.
    area = (m, m + frame.header + frame.gap, width - m, height - m - frame.footer - frame.gap)
    title = _fit_title(text(card.title, title_chain, "title"), title_chain, area, frame)
    typeset = _Typeset(title_chain, title.size)
    # Drawn on a layer the size of the title's area, so nothing can reach past it.
    layer = Image.new("RGBA", (area[2] - area[0], area[3] - area[1]), (0, 0, 0, 0))
    for line, baseline in zip(title.lines, title.baselines, strict=True):
        typeset.draw(layer, line, (0, area[2] - area[0], baseline - area[1]), style.foreground)
    canvas.paste(layer, (area[0], area[1]), layer)

    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", optimize=False, compress_level=6)
    layout = Layout(
        title_box=title.box,
        title_size=title.size,
        lines=title.lines,
        safe_area=safe,
        image_used=image_used,
        problems=tuple(problems),
    )
    return buffer.getvalue(), layout


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


def card_key(card: CardInput, style: CardStyle, version: str) -> str:
    """A hash of everything the card shows: the same key means the same PNG bytes.

    It covers the card's texts, the style, the bytes of the image, the logo, the fonts of
    both chains and the layout file, the syndicate *version*, the Pillow version and
    whether Pillow has libraqm.
    """
    fonts = dict.fromkeys([*font_chain(style, bold=True), *font_chain(style, bold=False)])
    parts = {
        "syndicate": version,
        "pillow": _pillow_version(),
        "raqm": raqm_available(),
        "card": [card.site, card.title, card.author, card.date],
        "image": file_digest(card.image),
        "style": [style.background, style.foreground, style.accent],
        "logo": file_digest(style.logo),
        "fonts": [[path.name, file_digest(path)] for path in fonts],
        "layout": file_digest(layout_file()),
    }
    encoded = json.dumps(parts, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
