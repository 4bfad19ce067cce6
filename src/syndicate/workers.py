"""Spreading work that pays for it over the machine's cores."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
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
    """Have the kernel kill this process, a helper just forked, as soon as *parent*, the
    process that forked it, dies in any way: killed with SIGKILL or by the out-of-memory
    killer, it can neither stop its helpers nor close the pipes they would notice.  A
    helper left behind would go on using memory and hold whatever it inherited (the
    publish lock's file, for one).  The kernel watches the thread that forked the helper,
    in fact: the thread that starts the helpers also stops them.  Linux only: other
    systems have no such call."""
    if sys.platform != "linux":
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above: no signal will come
        os._exit(1)


#: The items of the :class:`Stream` a worker forked for, and its function.
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
    results: list[Any] = [None] * len(items)
    with SharedWork(function, items, min_items=min_items, shared=shared) as made:
        for position, result in made:
            results[position] = result
    return results


class SharedWork(Generic[R]):
    """``function(item)`` for each of *items*, made on every core when there is enough
    work, by this process and by helpers forked from it: iterating gives each item's
    position in *items* and its result, as soon as it is made, in no set order.

    The helpers take chunks of items from the first one on, this process from the last
    one back, until they meet: a chunk is taken, under a lock, by whoever comes to it
    first.  A helper sends its results to this process through a pipe, which this
    process reads between its own chunks.  Unlike a pool's workers, this process does
    its share instead of waiting, and what it makes is neither sent nor received (for an
    article, a tenth of what reading it costs); and no thread of this process stands
    between the helpers and their work.

    :meth:`close` stops the helpers, and must be called (a ``with`` block does it), even
    when not every result was taken; should this process be killed instead, the kernel
    kills them (:func:`_die_with`).  Without enough work, each result is made when it
    is taken.  Off Linux, where forking is not the safe default, a :class:`Stream`'s
    workers make them, in order.
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
        self._shared = shared
        self._helpers: list[Any] = []
        self._reader = -1
        helpers = min(cores(), 8) - 1
        self._pool: Stream[R] | None = None
        if helpers < 1 or len(items) < min_items:
            self._results: Iterator[tuple[int, R]] = enumerate(_serially(function, items, shared))
            return
        context = _fork_context()
        if context is None:
            self._pool = Stream(function, items, min_items=min_items, shared=shared)
            self._results = enumerate(self._pool)
            return
        # Small chunks, so that this process and the helpers finish together: about 32
        # for each process, of no more than CHUNK items.
        self._size = size = max(1, min(CHUNK, len(items) // (32 * (helpers + 1))))
        self._chunks = [items[start : start + size] for start in range(0, len(items), size)]
        #: The next chunk a helper takes, and the next this process takes.
        self._next = context.RawArray("q", [0, len(self._chunks) - 1])
        self._lock = context.Lock()
        self._done: set[int] = set()
        self._buffer = bytearray()
        self._reader, writer = os.pipe()
        with contextlib.suppress(AttributeError, OSError):  # Linux: room for a few chunks
            import fcntl

            fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._sent = select.poll()  # poll, unlike select, takes any descriptor
        self._sent.register(self._reader, select.POLLIN)
        try:
            for _ in range(helpers):
                helper = context.Process(
                    target=_help,
                    args=(function, self._chunks, self._next, self._lock, self._reader, writer),
                    kwargs={"shared": shared, "parent": os.getpid()},
                    daemon=True,
                )
                helper.start()
                self._helpers.append(helper)
        except BaseException:
            os.close(writer)
            self.close()
            raise
        os.close(writer)
        self._results = self._work()

    def __iter__(self) -> Iterator[tuple[int, R]]:
        return self._results

    def _work(self) -> Iterator[tuple[int, R]]:
        while True:
            yield from self._received(wait=False)
            index = self._take_last()
            if index is None:
                break
            yield from self._make(index)
        while len(self._done) < len(self._chunks):
            if self._reader < 0:  # every helper is gone: make what they did not send
                for index in range(len(self._chunks)):
                    if index not in self._done:
                        yield from self._make(index)
                break
            yield from self._received(wait=True)

    def _take_last(self) -> int | None:
        with self._lock:
            index: int = self._next[1]
            if index < self._next[0]:
                return None
            self._next[1] = index - 1
        return index

    def _make(self, index: int) -> Iterator[tuple[int, R]]:
        results = []
        _share(self._shared)
        try:
            for item in self._chunks[index]:
                results.append(self._function(item))
                self._pull(wait=False)  # a helper never waits long for room in the pipe
        finally:
            _share(None)
        self._done.add(index)
        start = index * self._size
        for offset, result in enumerate(results):
            yield start + offset, result

    def _pull(self, *, wait: bool) -> None:
        """Take what the helpers sent (with *wait*, wait for something) out of the pipe,
        to read later; at the end of the pipe, note that they are all gone."""
        if self._reader < 0 or not (wait or self._sent.poll(0)):
            return
        data = os.read(self._reader, PIPE_SIZE)
        if data:
            self._buffer += data
        else:  # every helper has exited
            os.close(self._reader)
            self._reader = -1

    def _received(self, *, wait: bool) -> Iterator[tuple[int, R]]:
        """The results the helpers sent so far; with *wait*, at least one chunk's, unless
        they are all gone."""
        buffer = self._buffer
        while True:
            got = False
            while len(buffer) >= 8:
                length = int.from_bytes(buffer[:8], "little")
                if len(buffer) < 8 + length:
                    break
                index, results, error = pickle.loads(buffer[8 : 8 + length])
                del buffer[: 8 + length]
                if error is not None:
                    raise error
                self._done.add(index)
                got = True
                start = index * self._size
                for offset, result in enumerate(results):
                    yield start + offset, result
            if self._reader < 0 or (got and wait):
                return
            if not wait and not self._sent.poll(0):
                return
            self._pull(wait=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._helpers:
            finished = len(self._done) == len(self._chunks)
            with self._lock:  # nothing more to take
                self._next[0] = len(self._chunks)
            for helper in self._helpers:
                if not finished:
                    helper.terminate()
                helper.join()
            self._helpers = []
        if self._reader >= 0:
            os.close(self._reader)
            self._reader = -1

    def __enter__(self) -> SharedWork[R]:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


#: The most items in a chunk of :class:`SharedWork`.
CHUNK = 40
#: The pipe from the helpers: room for a few chunks of results, so that a helper seldom
#: waits for this process to read them.
PIPE_SIZE = 1 << 20


def _help(
    function: Callable[[T], R],
    chunks: list[Sequence[T]],
    next_chunk: Any,
    lock: Any,
    reader: int,
    writer: int,
    *,
    shared: Any,
    parent: int,
) -> None:
    """A helper of :class:`SharedWork`, in its forked process: take the next chunk, send
    its results (or the exception it raised), until none is left; die with *parent*."""
    _die_with(parent)
    os.close(reader)
    _share(shared)
    try:
        while True:
            with lock:
                index = next_chunk[0]
                if index > next_chunk[1]:
                    break
                next_chunk[0] = index + 1
            try:
                results = [function(item) for item in chunks[index]]
                data = pickle.dumps((index, results, None), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # raised where the results are taken
                data = pickle.dumps((index, None, _picklable(error)))
            _write_all(writer, len(data).to_bytes(8, "little") + data)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the results are no longer wanted
    finally:
        os.close(writer)


def _picklable(error: Exception) -> Exception:
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


class Stream(Generic[R]):
    """``(function(item) for item in items)``, started at once on every core when there is
    enough work: the caller takes each result, in order, as soon as it is made, and does
    its own work (writing what the results hold) while the workers make the rest.

    :meth:`close` stops the workers, and must be called (a ``with`` block does it), even
    when not every result was taken; should this process be killed instead, the kernel
    kills them (:func:`_die_with`).  Without enough work for a pool, each result is made
    when it is taken.  The items go in small chunks, so that results come back steadily
    rather than in a few large batches.
    """

    def __init__(
        self,
        function: Callable[[T], R],
        items: Sequence[T],
        *,
        min_items: int = MIN_ITEMS,
        shared: Any = None,
    ) -> None:
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
            # pickled for them (an article page's job holds its body, tens of kB).
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_share_items,
                initargs=(shared, function, items, os.getpid()),
            )
            self._results = pool.map(_nth, range(len(items)), chunksize=chunk)
        else:
            pool = ProcessPoolExecutor(
                max_workers=workers, initializer=_start_worker, initargs=(shared, os.getpid())
            )
            self._results = pool.map(function, items, chunksize=chunk)
        self._pool = pool

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
