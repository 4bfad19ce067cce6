"""Spreading work that pays for it over the machine's cores."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a process pool costs more than it saves.
MIN_ITEMS = 300


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parallel_map(
    function: Callable[[T], R], items: Sequence[T], *, min_items: int = MIN_ITEMS
) -> list[R]:
    """``[function(item) for item in items]``, in order, on every core when there is enough work.

    *function* and the items must pickle (a module-level function, or a
    ``functools.partial`` of one).
    """
    workers = min(cores(), 8)
    if workers < 2 or len(items) < (MIN_ITEMS if min_items is None else min_items):
        return [function(item) for item in items]
    from concurrent.futures import ProcessPoolExecutor  # loads only when there is a pool

    chunk = max(1, len(items) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items, chunksize=chunk))
