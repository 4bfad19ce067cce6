"""Spreading work that pays for it over the machine's cores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a process pool costs more than it saves.
MIN_ITEMS = 300


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: What every item of the current map needs (see :func:`parallel_map`'s *shared*).
_SHARED: Any = None


def _share(value: Any) -> None:
    global _SHARED
    _SHARED = value


def shared() -> Any:
    """The *shared* value of the :func:`parallel_map` this call runs in."""
    return _SHARED


def parallel_map(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    min_items: int = MIN_ITEMS,
    shared: Any = None,
) -> list[R]:
    """``[function(item) for item in items]``, in order, on every core when there is enough work.

    *function* and the items must pickle (a module-level function, or a
    ``functools.partial`` of one).  *shared*, which *function* reads with :func:`shared`,
    goes to each worker process once rather than with every chunk of items (with the
    "fork" start method, not even once: the worker inherits it).
    """
    with Stream(function, items, min_items=min_items, shared=shared, steady=False) as results:
        return list(results)


class Stream(Generic[R]):
    """``(function(item) for item in items)``, started at once on every core when there is
    enough work: the caller takes each result, in order, as soon as it is made, and does
    its own work (writing what the results hold) while the workers make the rest.

    :meth:`close` stops the workers, and must be called (a ``with`` block does it), even
    when not every result was taken.  Without enough work for a pool, each result is made
    when it is taken.  *steady* sends the items in small chunks, so that results come
    back steadily rather than in a few large batches (each worker takes four).
    """

    def __init__(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        *,
        min_items: int = MIN_ITEMS,
        shared: Any = None,
        steady: bool = True,
    ) -> None:
        workers = min(cores(), 8)
        self._pool: Any = None
        if workers < 2 or len(items) < min_items:
            self._results: Iterator[R] = _serially(function, items, shared)
            return
        from concurrent.futures import ProcessPoolExecutor  # loads only when there is a pool

        chunk = max(1, len(items) // (workers * 4))
        if steady:
            chunk = min(chunk, 32)
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_share, initargs=(shared,))
        self._pool = pool
        self._results = pool.map(function, items, chunksize=chunk)

    def __iter__(self) -> Iterator[R]:
        return self._results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Stream[R]:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


def _serially(function: Callable[[T], R], items: Sequence[T], shared: Any) -> Iterator[R]:
    for item in items:
        _share(shared)
        try:
            result = function(item)
        finally:
            _share(None)
        yield result
