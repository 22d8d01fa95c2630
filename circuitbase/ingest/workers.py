"""Reading an ingest's files in worker processes, on every CPU.

Planning is mostly Python work per record that needs no other record: decoding a line,
checking its values, packing its lists, deriving its evidence index, encoding its row
(`scratch.record_rows`). A process per CPU does that for a task of files (about
`TASK_BYTES` of input) at a time while this one adds the finished rows to the plan, so what only the plan can check (a key given twice
with other values, ends that exist, the store) is checked as before, in one place.

The result is the serial one, row for row: each file's rows are added in the order of
the files, and an error found in a worker is the one a serial read finds (the rows before
it are added, then the error is reported with its file, as `Plan.add_files` does).

A worker writes a task's rows to one file in a private temporary folder (pickled, in
chunks of `scratch.CHUNK`: rows of plain values and the component sets the reader made,
written and read only by this ingest), so memory holds a chunk, not a file's rows; at
most `AHEAD` tasks per worker are read ahead of the plan.

Workers are forked: a copy of this process, with the reader and every module already in
it. A fresh interpreter (`spawn`, `forkserver`) would import the caller's main module
again, running a library user's script a second time where it has no `__main__` guard.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import RecordError
from ..settings import ingest_workers
from ..store.base import Progress
from .scratch import Record, Rows, record_rows, records_in

Reader = Callable[[Path], Iterable[Record]]

TASK_BYTES = 1 << 20  # input (unpacked) a worker reads at a time, at least one file
# Input below this many bytes (unpacked) is read in this process: it makes fewer than two
# tasks to share (forking the workers takes a few milliseconds; planning 1 MB of a
# feature export, a fifth of a second)
PARALLEL_BYTES = 2 * TASK_BYTES
AHEAD = 2  # tasks read ahead of the plan, per worker
# The reader of each ingest reading in workers now, by a number of its own; the pool's
# processes are forked after it is set (all of them start with its first files).
_READERS: dict[int, Reader] = {}
_TOKENS = itertools.count()


def worker_count(paths: Sequence[Path]) -> int:
    """How many processes should read `paths`: `CIRCUITBASE_INGEST_WORKERS` if set, else
    one per usable CPU when there is more than one file and enough input to pay for
    starting them; 1 (this process) where processes cannot be forked."""
    chosen = ingest_workers()
    if chosen is None:
        if len(paths) < 2 or sum(map(_unpacked_bytes, paths)) < PARALLEL_BYTES:
            return 1
        chosen = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(chosen, len(paths))


def _unpacked_bytes(path: Path) -> int:
    """Bytes of input a file holds, unpacked: a gzip file says how large it unpacks to in
    its last four bytes (modulo 4 GiB; an estimate, only for sharing the work)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.suffix == ".gz" and size >= 18:  # a gzip header and trailer
            with open(path, "rb") as handle:
                handle.seek(-4, os.SEEK_END)
                size = max(size, int.from_bytes(handle.read(4), "little"))
    except OSError:
        return 0  # the read names the file
    return size


def read_in_workers(
    paths: Sequence[Path], reader: Reader, workers: int, tick: Progress | None
) -> Iterator[tuple[str, Iterator[Rows]]]:
    """(file, its rows) for each of `paths` in order, read by `workers` processes (a task
    of consecutive files at a time: `_tasks`); `tick` hears each file's record count as
    its rows are handed over."""
    context = multiprocessing.get_context("fork")
    token = next(_TOKENS)
    _READERS[token] = reader  # forked workers find it here: a closure cannot be pickled
    with tempfile.TemporaryDirectory(prefix="circuitbase-rows-") as folder:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interrupts)
        pending: deque[tuple[list[Path], Future]] = deque()
        tasks = _tasks(paths)
        try:
            while True:
                while len(pending) < AHEAD * workers and (task := next(tasks, None)):
                    pending.append((task, pool.submit(_read, token, task, folder)))
                if not pending:
                    return
                task, future = pending.popleft()
                try:
                    out, parts = future.result()
                except BrokenProcessPool as err:
                    raise _stopped(task, pending, err) from None
                for path, (start, end, count, error) in zip(task, parts, strict=True):
                    if tick is not None and count:
                        tick(count)
                    yield str(path), _replay(out, start, end, error)
                Path(out).unlink()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            del _READERS[token]


def _stopped(
    task: list[Path], pending: Iterable[tuple[list[Path], Future]], err: Exception
) -> RecordError:
    """A worker died (killed for memory, say): every task then in flight fails, so the
    error names the file the plan waited for and those read beside it."""
    beside = [str(path) for other, _ in pending for path in other] + [str(p) for p in task[1:]]
    listed = ", ".join(beside[:5]) + (f" and {len(beside) - 5} more" if len(beside) > 5 else "")
    where = f" or one read beside it ({listed})" if beside else ""
    return RecordError(f"the process reading it{where} stopped ({err})", file=str(task[0]))


def _ignore_interrupts() -> None:
    """Ctrl-C is the command's to handle (one line, exit 130): a worker it reached too
    would print its own traceback. The command's exit stops the pool (after the tasks
    running, a second or so of work each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tasks(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """Consecutive files, as many as make `TASK_BYTES` (a process per small file spent
    more on handing it over than on reading it)."""
    task: list[Path] = []
    size = 0
    for path in paths:
        task.append(path)
        size += _unpacked_bytes(path)
        if size >= TASK_BYTES:
            yield task
            task, size = [], 0
    if task:
        yield task


Part = tuple[int, int, int, "RecordError | None"]  # where a file's rows lie, records, error


def _read(token: int, paths: list[Path], folder: str) -> tuple[str, list[Part]]:
    """In a worker: the rows of each of `paths`, read by the reader registered as
    `token`, into one file of `folder`; that file, and for each path (where its rows
    start and end in it, how many records it held, the error that ended its read)."""
    reader = _READERS[token]
    handle, out = tempfile.mkstemp(dir=folder, suffix=".rows")
    parts: list[Part] = []
    with os.fdopen(handle, "wb") as stream:
        for path in paths:
            start, count, error = stream.tell(), [0], None
            try:
                for rows in record_rows(_counting(reader(path), count), str(path)):
                    pickle.dump(rows, stream, pickle.HIGHEST_PROTOCOL)
            except RecordError as err:
                error = err
            parts.append((start, stream.tell(), count[0], error))
    return out, parts


def _counting(records: Iterable[Record], count: list[int]) -> Iterator[Record]:
    for record in records:
        count[0] += records_in(record)
        yield record


def _replay(out: str, start: int, end: int, error: RecordError | None) -> Iterator[Rows]:
    """The rows a worker wrote of one file, a chunk at a time, then the error it stopped
    at."""
    with open(out, "rb") as stream:
        stream.seek(start)
        while stream.tell() < end:
            yield pickle.load(stream)  # written by this ingest's own worker
    if error is not None:
        raise error
