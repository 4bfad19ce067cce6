"""Text in one Unicode form: NFC, in time linear in its length.

The same "é" can be written as one character (U+00E9) or as "e" and a combining accent
(U+0301), and editors differ: macOS and some input methods write the second.  The two
look the same, but not to anything that compares bytes: a category spelt both ways
would be two categories, a title two titles.  Article text is put in Normalization Form
C (composed) as it is read, so that both spellings give the same output.

Python's :func:`unicodedata.normalize` sorts each run of combining marks by insertion,
in time that grows with the square of the run: a few hundred kilobytes of accents in a
descending order keep it busy for minutes.  Text that needs normalising is first put in
Unicode's Stream-Safe Text Format (UAX #15, section 13): a COMBINING GRAPHEME JOINER
(U+034F, invisible) after every :data:`MAX_MARKS` combining marks in a row, so that no
run it sorts is longer.  Only text with more marks in a row than any writing system
uses is changed by it.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

#: The most combining marks in a row that normalising sorts as one run (UAX #15's bound).
MAX_MARKS = 30
#: What Stream-Safe Text Format puts between longer runs of marks.
JOINER = "\u034f"


def nfc(text: str) -> str:
    """*text* in Normalization Form C (itself, when it is already)."""
    if text.isascii():
        return text
    # Before is_normalized too: where the quick check cannot tell, it normalises.
    safe = _long_runs().sub(_joined, text) if _MAYBE_LONG_RUN.search(text) else text
    if unicodedata.is_normalized("NFC", safe):
        return safe
    return unicodedata.normalize("NFC", safe)


#: A quick test that rules out a long run of marks in most text: no combining mark is a word
#: character or a space (tests/test_front_matter.py checks it), and the exact pattern of
#: :func:`_long_runs` is slow to search with.  Every mark comes after U+02FF: a run can
#: only start at such a character, which the search skips to without trying the pattern
#: at each one before it (text in Latin letters seldom has one).
_MAYBE_LONG_RUN = re.compile(rf"[\u0300-\U0010ffff][^\w\s]{{{MAX_MARKS}}}")


def _joined(run: re.Match[str]) -> str:
    return run.group() + JOINER


@lru_cache(maxsize=1)
def _long_runs() -> re.Pattern[str]:
    """:data:`MAX_MARKS` characters that sort among combining marks, when another follows:
    every character with a combining class, and the few that decompose into such
    characters though they have none themselves (Tibetan vowel signs such as U+0F73)."""
    combining, decomposition = unicodedata.combining, unicodedata.decomposition
    marks = [
        code
        for code in range(sys.maxunicode + 1)
        if combining(chr(code))
        or (decomposition(chr(code)) and combining(unicodedata.normalize("NFD", chr(code))[0]))
    ]
    ranges: list[tuple[int, int]] = []
    for code in marks:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    members = "".join(
        re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))
        for first, last in ranges
    )
    return re.compile(f"[{members}]{{{MAX_MARKS}}}(?=[{members}])")
