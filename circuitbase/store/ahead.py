"""Made ahead: an iterator's next item computed in a helper thread while the caller uses
the one before.

A batched write alternates two kinds of work: making a batch ready (reading its rows
back from the plan, encoding its parameters) is Python on this process's core, and
running it is the server's, while this process waits on a socket. Done one after the
other, each waits for the other; with the next batch made in a thread while this one
runs (a thread waiting on a socket lets go of Python's lock), the write takes about as
long as the longer of the two instead of their sum.

An item is made only once there is room for it: at most `depth` items wait made beside
the one the caller holds, so a write holds two batches at a time (`depth` 1) however many
there are. What the helper raises is raised in the caller, at
the item it would have made; leaving the `with` block early stops the helper.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _FAILED = range(3)
_POLL_SECONDS = 0.1  # how often a helper with a full queue checks that it is still wanted


class MadeAhead(Generic[T]):
    """`with MadeAhead(items) as ready: for item in ready: ...`, `items` iterated (and
    so made) in a helper thread, up to `depth` items ahead of the caller."""

    def __init__(self, items: Iterable[T], depth: int = 1) -> None:
        self._items = items
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue()
        self._room = threading.Semaphore(depth)  # taken to make an item, given back when used
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._make, name="circuitbase-ahead", daemon=True)

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._ready()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _make(self) -> None:
        items = iter(self._items)
        try:
            while self._wait_for_room():
                try:
                    item = next(items)
                except StopIteration:
                    self._queue.put((_DONE, None))
                    return
                self._queue.put((_ITEM, item))
        except BaseException as err:  # raised again in the caller's thread
            self._queue.put((_FAILED, err))

    def _wait_for_room(self) -> bool:
        """Wait until an item may be made; False if the caller has stopped listening."""
        while not self._stop.is_set():
            if self._room.acquire(timeout=_POLL_SECONDS):
                return True
        return False

    def _ready(self) -> Iterator[T]:
        while True:
            kind, value = self._queue.get()
            self._room.release()  # the caller holds this one: the helper may make the next
            if kind == _DONE:
                return
            if kind == _FAILED:
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]  # an _ITEM entry holds a T
