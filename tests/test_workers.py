"""Using both cores changes how fast a build is, never what it writes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import NOW, MakePublication, article, tree
from syndicate import workers
from syndicate.pipeline import build, check


def _abs(context: object, item: int) -> int:
    return abs(item)


def test_run_all_keeps_the_order() -> None:
    items = list(range(1000))
    assert workers.run_all(_abs, None, [-i for i in items], min_items=1) == items


#: Worker processes, or none (too few items for them).
POOL_OR_NOT = pytest.mark.parametrize("min_items", [1, 10**9])


@POOL_OR_NOT
def test_a_run_gives_every_result_in_order(min_items: int) -> None:
    items = list(range(500))
    with workers.Run(_abs, None, [-i for i in items], min_items=min_items) as run:
        assert list(run) == items


PARENT = os.getpid()


def _made_where(context: object, item: int) -> tuple[int, int]:
    return item, os.getpid()


needs_two_cores = pytest.mark.skipif(workers.cores() < 2, reason="one core: no helper")


@needs_two_cores
def test_with_enough_work_other_processes_make_the_results() -> None:
    with workers.Run(_made_where, None, list(range(1000)), min_items=1) as run:
        made = list(run)
    assert [item for item, _ in made] == list(range(1000))
    assert PARENT not in {pid for _, pid in made}


@POOL_OR_NOT
def test_the_context_is_given_with_every_item(min_items: int) -> None:
    items = list(range(400))
    made = workers.run_all(_plus, 10, items, min_items=min_items)
    assert made == [10 + item for item in items]


def _plus(context: int, item: int) -> int:
    return context + item


def _fails_in_a_helper(context: object, item: int) -> int:
    if item == 0 and os.getpid() != PARENT:
        raise ValueError("item 0 is bad")
    return item


def _fails_anywhere(context: object, item: int) -> int:
    if item == 1999:
        raise ValueError("item 1999 is bad")
    return item


def _unpicklable_in_a_helper(context: object, item: int) -> object:
    return (lambda: item) if os.getpid() != PARENT else item


def _a_helper_dies_on_7(context: object, item: int) -> int:
    if item == 7 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return item


@pytest.mark.parametrize(
    ("function", "kind", "message"),
    [
        pytest.param(_fails_in_a_helper, ValueError, "item 0 is bad", marks=needs_two_cores),
        pytest.param(_unpicklable_in_a_helper, Exception, "lambda", marks=needs_two_cores),
        (_fails_anywhere, ValueError, "item 1999 is bad"),
    ],
)
def test_what_the_function_raised_is_raised_where_its_result_is_taken(
    function: Callable[[object, int], object], kind: type[Exception], message: str
) -> None:
    with (
        pytest.raises(kind, match=message),
        workers.Run(function, None, list(range(2000)), min_items=1) as run,
    ):
        list(run)
    assert multiprocessing.active_children() == []


@needs_two_cores
def test_what_a_killed_helper_did_not_give_is_made_all_the_same() -> None:
    items = list(range(200))
    assert workers.run_all(_a_helper_dies_on_7, None, items, min_items=1) == items
    assert multiprocessing.active_children() == []


def test_work_stopped_early_leaves_no_helper() -> None:
    with workers.Run(_abs, None, list(range(-20000, 0)), min_items=1) as run:
        next(iter(run))
    assert multiprocessing.active_children() == []


def test_off_linux_the_items_are_sent_and_the_results_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "sys", types.SimpleNamespace(platform="darwin"))
    with workers.Run(_plus, 1, list(range(-1000, 0)), min_items=1) as run:
        assert list(run) == list(range(-999, 1))
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
