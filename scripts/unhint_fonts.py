"""Remove the TrueType hinting from the fonts shipped for social cards.

python scripts/unhint_fonts.py templates/social/fonts/NotoSans-Regular.ttf [...]

Hinting (instructions that FreeType's bytecode interpreter runs for every glyph it loads)
made up two thirds of the time Pillow spent drawing a card's text, and changes nothing a
card shows: FreeType's default interpreter only moves points vertically, by under a pixel,
and the layout never used hinted advances (libraqm places glyphs with the unhinted ones).
This drops the font-wide hinting tables and every glyph's instructions, and nothing else:
outlines, character maps, kerning and shaping tables stay as they were, so text is laid
out exactly as before.  The version string says so (a modified font must say it was
modified).  Rewrites each file in place; running it again changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import ttProgram

#: Font-wide hinting tables: the programs, the control values and the device metrics.
HINTING_TABLES = ("fpgm", "prep", "cvt ", "cvar", "hdmx", "VDMX", "LTSH")
NOTE = "hinting removed by syndicate"


def unhint(path: Path) -> None:
    font = TTFont(path, recalcTimestamp=False)  # the same bytes every time
    for tag in (*HINTING_TABLES, "DSIG"):  # a signature no longer matches the bytes
        if tag in font:
            del font[tag]
    glyphs = font["glyf"]
    for name in glyphs.keys():
        glyph = glyphs[name]
        if hasattr(glyph, "program"):
            glyph.program = ttProgram.Program()
            glyph.program.fromBytecode(b"")
    maxp = font["maxp"]
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].flags &= ~(1 << 4)  # "instructions may alter advance widths"
    names = font["name"]
    for record in names.names:
        if record.nameID == 5:
            version = record.toUnicode().split(";")[0]
            names.setName(
                f"{version}; {NOTE}", 5, record.platformID, record.platEncID, record.langID
            )
    font.save(path)


def main(argv: list[str]) -> int:
    for name in argv:
        unhint(Path(name))
        print(f"{name}: hinting removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
