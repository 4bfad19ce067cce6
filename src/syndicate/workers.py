"""Spreading work that pays for it over the machine's cores: one runner (:class:`_Run`).

It makes ``function(item)`` for each item, serially when there is little work, else in
one process pool started at once.  :class:`Stream`, :class:`SharedWork` and
:func:`parallel_map` are the same runner, taken in the three ways callers need: each
result in order, each with its position, and the whole list.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, Self, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a process pool costs more than it saves.
MIN_ITEMS = 300


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: What every item of the current map needs (see :class:`Stream`'s *shared*).
_SHARED: Any = None


def _share(value: Any) -> None:
    global _SHARED
    _SHARED = value


def shared() -> Any:
    """The *shared* value of the :class:`Stream` this call runs in."""
    return _SHARED


def _fork_context() -> Any:
    """The "fork" multiprocessing context where forking a process is the safe default
    (Linux), else None.  Loads multiprocessing only when there are processes to start."""
    if sys.platform != "linux":
        return None
    import multiprocessing

    return multiprocessing.get_context("fork")


#: prctl(2)'s option that has the kernel signal a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have the kernel kill this process, a worker just started, as soon as *parent*, the
    process that started it, dies in any way: killed with SIGKILL or by the out-of-memory
    killer, it can neither stop its workers nor close the pipes they would notice.  A
    worker left behind would go on using memory and hold whatever it inherited (the
    publish lock's file, for one).  The kernel watches the thread that started the
    worker, in fact: the thread that starts the workers also stops them.  Linux only:
    other systems have no such call."""
    if sys.platform != "linux":
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above: no signal will come
        os._exit(1)


#: The items of the :class:`Stream` a worker was forked for, and its function.
_ITEMS: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _share_items(
    value: Any, function: Callable[[Any], Any], items: Sequence[Any], parent: int
) -> None:
    global _ITEMS
    _die_with(parent)
    _share(value)
    _ITEMS = (function, items)


def _start_worker(value: Any, parent: int) -> None:
    _die_with(parent)
    _share(value)


def _nth(index: int) -> Any:
    """The result for the item at *index* of the items the worker inherited."""
    assert _ITEMS is not None, "only in a worker that inherited its items"
    function, items = _ITEMS
    return function(items[index])


class _Run(Generic[R]):
    """The runner: ``function(item)`` for each of *items*, started at once on every core
    when there is enough work, in one process pool; its results are taken in order, as
    :class:`Stream` gives them or :class:`SharedWork` with their positions.

    *function* and the items must pickle where processes are not forked (a module-level
    function, or a ``functools.partial`` of one).  *shared*, which *function* reads with
    :func:`shared`, goes to each worker once rather than with every chunk of items; on
    Linux the workers are forked and inherit it, and the items too, so that each is sent
    only its position.

    What *function* raises in a worker is raised where its result is taken.  Should a
    worker die (the out-of-memory killer), the results it did not give are made in this
    process.  :meth:`close` stops the workers, and must be called (a ``with`` block does
    it), even when not every result was taken; should this process be killed instead, the
    kernel kills them (:func:`_die_with`).  Without enough work for a pool, each result is
    made when it is taken.  The items go in small chunks, so that results come back
    steadily rather than in a few large batches.
    """

    def __init__(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        *,
        min_items: int = MIN_ITEMS,
        shared: Any = None,
    ) -> None:
        self._function: Callable[[Any], R] = function
        self._items: Sequence[Any] = items
        self._shared = shared
        workers = min(cores(), 8)
        self._pool: Any = None
        if workers < 2 or len(items) < min_items:
            self._results: Iterator[R] = _serially(function, items, shared)
            return
        from concurrent.futures import ProcessPoolExecutor  # loads only when there is a pool

        chunk = min(max(1, len(items) // (workers * 4)), 32)
        context = _fork_context()
        if context is not None:
            # The workers inherit the items and are sent only where each is: nothing is
            # pickled for them (an article page's job holds its body).
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_share_items,
                initargs=(shared, function, items, os.getpid()),
            )
            mapped = pool.map(_nth, range(len(items)), chunksize=chunk)
        else:
            pool = ProcessPoolExecutor(
                max_workers=workers, initializer=_start_worker, initargs=(shared, os.getpid())
            )
            mapped = pool.map(function, items, chunksize=chunk)
        self._pool = pool
        self._results = self._taken(mapped)

    def _taken(self, mapped: Iterator[R]) -> Iterator[R]:
        from concurrent.futures.process import BrokenProcessPool

        given = 0
        try:
            for result in mapped:
                yield result
                given += 1
        except BrokenProcessPool:  # a worker died: this process makes the rest
            self.close()
            yield from _serially(self._function, self._items[given:], self._shared)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


class Stream(_Run[R]):
    """``(function(item) for item in items)`` (see :class:`_Run`): the caller takes each
    result, in order, as soon as it is made, and does its own work (writing what the
    results hold) while the workers make the rest."""

    def __iter__(self) -> Iterator[R]:
        return self._results


class SharedWork(_Run[R]):
    """A :class:`Stream` whose results come with their positions in *items*: iterating
    gives ``(position, result)``, for a caller that files each result where it belongs."""

    def __iter__(self) -> Iterator[tuple[int, R]]:
        return enumerate(self._results)


def parallel_map(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    min_items: int = MIN_ITEMS,
    shared: Any = None,
) -> list[R]:
    """``[function(item) for item in items]``, in order, on every core when there is enough
    work (a :class:`Stream` taken whole)."""
    with Stream(function, items, min_items=min_items, shared=shared) as stream:
        return list(stream)


def _serially(function: Callable[[T], R], items: Sequence[T], shared: Any) -> Iterator[R]:
    for item in items:
        _share(shared)
        try:
            result = function(item)
        finally:
            _share(None)
        yield result
