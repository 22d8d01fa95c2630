"""The production store: Neo4j 5 (or Aura) through the official driver.

Credentials come from the environment only (NEO4J_USERNAME, NEO4J_PASSWORD,
optionally NEO4J_DATABASE), never from the command line, where they would end
up in shell history and process lists. TLS is chosen by the URI scheme
(`neo4j+s://`, `bolt+s://`), as the driver does.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from ..errors import QueryTimeout, ReadOnlyViolation, StoreError
from ..schema.graph import NodeLabel
from ..settings import Credentials
from .clients import load_neo4j
from .cypher import TAGGED_TRANSACTIONS, TERMINATE_TRANSACTIONS
from .driver import (
    VECTOR_PROPERTY,
    Driver,
    Progress,
    Row,
    WriteCounts,
    capped,
    key_constraints,
    search_fields,
)
from .uri import NEO4J_SCHEMES

TX_TAG = "circuitbase"  # transaction metadata key: which transaction Ctrl-C terminates


def plain(value: Any) -> Any:
    """Turn the driver's graph types into the same plain dicts the FalkorDB store returns."""
    from neo4j import graph

    if isinstance(value, graph.Node):
        return {"_labels": sorted(value.labels), **dict(value)}
    if isinstance(value, graph.Relationship):
        return {"_type": value.type, **dict(value)}
    if isinstance(value, graph.Path):
        return {
            "nodes": [plain(n) for n in value.nodes],
            "edges": [plain(r) for r in value.relationships],
        }
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def one_line(err: BaseException) -> str:
    """The driver's message on one line (some span several)."""
    return " ".join(str(err).split()) or type(err).__name__


def check_uri(uri: str) -> None:
    """Refuse credentials in the URI: they belong in NEO4J_USERNAME / NEO4J_PASSWORD, not in
    shell history, process lists and error messages. The error does not repeat the URI."""
    parts = urlsplit(uri)
    if not uri.startswith(NEO4J_SCHEMES):
        raise StoreError(f"not a Neo4j URI; use one of {', '.join(NEO4J_SCHEMES)}")
    if parts.username is not None or parts.password is not None:
        raise StoreError(
            f"credentials in a {parts.scheme}:// URI are not accepted; set "
            "NEO4J_USERNAME and NEO4J_PASSWORD instead"
        )


def _counts(summary: Any) -> WriteCounts:
    counters = summary.counters
    return WriteCounts(
        counters.nodes_created,
        counters.nodes_deleted,
        counters.relationships_created,
        counters.relationships_deleted,
        counters.properties_set,
        counters.labels_added,
    )


def _out_of_memory(err: Exception) -> QueryTimeout:
    return QueryTimeout(
        "the query needed more memory than the server lets one transaction "
        f"use and was stopped: {one_line(err)}"
    )


@contextmanager
def _not_retried_out_of_memory() -> Iterator[None]:
    """Inside a transaction function: the driver retries a transient error for up to 30 s,
    and running out of a transaction's memory is one, but the same query runs out again;
    it ends the command at once instead."""
    import neo4j.exceptions

    try:
        yield
    except neo4j.exceptions.TransientError as err:
        if "MemoryPoolOutOfMemoryError" in (err.code or ""):
            raise _out_of_memory(err) from None
        raise


class Neo4jDriver(Driver):
    backend = "neo4j"

    def __init__(self, uri: str, credentials: Credentials | None = None) -> None:
        neo4j = load_neo4j()  # without data-frame packages it would load and never use here

        check_uri(uri)
        credentials = credentials or Credentials()
        self.location = uri
        self.database = credentials.database
        auth = (
            (credentials.username or "neo4j", credentials.password)
            if credentials.password is not None
            else None
        )
        try:
            # Notices would be logged on stderr for every such query: deprecations (the
            # batched delete keeps the `CALL { WITH n ... }` form that all of Neo4j 5
            # reads) and "unrecognized" labels or types, which a store that holds no
            # similarity edge or summary yet is expected to lack.
            self.driver = neo4j.GraphDatabase.driver(
                uri,
                auth=auth,
                notifications_disabled_classifications=[
                    neo4j.NotificationDisabledClassification.DEPRECATION,
                    neo4j.NotificationDisabledClassification.UNRECOGNIZED,
                ],
            )
            self.driver.verify_connectivity()
        except Exception as err:  # the driver raises several unrelated types here
            raise StoreError(f"could not connect to Neo4j at {uri}: {one_line(err)}") from None

    @contextmanager
    def _errors(self, timeout: float | None = None) -> Iterator[None]:
        """Driver errors (server gone, session expired, authentication, a refused query)
        become one StoreError line naming the URI; the password is never part of it."""
        import neo4j.exceptions

        try:
            yield
        except neo4j.exceptions.Neo4jError as err:
            code = err.code or ""
            if "TransactionTimedOut" in code or ("Transaction.Terminated" in code and timeout):
                raise QueryTimeout.after(timeout) from None
            if "Terminated" in code:  # a write has no time limit: someone else ended it
                raise StoreError(
                    f"Neo4j at {self.location} terminated this command's "
                    "transaction (TERMINATE TRANSACTIONS, or the server stopping); "
                    "its last batch was not written: run the command again to "
                    "finish"
                ) from None
            if "MemoryPoolOutOfMemoryError" in code:
                raise _out_of_memory(err) from None
            if "AccessMode" in code:  # Neo.ClientError.Statement.AccessMode
                raise ReadOnlyViolation(
                    f"this query writes, and was sent as read-only: {one_line(err)}"
                ) from None
            if isinstance(err, neo4j.exceptions.ClientError):
                raise StoreError(
                    f"Neo4j at {self.location} refused the query: {one_line(err)}"
                ) from None
            raise StoreError(
                f"Neo4j at {self.location}: {type(err).__name__}: {one_line(err)}"
            ) from None
        except neo4j.exceptions.DriverError as err:
            raise StoreError(
                f"Neo4j at {self.location}: {type(err).__name__}: {one_line(err)}"
            ) from None

    def _session(self, read: bool):
        import neo4j

        mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
        return self.driver.session(database=self.database, default_access_mode=mode)

    def read(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        untrusted: bool = False,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> list[Row]:
        import neo4j

        tag = uuid.uuid4().hex

        @neo4j.unit_of_work(timeout=timeout, metadata={TX_TAG: tag})
        def work(tx: Any) -> list[Row]:
            with _not_retried_out_of_memory():
                if untrusted:
                    _check_plain_read(tx, cypher, params)
                result = tx.run(cypher, dict(params or {}))
                rows = ({k: plain(record[k]) for k in record.keys()} for record in result)
                if max_rows is None and max_bytes is None:
                    return list(rows)
                return capped(rows, max_rows, max_bytes)  # the rest is discarded unread

        with self._interruptible(tag), self._errors(timeout), self._session(read=True) as session:
            return session.execute_read(work)

    def write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        import neo4j

        tag = uuid.uuid4().hex

        @neo4j.unit_of_work(metadata={TX_TAG: tag})
        def work(tx: Any) -> WriteCounts:
            with _not_retried_out_of_memory():
                result = tx.run(cypher, dict(params or {}))
                rows = result.data()
                counts = _counts(result.consume())
            if rows and "matched" in rows[0]:
                counts.matched = int(rows[0]["matched"])
            return counts

        with self._interruptible(tag), self._errors(), self._session(read=False) as session:
            return session.execute_write(work)

    @contextmanager
    def _interruptible(self, tag: str) -> Iterator[None]:
        """Ctrl-C ends the transaction tagged `tag` on the server, then the command.

        The driver answers an interrupted read by waiting for the query's result before it
        lets go of the connection, so a runaway query would hold the command until its
        timeout. Instead, the first Ctrl-C asks the server (on another connection) to
        terminate the transaction; the driver then sees it fail, and KeyboardInterrupt is
        raised. A second Ctrl-C interrupts at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        interrupted = threading.Event()

        def terminate(signum: int, frame: Any) -> None:
            signal.signal(signal.SIGINT, previous)
            interrupted.set()
            threading.Thread(target=self._terminate, args=(tag,), daemon=True).start()

        previous = signal.signal(signal.SIGINT, terminate)
        try:
            yield
        except StoreError:
            if interrupted.is_set():
                raise KeyboardInterrupt from None
            raise
        finally:
            signal.signal(signal.SIGINT, previous)
        if interrupted.is_set():
            raise KeyboardInterrupt

    def _terminate(self, tag: str) -> None:
        try:
            with self.driver.session(database=self.database) as session:  # auto-commit
                ids = session.run(TAGGED_TRANSACTIONS, {"key": TX_TAG, "tag": tag}).value()
                if ids:
                    session.run(TERMINATE_TRANSACTIONS, {"ids": ids}).consume()
        except Exception:  # noqa: BLE001 - it may have ended meanwhile: nothing to stop
            pass

    def _autocommit(self, cypher: str) -> WriteCounts:
        """For `CALL { ... } IN TRANSACTIONS`, which commits as it goes and so cannot run
        inside a managed transaction."""
        with self._errors(), self._session(read=False) as session:
            return _counts(session.run(cypher).consume())

    SEARCH_INDEX = "circuitbase_search"

    def bulk_unavailable(self) -> str | None:
        return (
            "a Neo4j server is filled in bulk only offline: a new database of a stopped "
            "Neo4j, with --neo4j-home DIR"
        )

    def ensure_schema(self) -> None:
        for label, prop in key_constraints():
            name = f"circuitbase_{label.lower()}_{prop}"
            self.write(
                f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
            )
        labels = "|".join(label.value for label in search_fields())
        props = sorted({p for fields in search_fields().values() for p in fields})
        for row in self.read(
            "SHOW FULLTEXT INDEXES YIELD name, labelsOrTypes, properties "
            "WHERE name = $name RETURN labelsOrTypes AS labels, properties AS props",
            {"name": self.SEARCH_INDEX},
        ):
            if (
                sorted(row["labels"]) != sorted(label.value for label in search_fields())
                or sorted(row["props"]) != props
            ):
                self.write(f"DROP INDEX {self.SEARCH_INDEX}")  # made by an older circuitbase
        self.write(
            f"CREATE FULLTEXT INDEX {self.SEARCH_INDEX} IF NOT EXISTS FOR (n:{labels}) "
            f"ON EACH [{', '.join(f'n.{p}' for p in props)}]"
        )

    def fulltext(self, words: list[str], labels: Sequence[NodeLabel], limit: int) -> list[Row]:
        query = " AND ".join(f"{w}*" for w in words)
        rows = self.read(
            f"CALL db.index.fulltext.queryNodes('{self.SEARCH_INDEX}', $query) "
            "YIELD node, score RETURN labels(node) AS labels, "
            "coalesce(node.uid, node.name) AS key, properties(node) AS props, score "
            "LIMIT $limit",
            {"query": query, "limit": limit},
        )
        wanted = {label.value: label for label in labels}
        found = []
        for row in rows:
            label = next((wanted[name] for name in row["labels"] if name in wanted), None)
            if label is not None:
                found.append(
                    {
                        "label": label.value,
                        "key": row["key"],
                        "score": row["score"],
                        "fields": [row["props"].get(p) for p in search_fields()[label]],
                    }
                )
        return found

    def set_vectors(
        self, label: NodeLabel, rows: Sequence[Row], progress: Progress | None = None
    ) -> WriteCounts:
        return self.write_rows(
            f"UNWIND $rows AS row MATCH (n:{NodeLabel(label).value} {{uid: row.uid}}) "
            f"CALL db.create.setNodeVectorProperty(n, '{VECTOR_PROPERTY}', row.vector)",
            rows,
            progress=progress,
        )

    def vector_index_dimension(self, label: NodeLabel) -> int | None:
        rows = self.read(
            "SHOW INDEXES YIELD name, options WHERE name = $name RETURN options",
            {"name": self._vector_index_name(NodeLabel(label))},
        )
        return int(rows[0]["options"]["indexConfig"]["vector.dimensions"]) if rows else None

    @staticmethod
    def _vector_index_name(label: NodeLabel) -> str:
        return f"circuitbase_{label.value.lower()}_vectors"

    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        label = NodeLabel(label)
        self.check_vector_dimension(label, dimension)
        self.write(
            f"CREATE VECTOR INDEX {self._vector_index_name(label)} IF NOT EXISTS "
            f"FOR (n:{label.value}) ON n.{VECTOR_PROPERTY} OPTIONS {{indexConfig: {{"
            f"`vector.dimensions`: {int(dimension)}, "
            "`vector.similarity_function`: 'cosine', "
            # exact scores: quantized vectors (5.23's default) moved a cosine by up to
            # 0.03, so the two backends gave one match two scores
            "`vector.quantization.enabled`: false}}"
        )
        self.write("CALL db.awaitIndexes(300)")

    def vector_query(self, label: NodeLabel, k: int) -> str:
        return (
            f"UNWIND $rows AS row MATCH (a:{label.value} {{uid: row.uid}}) "
            # a vector of zeros has no direction, so no neighbours: Neo4j refuses it as
            # a query (FalkorDB's cosines with it are not numbers, which NEAREST drops)
            f"WHERE any(x IN a.{VECTOR_PROPERTY} WHERE x <> 0) "
            f"CALL db.index.vector.queryNodes('{self._vector_index_name(label)}', {k}, "
            f"a.{VECTOR_PROPERTY}) YIELD node, score "
            "WITH a, node, 2.0 * score - 1.0 AS cosine"
        )  # Neo4j scores (1 + cos) / 2

    def clear(self) -> None:
        """In batches, each its own transaction: one transaction over a large graph runs
        the server out of memory. Relationships go first, so that no batch has to detach
        a node with a hundred thousand of them (a common token) in one go."""
        self._autocommit("MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS")
        self._autocommit("MATCH (n) CALL { WITH n DELETE n } IN TRANSACTIONS OF 10000 ROWS")
        for row in self.read(
            "SHOW INDEXES YIELD name, type WHERE type = 'VECTOR' "
            "AND name STARTS WITH 'circuitbase_' RETURN name"
        ):
            self.write(f"DROP INDEX {row['name']} IF EXISTS")  # as FalkorDB's clear() does

    def close(self, *, interrupted: bool = False) -> None:
        self.driver.close()  # a running transaction was terminated when Ctrl-C came


# The procedures a typed query may call: those that read the graph or its schema. A read
# session still runs many that act on the server (`dbms.killConnection`, `db.checkpoint`,
# `db.stats.collect` then `db.stats.retrieve`, which hands out other sessions' queries,
# `db.resampleOutdatedIndexes`, ...), so procedures are allowed by name, never refused by it.
_READ_PROCEDURES = frozenset(
    name.lower()
    for name in (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.schema.visualization",
        "db.schema.nodeTypeProperties",
        "db.schema.relTypeProperties",
        "db.index.fulltext.queryNodes",
        "db.index.fulltext.queryRelationships",
        "db.index.vector.queryNodes",
        "db.index.vector.queryRelationships",
    )
)
# Plan operators that read beyond the graph: LOAD CSV reads the server's files and fetches
# URLs in the server's name.
_OUTSIDE_OPERATORS = ("LoadCSV",)


def _check_plain_read(tx: Any, cypher: str, params: Mapping[str, Any] | None) -> None:
    """Refuse what read-only access lets through: a read session on Neo4j still runs
    administration commands (`TERMINATE TRANSACTIONS` ends another user's ingest, `SHOW
    USERS`, ...) and server procedures. The query is planned first (EXPLAIN runs
    nothing): only a plain read ('r') whose plan calls no server procedure runs."""
    import neo4j.exceptions

    try:
        summary = tx.run("EXPLAIN " + cypher, dict(params or {})).consume()
    except neo4j.exceptions.ClientError as err:
        if "administration" in (err.message or "").lower() or "EXPLAIN" in (err.message or ""):
            raise ReadOnlyViolation(
                "administration commands (SHOW/TERMINATE TRANSACTIONS, "
                "users, databases) are refused: queries here are read-only "
                "and read only the graph"
            ) from None
        raise
    if summary.query_type != "r":
        raise ReadOnlyViolation(
            f"this query is not a plain read (Neo4j plans it as "
            f"{summary.query_type!r}) and queries here are read-only; refused"
        )
    for operator, details in _operators(summary.plan):
        if operator.startswith(_COMMAND_OPERATORS):
            raise ReadOnlyViolation(
                f"{operator} is an administration command; queries here "
                "are read-only and read only the graph: refused"
            )
        if operator.startswith(_OUTSIDE_OPERATORS):
            raise ReadOnlyViolation(
                "LOAD CSV reads files and URLs, not the graph; queries here read only the "
                "graph: refused"
            )
        if operator == "ProcedureCall":
            procedure = details.split("(")[0].strip()
            if procedure.lower() not in _READ_PROCEDURES:
                raise ReadOnlyViolation(
                    f"this query calls {procedure}, which is not one of the procedures that "
                    "read the graph (db.labels, db.index.fulltext.queryNodes, ...); queries "
                    "here are read-only and read only the graph: refused"
                )


# Plan operators of commands about the server, not the graph (SHOW/TERMINATE TRANSACTIONS
# plan as reads: 'r').
_COMMAND_OPERATORS = (
    "Show",
    "Terminate",
    "Administration",
    "System",
    "Create",
    "Drop",
    "Alter",
    "Grant",
    "Deny",
    "Revoke",
    "Start",
    "Stop",
)


def _operators(plan: Any) -> Iterator[tuple[str, str]]:
    """(operator type without its database, details) of every step of a plan."""
    if not isinstance(plan, dict):
        return
    yield (
        str(plan.get("operatorType", "")).split("@")[0],
        str(plan.get("args", {}).get("Details", "")),
    )
    for child in plan.get("children", []):
        yield from _operators(child)
