"""Using both cores changes how fast a build is, never what it writes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import types
from collections.abc import Callable
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


PARENT = os.getpid()


def _slow_here(item: int) -> None:
    """Slows this process down, so that a helper surely starts while work is left."""
    if os.getpid() == PARENT:
        time.sleep(0.0005)


def _made_where(item: int) -> tuple[int, int]:
    _slow_here(item)
    return item, os.getpid()


def _fails_in_a_helper(item: int) -> int:
    _slow_here(item)
    if item == 0 and os.getpid() != PARENT:  # the first chunk: a helper's
        raise ValueError("item 0 is bad")
    return item


def _fails_here(item: int) -> int:
    if item == 1999:  # the last chunk: this process's
        raise ValueError("item 1999 is bad")
    return item


def _unpicklable_in_a_helper(item: int) -> object:
    _slow_here(item)
    return (lambda: item) if os.getpid() != PARENT else item


def _a_helper_dies_on_7(item: int) -> int:
    _slow_here(item)
    if item == 7 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return item


needs_two_cores = pytest.mark.skipif(workers.cores() < 2, reason="one core: no helper")


@needs_two_cores
def test_shared_work_is_done_by_this_process_and_its_helpers_once_each() -> None:
    items = list(range(1000))
    with workers.SharedWork(_made_where, items, min_items=1) as work:
        made = list(work)
    assert sorted(position for position, _ in made) == items
    assert all(result[0] == items[position] for position, result in made)
    makers = {pid for _, (_, pid) in made}
    assert PARENT in makers and len(makers) >= 2


@pytest.mark.parametrize(
    ("function", "kind", "message"),
    [
        pytest.param(_fails_in_a_helper, ValueError, "item 0 is bad", marks=needs_two_cores),
        pytest.param(_unpicklable_in_a_helper, Exception, "lambda", marks=needs_two_cores),
        (_fails_here, ValueError, "item 1999 is bad"),
    ],
)
def test_shared_work_raises_what_the_function_raised(
    function: Callable[[int], object], kind: type[Exception], message: str
) -> None:
    with (
        pytest.raises(kind, match=message),
        workers.SharedWork(function, list(range(2000)), min_items=1) as work,
    ):
        list(work)
    assert work._helpers == []
    assert multiprocessing.active_children() == []


@needs_two_cores
def test_shared_work_makes_what_a_killed_helper_did_not_send() -> None:
    items = list(range(200))
    assert workers.parallel_map(_a_helper_dies_on_7, items, min_items=1) == items


def test_shared_work_stopped_early_leaves_no_helper() -> None:
    with workers.SharedWork(abs, list(range(-20000, 0)), min_items=1) as work:
        next(iter(work))
        helpers = list(work._helpers)
    assert all(not helper.is_alive() for helper in helpers)
    assert work._helpers == []
    assert multiprocessing.active_children() == []


#: How many times an :class:`Item` was pickled (in this process: to send it to a worker).
PICKLED: list[int] = []


class Item:
    """An item that records being pickled."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __reduce__(self) -> tuple[object, ...]:
        PICKLED.append(self.value)
        return (Item, (self.value,))


def _value_and_maker(item: Item) -> tuple[int, int]:
    return item.value, os.getpid()


@needs_two_cores
def test_a_streams_workers_inherit_its_items_rather_than_being_sent_them() -> None:
    PICKLED.clear()
    items = [Item(i) for i in range(1000)]
    with workers.Stream(_value_and_maker, items, min_items=1) as stream:
        made = list(stream)
    assert [value for value, _ in made] == list(range(1000))
    assert PARENT not in {pid for _, pid in made}  # made by the workers
    assert PICKLED == []


def test_off_linux_a_stream_sends_its_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "sys", types.SimpleNamespace(platform="darwin"))
    with workers.Stream(abs, list(range(-1000, 0)), min_items=1) as stream:
        assert list(stream) == list(range(1000, 0, -1))


def test_off_linux_a_pools_workers_do_the_shared_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "sys", types.SimpleNamespace(platform="darwin"))
    with workers.SharedWork(abs, list(range(-1000, 0)), min_items=1) as work:
        assert work._helpers == [] and (work._pool is not None or workers.cores() < 2)
        assert list(work) == list(enumerate(range(1000, 0, -1)))
    assert work._pool is None


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
