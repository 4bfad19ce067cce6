"""Using both cores changes how fast a build is, never what it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, MakePublication, article, tree
from syndicate import workers
from syndicate.pipeline import build, check


def test_parallel_map_keeps_the_order() -> None:
    items = list(range(1000))
    assert workers.parallel_map(abs, [-i for i in items], min_items=1) == items


@pytest.mark.parametrize("min_items", [1, 10**9])  # worker processes, or none
def test_a_stream_gives_every_result_in_order(min_items: int) -> None:
    items = list(range(500))
    with workers.Stream(abs, [-i for i in items], min_items=min_items) as stream:
        assert list(stream) == items


def test_a_stream_closed_early_stops_its_workers() -> None:
    with workers.Stream(abs, list(range(-5000, 0)), min_items=1) as stream:
        first = next(iter(stream))
    assert first == 5000
    assert stream._pool is None


def test_a_parallel_build_writes_what_a_serial_one_writes(
    publication: MakePublication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    files = {
        f"content/{n:03}.md": article(
            f"Article {n}", f"2025-01-{n % 28 + 1:02}", f"Text {n}.", categories=f"C{n % 5}"
        )
        for n in range(120)
    }
    files["content/bad.md"] = "---\ntitle: [unclosed\n---\n"
    root = publication(files)
    monkeypatch.setattr(workers, "MIN_ITEMS", 10**9)
    serial_problems = build_problems(root)
    (root / "content/bad.md").unlink()
    build(root, NOW)
    serial = tree(root / "feeds")
    (root / "feeds").rename(tmp_path_factory.mktemp("serial") / "feeds")
    (root / ".syndicate/state.json").unlink()

    monkeypatch.setattr(workers, "MIN_ITEMS", 2)
    assert workers.cores() < 2 or len(files) >= workers.MIN_ITEMS
    (root / "content/bad.md").write_text("---\ntitle: [unclosed\n---\n")
    assert build_problems(root) == serial_problems
    (root / "content/bad.md").unlink()
    build(root, NOW)
    assert tree(root / "feeds") == serial


def build_problems(root: Path) -> list[str]:
    return [str(d) for d in check(root, NOW).diagnostics]
