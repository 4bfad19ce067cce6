"""An article's text split into its front matter's values and its body.

YAML between ``---`` lines (the few plain ``key: value`` lines most articles have are read
by :mod:`.simple_yaml`, the rest by PyYAML with its aliases bounded), TOML between ``+++``
lines (:mod:`.toml_front_matter`); anything else is an error that says what is read
(:data:`FORMATS`).  Each key keeps its line, for diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import simple_yaml, toml_front_matter
from .values import describe

if TYPE_CHECKING:  # PyYAML loads when an article is parsed (not when all are cached)
    import yaml


if TYPE_CHECKING:  # PyYAML loads when an article is parsed (not when all are cached)
    import yaml


@lru_cache(maxsize=1)
def _yaml() -> tuple[Any, type[yaml.SafeLoader], Any]:
    """PyYAML, its fastest safe loader, and python-frontmatter's splitter."""
    import frontmatter.default_handlers
    import yaml

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml, loader, frontmatter.default_handlers.YAMLHandler()


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    #: Keys given more than once, with the line of the repeat (the last one wins).
    repeated: tuple[tuple[str, int], ...]


class Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


FORMATS = 'syndicate reads front matter between "---" lines (YAML) or "+++" lines (TOML)'
#: The line that opens and closes a TOML front matter (as Hugo and python-frontmatter have it).
_TOML_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
#: A first line as Pelican and MultiMarkdown write their headers: "Title: My post".
_HEADER_LINE = re.compile(r"[A-Za-z][A-Za-z0-9_ -]{0,40}:(?:[ \t]|$)", re.MULTILINE)
_JSON_START = re.compile(r"\s*\{")


def _block_place(text: str, raw: str) -> tuple[int, int]:
    """The line before the front matter *raw* of *text* starts (its parser counts from
    there), and the line where the body starts."""
    offset = text.count("\n", 0, text.find(raw, 3)) if raw else 1
    return offset, offset + raw.count("\n") + 2


def _split_toml(text: str) -> FrontMatter:
    parts = _TOML_BOUNDARY.split(text, 2)
    if len(parts) < 3:
        raise Problem(1, f'front matter is not closed by a "+++" line; {FORMATS}')
    _, raw, body = parts
    offset, body_line = _block_place(text, raw)
    try:
        data, at = toml_front_matter.read(raw)
    except toml_front_matter.Problem as problem:
        raise Problem(offset + problem.line, problem.message) from None
    lines = {key: offset + line for key, line in at.items()}
    return FrontMatter(data, lines, body, body_line, ())


def _unreadable(text: str) -> str:
    """What to say of an article that starts with no front matter syndicate reads."""
    if _JSON_START.match(text):
        return (
            f"JSON front matter is not read; {FORMATS}: put the JSON object between two "
            '"---" lines (JSON is YAML)'
        )
    if _HEADER_LINE.match(text):
        return (
            'no front matter: "Key: value" lines without "---" lines (Pelican\'s headers) '
            f"are not read; {FORMATS}"
        )
    return f"no front matter: an article starts with its front matter; {FORMATS}"


def split(text: str) -> FrontMatter:
    if _TOML_BOUNDARY.match(text):
        return _split_toml(text)
    yaml, loader_class, splitter = _yaml()
    if not splitter.detect(text):
        raise Problem(1, _unreadable(text))
    try:
        raw, body = splitter.split(text)
    except ValueError:
        raise Problem(1, f'front matter is not closed by a "---" line; {FORMATS}') from None
    offset, body_line = _block_place(text, raw)
    simple = simple_yaml.read(raw)
    if simple is not None:
        data, at, again = simple
        lines = {key: offset + line for key, line in at.items()}
        repeated = tuple((key, offset + line) for key, line in again)
        return FrontMatter(data, lines, body, body_line, repeated)
    loader = loader_class(raw)
    try:
        node = loader.get_single_node()
        if node is None:  # an empty block, or only comments
            return FrontMatter({}, {}, body, body_line, ())
        _check_aliases(node, raw, offset)
        if not isinstance(node, yaml.MappingNode):
            value = loader.construct_document(node)
            if value is None:  # "~" or "null": nothing, like an empty block
                return FrontMatter({}, {}, body, body_line, ())
            raise Problem(
                offset + _line(raw, node.start_mark),
                f"front matter must be keys and values, not {describe(value)}",
            )
        return _construct(loader, node, raw, offset, body, body_line)
    except yaml.reader.ReaderError as error:
        line = offset + raw.count("\n", 0, error.position) + 1
        raise Problem(
            line, f"front matter has a control character U+{error.character:04X}"
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = offset + _line(raw, mark) if mark else 1
        problem = error.problem or error.context or "cannot be read"
        raise Problem(line, f"front matter is not valid YAML: {problem}") from None
    except Problem:
        raise
    except Exception as error:
        raise Problem(offset + 1, f"front matter is not valid YAML: {error}") from None
    finally:
        loader.dispose()


#: How much YAML's aliases (``*name``, and ``<<`` merges) may add to a front matter, in
#: values and in characters of text, beyond what it writes out.  Each alias repeats what
#: its anchor holds, so nine lines of them can stand for a billion values, which would
#: cost their full size in every later step (the build cache's JSON among them).
MAX_ALIAS_VALUES = 10_000
MAX_ALIAS_CHARACTERS = 1_000_000


def _check_aliases(node: Any, raw: str, offset: int) -> None:
    """A :class:`Problem` at the first key of the front matter *node* past which its
    aliases add more than :data:`MAX_ALIAS_VALUES` values or
    :data:`MAX_ALIAS_CHARACTERS` characters, or that holds an alias to itself.  Each
    node is looked at once, whatever the aliases would expand to."""
    yaml = _yaml()[0]
    sizes = _Sizes(yaml)
    pairs = node.value if isinstance(node, yaml.MappingNode) else [(None, node)]
    for key, value in pairs:
        mark = (key or value).start_mark
        line = offset + _line(raw, mark)
        name = f"{key.value}: " if isinstance(key, yaml.ScalarNode) else ""
        try:
            for part in (key, value):
                if part is not None:
                    sizes.add(part)
        except _Recursive:
            raise Problem(line, f"{name}a YAML alias is used inside its own anchor") from None
        if sizes.added_values > MAX_ALIAS_VALUES or sizes.added_characters > MAX_ALIAS_CHARACTERS:
            raise Problem(
                line,
                f"{name}YAML aliases repeat more than {MAX_ALIAS_VALUES:,} values or "
                f"{MAX_ALIAS_CHARACTERS:,} characters; write the values out",
            )


class _Recursive(Exception):
    """A YAML node that holds itself through an alias."""


class _Sizes:
    """The values and characters of YAML nodes with their aliases expanded, and how many
    more than the nodes themselves hold that is, over the nodes added so far."""

    #: The most a size is counted up to: the sizes stay small numbers.
    CAP = 1 << 40

    def __init__(self, yaml: Any) -> None:
        self.scalar, self.mapping = yaml.ScalarNode, yaml.MappingNode
        #: Each node met, by id: its values and characters, aliases expanded.
        self.known: dict[int, tuple[int, int]] = {}
        self.added_values = 0
        self.added_characters = 0

    def add(self, root: Any) -> None:
        """Count *root*: what its aliases repeat, and every node reached again through it."""
        known = self.known
        values = characters = 0  # of the nodes met here for the first time
        path: set[int] = set()  # the nodes entered and not yet left (all above this one)
        stack = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            key = id(node)
            if leaving:
                path.discard(key)
                children = self._children(node)
                own = len(node.value) if isinstance(node, self.scalar) else 0
                known[key] = (
                    min(1 + sum(known[id(child)][0] for child in children), self.CAP),
                    min(own + sum(known[id(child)][1] for child in children), self.CAP),
                )
                values, characters = values + 1, characters + own
            elif key in path:
                raise _Recursive
            elif key not in known:
                path.add(key)
                stack.append((node, True))
                stack.extend((child, False) for child in self._children(node))
        expanded_values, expanded_characters = known[id(root)]
        self.added_values += expanded_values - values
        self.added_characters += expanded_characters - characters

    def _children(self, node: Any) -> list[Any]:
        if isinstance(node, self.scalar):
            return []
        if isinstance(node, self.mapping):
            return [part for pair in node.value for part in pair]
        return list(node.value)


def _line(raw: str, mark: Any) -> int:
    """The line (1-based) of a YAML mark, counting only line feeds: YAML also breaks lines
    at U+2028 and U+0085, which an editor shows inside a line."""
    return raw.count("\n", 0, min(mark.index, len(raw))) + 1


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.MappingNode,
    raw: str,
    offset: int,
    body: str,
    body_line: int,
) -> FrontMatter:
    """Build the values key by key, so that a value YAML cannot build (``2025-02-30``,
    ``!!timestamp soon``) is reported against its own key and line, as the text written."""
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    repeated: list[tuple[str, int]] = []
    yaml = _yaml()[0]
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        line = offset + _line(raw, key_node.start_mark)
        try:
            key = loader.construct_object(key_node, deep=True)
        except Exception:
            key = key_node.value
        if isinstance(key, list | dict):
            raise Problem(line, "front matter keys must be plain names")
        name = str(key)
        try:
            value = loader.construct_object(value_node, deep=True)
        except Exception as error:
            if not isinstance(value_node, yaml.ScalarNode):
                raise Problem(line, f"{name}: cannot be read: {error}") from None
            value = value_node.value
        if name in data:
            repeated.append((name, line))
        data[name] = value
        lines[name] = line
    return FrontMatter(data, lines, body, body_line, tuple(repeated))
