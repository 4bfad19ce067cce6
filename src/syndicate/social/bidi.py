"""The order a card draws a line of mixed-direction text in: Unicode's bidirectional
algorithm (UAX #9), by GNU FriBidi.

A card draws each line in runs of one font (Noto Sans, Noto Sans Arabic, a CJK font),
and Pillow's libraqm layout shapes and orders the text of one run only.  A line of Arabic
with a Latin name, digits and brackets in it needs the whole line's embedding levels: which
characters run right to left, which left to right, where the brackets and the " · " between
a name and a date belong.  FriBidi works them out: the library libraqm itself runs on,
which Pillow loads beside it, so that the card's order and the shaping inside each run agree.

The line is cut into runs of one level, put in the order they are drawn from left to right
(rule L2), and each is drawn in its own direction: a right-to-left run by libraqm with its
brackets mirrored, as HarfBuzz mirrors them in right-to-left text.  Without FriBidi (a
Pillow without libraqm, which cannot shape Arabic anyway) a line is one run in its
paragraph's direction.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import NamedTuple

#: FriBidi's paragraph directions (``FRIBIDI_PAR_LTR``, ``FRIBIDI_PAR_RTL``): its strong
#: left-to-right and right-to-left character types.
_PAR_LTR, _PAR_RTL = 0x110, 0x111

#: Where FriBidi is, by the names Pillow looks for it under, on Linux, macOS and Windows.
_NAMES = ("libfribidi.so.0", "libfribidi.0.dylib", "fribidi-0.dll", "libfribidi-0.dll")


class Run(NamedTuple):
    """Part of a line at one embedding level, in the line's logical order."""

    text: str
    #: Whether it runs right to left (an odd level): it is drawn so, its brackets mirrored.
    rtl: bool
    level: int


@functools.cache
def _fribidi() -> ctypes.CDLL | None:
    found = ctypes.util.find_library("fribidi")
    for name in ([found] if found else []) + list(_NAMES):
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        u32 = ctypes.POINTER(ctypes.c_uint32)
        library.fribidi_get_bidi_types.argtypes = [u32, ctypes.c_int, u32]
        library.fribidi_get_bidi_types.restype = None
        library.fribidi_get_bracket_types.argtypes = [u32, ctypes.c_int, u32, u32]
        library.fribidi_get_bracket_types.restype = None
        levels = library.fribidi_get_par_embedding_levels_ex
        levels.argtypes = [u32, u32, ctypes.c_int, u32, ctypes.POINTER(ctypes.c_int8)]
        levels.restype = ctypes.c_int8
        return library
    return None


def available() -> bool:
    """Whether FriBidi could be loaded."""
    return _fribidi() is not None


def levels(text: str, rtl: bool) -> list[int] | None:
    """The embedding level of each character of *text*, one paragraph running right to
    left (*rtl*) or left to right; None without FriBidi."""
    library = _fribidi()
    if library is None:
        return None
    size = len(text)
    if not size:
        return []
    characters = (ctypes.c_uint32 * size)(*map(ord, text))
    types = (ctypes.c_uint32 * size)()
    brackets = (ctypes.c_uint32 * size)()
    library.fribidi_get_bidi_types(characters, size, types)
    library.fribidi_get_bracket_types(characters, size, types, brackets)
    base = ctypes.c_uint32(_PAR_RTL if rtl else _PAR_LTR)
    found = (ctypes.c_int8 * size)()
    if not library.fribidi_get_par_embedding_levels_ex(types, brackets, size, base, found):
        return None  # FriBidi could not allocate what it needs
    return list(found)


def visual_runs(text: str, rtl: bool) -> list[Run]:
    """*text*, one line of a paragraph running right to left (*rtl*) or left to right, as
    runs of one level in the order they are drawn from left to right."""
    found = levels(text, rtl)
    if found is None or not text:
        return [Run(text, rtl, int(rtl))] if text else []
    runs: list[Run] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index == len(text) or found[index] != found[start]:
            level = found[start]
            runs.append(Run(text[start:index], level % 2 == 1, level))
            start = index
    return reorder(runs)


def reorder(runs: list[Run]) -> list[Run]:
    """*runs*, in logical order, in the order they are seen from left to right: from the
    highest level to the lowest odd one, every sequence at that level or higher is
    reversed (UAX #9, rule L2; each run's own text is reversed by drawing it in its
    direction)."""
    if not runs:
        return []
    highest = max(run.level for run in runs)
    lowest_odd = min((run.level for run in runs if run.level % 2), default=highest + 1)
    order = list(runs)
    for level in range(highest, lowest_odd - 1, -1):
        index = 0
        while index < len(order):
            if order[index].level < level:
                index += 1
                continue
            end = index
            while end < len(order) and order[end].level >= level:
                end += 1
            order[index:end] = order[index:end][::-1]
            index = end
    return order
