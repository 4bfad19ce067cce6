"""Using both cores changes how fast a build is, never what it writes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, MakePublication, article, tree
from syndicate import workers
from syndicate.pipeline import build, check


def test_parallel_map_keeps_the_order() -> None:
    items = list(range(1000))
    assert workers.parallel_map(abs, [-i for i in items], min_items=1) == items


#: Worker processes, or none (too few items for them).
POOL_OR_NOT = pytest.mark.parametrize("min_items", [1, 10**9])


@POOL_OR_NOT
def test_a_stream_gives_every_result_in_order(min_items: int) -> None:
    items = list(range(500))
    with workers.Stream(abs, [-i for i in items], min_items=min_items) as stream:
        assert list(stream) == items


@POOL_OR_NOT
def test_shared_work_gives_each_result_once_with_its_position(min_items: int) -> None:
    items = list(range(1000))
    with workers.SharedWork(abs, [-i for i in items], min_items=min_items) as work:
        made = list(work)
    assert sorted(made) == list(enumerate(items))


PARENT = os.getpid()


def _made_where(item: int) -> tuple[int, int]:
    return item, os.getpid()


needs_two_cores = pytest.mark.skipif(workers.cores() < 2, reason="one core: no helper")


@needs_two_cores
def test_with_enough_work_other_processes_make_the_results() -> None:
    with workers.Stream(_made_where, list(range(1000)), min_items=1) as stream:
        made = list(stream)
    assert [item for item, _ in made] == list(range(1000))
    assert PARENT not in {pid for _, pid in made}


def test_the_shared_value_is_there_for_every_item_and_gone_afterwards() -> None:
    for min_items in (1, 10**9):
        assert workers.parallel_map(_shared_plus, [1, 2, 3], min_items=min_items, shared=10) == [
            11,
            12,
            13,
        ]
    assert workers.shared() is None


def _shared_plus(item: int) -> int:
    value: int = workers.shared()
    return value + item


def _fails_in_a_helper(item: int) -> int:
    if item == 0 and os.getpid() != PARENT:
        raise ValueError("item 0 is bad")
    return item


def _fails_anywhere(item: int) -> int:
    if item == 1999:
        raise ValueError("item 1999 is bad")
    return item


def _unpicklable_in_a_helper(item: int) -> object:
    return (lambda: item) if os.getpid() != PARENT else item


def _a_helper_dies_on_7(item: int) -> int:
    if item == 7 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return item


@pytest.mark.parametrize("make", [workers.Stream, workers.SharedWork])
@pytest.mark.parametrize(
    ("function", "kind", "message"),
    [
        pytest.param(_fails_in_a_helper, ValueError, "item 0 is bad", marks=needs_two_cores),
        pytest.param(_unpicklable_in_a_helper, Exception, "lambda", marks=needs_two_cores),
        (_fails_anywhere, ValueError, "item 1999 is bad"),
    ],
)
def test_what_the_function_raised_is_raised_where_its_result_is_taken(
    make: Callable[..., Any], function: Callable[[int], object], kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind, match=message), make(function, list(range(2000)), min_items=1) as work:
        list(work)
    assert multiprocessing.active_children() == []


@needs_two_cores
def test_what_a_killed_helper_did_not_give_is_made_all_the_same() -> None:
    items = list(range(200))
    assert workers.parallel_map(_a_helper_dies_on_7, items, min_items=1) == items
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("make", [workers.Stream, workers.SharedWork])
def test_work_stopped_early_leaves_no_helper(make: Callable[..., Any]) -> None:
    with make(abs, list(range(-20000, 0)), min_items=1) as work:
        next(iter(work))
    assert multiprocessing.active_children() == []


def test_off_linux_the_items_are_sent_and_the_results_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "sys", types.SimpleNamespace(platform="darwin"))
    with workers.Stream(abs, list(range(-1000, 0)), min_items=1) as stream:
        assert list(stream) == list(range(1000, 0, -1))
    with workers.SharedWork(abs, list(range(-1000, 0)), min_items=1) as work:
        assert sorted(work) == list(enumerate(range(1000, 0, -1)))
    assert multiprocessing.active_children() == []


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
