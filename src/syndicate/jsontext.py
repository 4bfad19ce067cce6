"""JSON as syndicate writes it: the text of a value, indented as ``json.dumps(value,
ensure_ascii=False, indent=2)`` writes it, and safe to embed in an HTML page.

The JSON Feed, the social files, the state file and the build cache are written with it.
"""

from __future__ import annotations

import json

#: ``json.dumps(value, ensure_ascii=False)``, its encoder made once (``json.dumps`` given
#: an argument makes one for every call).
json_text = json.JSONEncoder(ensure_ascii=False).encode
#: A text as ``json.dumps(text, ensure_ascii=False)`` writes it (the C encoder's own).
json_string = json.encoder.encode_basestring


def _scalar(value: object) -> str:
    """A JSON scalar as json.dumps writes it."""
    if type(value) is str:
        return json_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    text: str = json_text(value)  # a float, or a subclass of str or int
    return text


#: A line break and the indent of each depth, made once.
_PADS = tuple("\n" + "  " * depth for depth in range(16))


def _pad(depth: int) -> str:
    return _PADS[depth] if depth < len(_PADS) else "\n" + "  " * depth


def json_indented(value: object, depth: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)``, byte for byte, made faster: the
    standard library indents in pure Python, while this hands each scalar to the C
    encoder.  Mappings must have text keys."""
    # Text, the most common value, is written where it is met, without a call for it.
    if isinstance(value, dict):
        if not value:
            return "{}"
        deeper = depth + 1
        pad = _pad(deeper)
        inner = ",".join(
            [
                f"{pad}{json_string(key)}: "
                f"{json_string(item) if type(item) is str else json_indented(item, deeper)}"
                for key, item in value.items()
            ]
        )
        return "{" + inner + _pad(depth) + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        deeper = depth + 1
        pad = _pad(deeper)
        inner = ",".join(
            [
                f"{pad}{json_string(item) if type(item) is str else json_indented(item, deeper)}"
                for item in value
            ]
        )
        return "[" + inner + _pad(depth) + "]"
    return _scalar(value)


def html_safe(json_text: str) -> str:
    """JSON with "<", ">" and "&" written as \\u escapes: the same JSON, but safe to embed
    in an HTML page."""
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_bytes(document: object) -> bytes:
    """*document* as indented UTF-8 JSON with a final newline, made :func:`html_safe`."""
    return (html_safe(json_indented(document)) + "\n").encode("utf-8")
