"""The front-matter fast path reads what PyYAML reads, or hands the block to PyYAML.

``simple_yaml.read`` reads the few ``key: value`` lines nearly every article has without
PyYAML's parser.  For any block it accepts, the values (with their types: ``yes`` is true,
``2025-08-18`` a date, ``1e3`` a number) and the line of each key are PyYAML's own; for any
other block it returns None.  Hypothesis writes blocks near and inside that subset.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syndicate.content import simple_yaml

KEYS = st.sampled_from(
    ["title", "date", "tags", "categories", "image", "draft", "x-y", "a_b", "yes", "null", "1"]
)
SCALARS = st.one_of(
    st.sampled_from(
        [
            "2025-08-18",
            "2025-02-30",
            "2025-8-1",
            "2025-08-18T09:30:00+07:00",
            "2025-08-18 09:30",
            "0000-01-01",
            "9999-12-31",
            "12345-01-01",
            "yes",
            "No",
            "~",
            "null",
            "1e3",
            "0x1F",
            "0o17",
            "1_000",
            ".inf",
            "-.5",
            "+1",
            "3:25",
            "Hello, world",
            "a: b",
            "a #b",
            "it's",
            '"quoted"',
            "'single'",
            '"esc\\"aped"',
            "'it''s'",
            "[a, b]",
            "[]",
            "[2025-01-01, yes, x]",
            "{a: 1}",
            "&anchor x",
            "*alias",
            "!tag x",
            "| ",
            "> ",
            "- item",
            "%x",
            "@x",
            "`x`",
        ]
    ),
    st.text(
        alphabet=st.sampled_from("ab 1-:#,'\"[]{}!&*?|>%@`.\t\\é✓\u2028"), min_size=1, max_size=12
    ),
)


@st.composite
def blocks(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(KEYS)
        kind = draw(st.sampled_from(["value", "value", "list", "comment", "blank"]))
        if kind == "comment":
            lines.append("# " + draw(SCALARS))
        elif kind == "blank":
            lines.append("")
        elif kind == "list":
            indent = draw(st.sampled_from(["", "  ", "    "]))
            items = draw(st.lists(SCALARS, min_size=0, max_size=3))
            lines.append(f"{key}:")
            lines += [f"{indent}- {item}" for item in items]
        else:
            lines.append(f"{key}: {draw(SCALARS)}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def typed(value: Any) -> Any:
    """*value* with the type of every scalar in it (True is not 1, a date not a text)."""
    if isinstance(value, list):
        return ["list", [typed(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", {str(key): typed(item) for key, item in value.items()}]
    return [type(value).__name__, value]


def pyyaml(raw: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The values and the line of each key (its last) as PyYAML reads them."""
    loader = yaml.SafeLoader(raw)
    try:
        node = loader.get_single_node()
        if node is None:  # only blank lines and comments: the loader reads no keys
            return {}, {}
        assert isinstance(node, yaml.MappingNode)
        lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return data, lines


@settings(max_examples=1500, deadline=None)
@given(blocks())
@example("title: x\ndate: 2025-08-18\n")
@example("date: 2025-02-30\n")
@example("date: 12345-01-01\n")
@example("tags:\n  - 2025-01-01\n  - yes\n")
def test_a_block_the_fast_path_reads_is_read_as_pyyaml_reads_it(raw: str) -> None:
    found = simple_yaml.read(raw)
    if found is None:
        return  # PyYAML reads it, or reports what is wrong with it
    data, lines, repeated = found
    expected, expected_lines = pyyaml(raw)
    assert typed(data) == typed(expected)
    assert lines == expected_lines
    assert {key for key, _ in repeated} <= set(data)


def test_the_usual_front_matter_takes_the_fast_path() -> None:
    raw = (
        'title: "About Affordable Was Japan Medicine"\nauthor: "Fatima Zahra"\n'
        "date: 2023-04-13\ncategories: Mobile, Education, Fintech\n"
        'image: "/assets/images/about.webp"\n'
    )
    found = simple_yaml.read(raw)
    assert found is not None
    assert found[0]["date"] == date(2023, 4, 13)
    assert found[0] == pyyaml(raw)[0]


def test_a_day_that_does_not_exist_goes_to_pyyaml() -> None:
    assert simple_yaml.read("date: 2025-02-30\n") is None
