"""Spreading work that pays for it over the machine's cores: one runner (:class:`Run`).

It makes ``function(context, item)`` for each item, serially when there is little work,
else in one process pool started at once; the function is a plain stage, given its
context as a parameter, that neither knows nor asks where it runs.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, Self, TypeVar

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a process pool costs more than it saves.
MIN_ITEMS = 300


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


#: What a worker was started for: the run's function, its context and (when the worker
#: was forked) its items.  Set once in each worker process, by the pool's initializer.
_RUN: tuple[Callable[[Any, Any], Any], Any, Sequence[Any] | None] | None = None


def _start_worker(
    function: Callable[[Any, Any], Any], context: Any, items: Sequence[Any] | None, parent: int
) -> None:
    global _RUN
    _die_with(parent)
    _RUN = (function, context, items)


def _nth(index: int) -> Any:
    """The result for the item at *index* of the items the worker inherited."""
    assert _RUN is not None, "only in a worker started for a run"
    function, context, items = _RUN
    assert items is not None, "only in a worker forked for a run"
    return function(context, items[index])


def _apply(item: Any) -> Any:
    """The result for *item*, sent to the worker."""
    assert _RUN is not None, "only in a worker started for a run"
    function, context, _ = _RUN
    return function(context, item)


class Run(Generic[R]):
    """The runner: ``function(context, item)`` for each of *items*, in order, started at
    once on every core when there is enough work, in one process pool; iterating gives
    each result as soon as it is made, so that the caller does its own work (writing
    what the results hold) while the workers make the rest.

    *function*, *context* and the items must pickle where processes are not forked (a
    module-level function).  *context*, what every item needs, goes to each worker once,
    when it starts, rather than with every chunk of items; on Linux the workers are forked
    and inherit it, and the items too, so that each is sent only its position.

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
        function: Callable[[C, T], R],
        context: C,
        items: Sequence[T],
        *,
        min_items: int = MIN_ITEMS,
    ) -> None:
        self._function: Callable[[Any, Any], R] = function
        self._context: Any = context
        self._items: Sequence[Any] = items
        workers = min(cores(), 8)
        self._pool: Any = None
        if workers < 2 or len(items) < min_items:
            self._results: Iterator[R] = _serially(function, context, items)
            return
        from concurrent.futures import ProcessPoolExecutor  # loads only when there is a pool

        chunk = min(max(1, len(items) // (workers * 4)), 32)
        forking = _fork_context()
        if forking is not None:
            # The workers inherit the items and are sent only where each is: nothing is
            # pickled for them (an article page's job holds its body).
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=forking,
                initializer=_start_worker,
                initargs=(function, context, items, os.getpid()),
            )
            mapped = pool.map(_nth, range(len(items)), chunksize=chunk)
        else:
            pool = ProcessPoolExecutor(
                max_workers=workers,
                initializer=_start_worker,
                initargs=(function, context, None, os.getpid()),
            )
            mapped = pool.map(_apply, items, chunksize=chunk)
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
            yield from _serially(self._function, self._context, self._items[given:])

    def __iter__(self) -> Iterator[R]:
        return self._results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


def run_all(
    function: Callable[[C, T], R], context: C, items: Sequence[T], *, min_items: int = MIN_ITEMS
) -> list[R]:
    """``[function(context, item) for item in items]``, in order, on every core when there
    is enough work (a :class:`Run` taken whole)."""
    with Run(function, context, items, min_items=min_items) as run:
        return list(run)


def _serially(function: Callable[[C, T], R], context: C, items: Sequence[T]) -> Iterator[R]:
    for item in items:
        yield function(context, item)
