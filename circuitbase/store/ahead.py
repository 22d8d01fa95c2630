"""Made ahead: an iterator's next item computed in a helper thread while the caller uses
the one before.

A batched write alternates two kinds of work: making a batch ready (reading its rows
back from the plan, encoding its parameters) is Python on this process's core, and
running it is the server's, while this process waits on a socket. Done one after the
other, each waits for the other; with the next batch made in a thread while this one
runs (a thread waiting on a socket lets go of Python's lock), the write takes about as
long as the longer of the two instead of their sum.

At most `depth` items wait made, one more is being made, so memory stays bounded by a
few batches however many there are. What the helper raises is raised in the caller, at
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
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
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
        try:
            for item in self._items:
                if not self._hand_over((_ITEM, item)):
                    return
        except BaseException as err:  # raised again in the caller's thread
            self._hand_over((_FAILED, err))
        else:
            self._hand_over((_DONE, None))

    def _hand_over(self, entry: tuple[int, object]) -> bool:
        """Queue `entry` once there is room; False if the caller has stopped listening."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _ready(self) -> Iterator[T]:
        while True:
            kind, value = self._queue.get()
            if kind == _DONE:
                return
            if kind == _FAILED:
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]  # an _ITEM entry holds a T
