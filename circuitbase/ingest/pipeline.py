"""The one way into the store: records (from files, analyses, imports) are planned, which
checks all of them, and only then written, with progress reported per batch.

`ingest` takes records; `ingest_files` reads files first, reporting every bad file at
once; `ingest_vectors` also stores and indexes the vectors. Each writes nothing when
anything is invalid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path

from ..errors import IngestErrors, StoreError
from ..schema.graph import NodeLabel, RelType, primary_label
from ..schema.records import NodeRecord, RecordError
from ..schema.uids import parse_component
from ..store.base import GraphStore, Progress, WriteCounts
from ..store.neo4j_import import OfflineNeo4j
from . import bulk as bulk_path
from .plan import make_plan
from .scratch import (
    ORDINARY,
    NothingStored,
    Plan,
    PlanRules,
    Record,
    Rows,
    StoredGraph,
    record_rows,
    records_in,
)
from .workers import Reader, read_in_workers, worker_count
from .writer import write_plan

ProgressFactory = Callable[[str, "int | None"], Progress]
"""Given a phase ("checking", "writing", ...) and how many items it will count (None when
unknown), returns the callback that counts them: each phase of an ingest that can take a
while is shown as it runs."""
TICK = 1000  # records counted at a time while reading


@dataclass(frozen=True)
class PlanSize:
    """How many distinct nodes and relationships a plan held (the plan itself is gone
    once written)."""

    node_count: int
    rel_count: int


@dataclass
class IngestResult:
    """What was checked (the plan's size) and what the write changed (the counts)."""

    plan: PlanSize
    counts: WriteCounts
    files: int = 0


def expand(
    paths: Iterable[Path], suffixes: tuple[str, ...], names: tuple[str, ...] = ()
) -> list[Path]:
    """Files as given, and the files under any directory given that have one of the
    suffixes or one of the exact names (N2G's graphviz file is called `graph`)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and (p.suffix.lower() in suffixes or p.name in names)
            )
        else:
            found.append(path)
    return found


def plan_files(
    store: StoredGraph,
    paths: Sequence[Path],
    reader: Reader,
    progress: ProgressFactory | None = None,
    rules: PlanRules = ORDINARY,
) -> Plan:
    """Read every file into one plan (a file's records go in as they are read), then check
    the plan; every file that cannot be read is reported."""
    if not paths:
        raise RecordError("no input files")
    plan = Plan()
    try:
        tick = progress("reading and checking", None) if progress else None
        workers = worker_count(paths)
        files = (
            read_in_workers(paths, reader, workers, tick)
            if workers > 1
            else ((str(path), _rows(reader, path, tick)) for path in paths)
        )
        errors = plan.add_files(files)
        if errors:
            raise IngestErrors(errors)
    except BaseException:
        plan.close()
        raise
    return make_plan((), store, plan, rules)


def _rows(reader: Reader, path: Path, tick: Progress | None) -> Iterator[Rows]:
    """`path`'s rows, read as they are added (a reader that fails at once fails here, in
    the plan's hands, which reports every file that fails)."""
    yield from record_rows(_ticking(reader(path), tick), str(path))


def _ticking(records: Iterable[Record], tick: Progress | None) -> Iterable[Record]:
    """`records`, counted into `tick` (a thousand at a time) as they are read."""
    pending = 0
    for record in records:
        yield record
        pending += records_in(record)
        if tick is not None and pending >= TICK:
            tick(pending)
            pending = 0
    if tick is not None and pending:
        tick(pending)


def write(
    store: GraphStore,
    plan: Plan,
    *,
    progress: ProgressFactory | None = None,
    files: int = 0,
    replaces: str | None = None,
    bulk: bool | None = None,
) -> IngestResult:
    """Write a checked plan (and retract what it `replaces`), then close it. `bulk`: load
    it through the backend's bulk loader (`ingest.bulk`; True: or say why not), write it
    with MERGE statements (False), or choose (None: bulk when the plan is large and the
    store empty and local)."""
    with plan:
        embeddings = _embedding_length(store, plan)
        if bulk_path.chosen(store, plan, bulk):
            tick = progress("loading", plan.node_count + plan.rel_count) if progress else None
            counts = bulk_path.load_plan(store, plan, progress=tick)
        else:
            tick = progress("writing", plan.node_count + plan.rel_count) if progress else None
            counts = write_plan(store, plan, progress=tick)
        pairs = plan.similarity_pairs()
        retracted = WriteCounts()
        if replaces is not None:
            pairs |= store.similarity_pairs_of(replaces)
            if progress:
                progress("retracting what the rerun no longer finds", None)
            retracted = _retract_stale(store, plan, replaces)
            counts += retracted
        if pairs:
            tick = progress("summarising similarity", len(pairs)) if progress else None
            store.refresh_similarity_summaries(pairs, progress=tick)
        # explanations came or went: the words' counts `similar` weighs them by change
        words = plan.holds(RelType.EXPLAINED_BY) or retracted.relationships_deleted > 0
        if words:
            if progress:
                progress("counting the words of explanations", None)
            store.refresh_word_counts()
        if embeddings:
            tick = progress("indexing explanation embeddings", None) if progress else None
            store.index_embeddings(tick)
        if replaces is not None or pairs or words or embeddings:
            store.persist()
        return IngestResult(PlanSize(plan.node_count, plan.rel_count), counts, files)


def _embedding_length(store: GraphStore, plan: Plan) -> int | None:
    """How many numbers the plan's explanation embeddings have (None: it has none),
    checked before anything is written: one length in the plan, the stored one's if any
    (one vector index holds them)."""
    lengths = plan.list_lengths(NodeLabel.EMBEDDING, "values")
    if len(lengths) > 1:
        (n, first), (m, other) = sorted(lengths.items())[:2]
        raise RecordError(
            f"an explanation embedding of {m} numbers where one of {first} has {n}: "
            "embeddings of one store share one length",
            file=other,
            field="embedding",
        )
    for length, origin in lengths.items():
        try:
            store.check_vector_dimension(NodeLabel.EMBEDDING, length)
        except StoreError as err:
            raise RecordError(str(err), file=origin, field="embedding") from err
        return length
    return None


def ingest(
    store: GraphStore,
    records: Iterable[Record],
    *,
    progress: ProgressFactory | None = None,
    replaces: str | None = None,
    total: int | None = None,
    bulk: bool | None = None,
) -> IngestResult:
    """Validate all `records`, then write them; nothing is written if any is invalid.

    With `replaces` (an analysis uid), that analysis's facts become exactly those in
    `records`: what an earlier run with other parameters found and this one did not is
    deleted, after the write (a run killed in between is finished by running it again)."""
    if total is None and isinstance(records, Sized):  # `total`: how many, where the caller knows
        total = sum(map(records_in, records))  # the first phase's bar shows its end
    tick = progress("reading and checking", total) if progress else None
    return write(
        store,
        make_plan(_ticking(records, tick), store),
        progress=progress,
        replaces=replaces,
        bulk=bulk,
    )


def _retract_stale(store: GraphStore, plan: Plan, analysis: str) -> WriteCounts:
    stale: dict[tuple[RelType, NodeLabel], list[dict]] = defaultdict(list)
    for row in store.facts_of(analysis):
        type_ = RelType(row["type"])
        if plan.has_fact(
            type_,
            row["start"],
            row["end"],
            (row["props"].get(name) for name in type_.spec.identity),
        ):
            continue
        start = primary_label(row["start_labels"])
        identity = {
            name: row["props"].get(name) for name in type_.spec.identity if name != "analysis"
        }
        stale[(type_, start)].append(
            {"start": row["start"], "end": row["end"], "identity": identity}
        )
    total = WriteCounts()
    for (type_, start), rows in stale.items():
        total += store.delete_facts(analysis, type_, start, rows)
    return total


def ingest_files(
    store: GraphStore,
    paths: Sequence[Path],
    reader: Reader,
    *,
    progress: ProgressFactory | None = None,
    bulk: bool | None = None,
    rules: PlanRules = ORDINARY,
) -> IngestResult:
    """Read every file with `reader`, then ingest all their records at once (`rules`:
    what the user allowed beyond an ordinary ingest: an import, new head roles)."""
    return write(
        store,
        plan_files(store, paths, reader, progress, rules),
        progress=progress,
        files=len(paths),
        bulk=bulk,
    )


def ingest_vectors(
    store: GraphStore,
    vectors: dict[str, list[float]],
    *,
    records: Sequence[Record] = (),
    progress: ProgressFactory | None = None,
) -> IngestResult:
    """Create the components (checked like any record, in one plan with `records`: an
    SAE's Dictionary), then set and index their vectors; `vectors` maps component uids
    to vectors of one dimension (`sources.vectors`)."""
    by_label: dict[NodeLabel, list[dict]] = defaultdict(list)
    for uid, vector in vectors.items():
        by_label[NodeLabel.of(parse_component(uid).kind)].append({"uid": uid, "vector": vector})
    dimension = len(next(iter(vectors.values())))
    for label in by_label:  # before any write: a mismatch would leave vectors no index covers
        store.check_vector_dimension(label, dimension)
    result = ingest(
        store,
        [
            *records,
            *(NodeRecord(label, row["uid"]) for label, rows in by_label.items() for row in rows),
        ],
        progress=progress,
    )
    tick = progress("storing vectors", len(vectors)) if progress else None
    for label, rows in by_label.items():
        store.set_vectors(label, rows, progress=tick)
    for label in by_label:
        if progress:
            progress(f"building the {label.value} vector index", None)
        store.ensure_vector_index(label, dimension)
    store.persist()
    return result


def ingest_offline(
    target: OfflineNeo4j,
    records: Iterable[Record] = (),
    *,
    paths: Sequence[Path] = (),
    reader: Reader | None = None,
    progress: ProgressFactory | None = None,
) -> IngestResult:
    """Check `records` (or the files `paths` read with `reader`) as for a new, empty
    database, then import them into the new database `target` of a stopped Neo4j with
    its offline importer (`ingest.bulk`). Start the DBMS and run `circuitbase init`
    afterwards: it makes the constraints, indexes and similarity summaries."""
    if reader is not None:
        plan = plan_files(NothingStored(), paths, reader, progress)
    else:
        tick = progress("reading and checking", None) if progress else None
        plan = make_plan(_ticking(records, tick), NothingStored())
    with plan:
        total = plan.node_count + plan.rel_count
        tick = progress("importing", total) if progress else None
        counts = bulk_path.load_offline(target, plan, progress=tick)
        return IngestResult(PlanSize(plan.node_count, plan.rel_count), counts, len(paths))
