"""FalkorDB over its RESP protocol (not its experimental Bolt): the embedded default store,
or a FalkorDB server a team shares (`falkor://host:port`, `falkors://` for TLS).

A remote server's password comes from FALKORDB_PASSWORD (and a user name, where the
server has ACL users, from FALKORDB_USERNAME), never from the URI; `falkors://`
verifies the server's certificate against the system's CAs, or the CA file named
by FALKORDB_TLS_CA_FILE for a private CA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import QueryTimeout, ReadOnlyViolation, StoreError
from ..schema.graph import NodeLabel
from ..settings import Credentials, query_memory_bytes
from .clients import load_falkordb
from .driver import (
    VECTOR_PROPERTY,
    Driver,
    LoadNode,
    LoadRel,
    Progress,
    Row,
    WriteCounts,
    capped,
    key_constraints,
    search_fields,
)
from .falkor_server import EmbeddedServer

if TYPE_CHECKING:
    import falkordb
    import redis
else:
    falkordb, redis = load_falkordb()  # see clients: without packages they would load unused

GRAPH_NAME = "circuitbase"
REMOTE_SCHEMES = ("falkor://", "falkors://")
DEFAULT_PORT = 6379

_COUNTERS = {
    "nodes_created": "nodes_created",
    "nodes_deleted": "nodes_deleted",
    "relationships_created": "relationships_created",
    "relationships_deleted": "relationships_deleted",
    "properties_set": "properties_set",
    "labels_added": "labels_added",
}


def plain(value: Any) -> Any:
    """Turn FalkorDB's node, edge and path objects into plain dicts and lists."""
    if isinstance(value, falkordb.Node):
        return {"_labels": sorted(value.labels or []), **value.properties}
    if isinstance(value, falkordb.Edge):
        return {"_type": value.relation, **value.properties}
    if isinstance(value, falkordb.Path):
        return {
            "nodes": [plain(n) for n in value.nodes()],
            "edges": [plain(e) for e in value.edges()],
        }
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def connect_remote(uri: str, credentials: Credentials) -> falkordb.FalkorDB:
    """A client for the FalkorDB server `uri` names, connected and authenticated."""
    parts = urlsplit(uri)
    if not uri.startswith(REMOTE_SCHEMES) or not parts.hostname:
        raise StoreError("not a FalkorDB server URI; use falkor://HOST:PORT or falkors://HOST:PORT")
    if parts.username is not None or parts.password is not None:
        raise StoreError(
            f"credentials in a {parts.scheme}:// URI are not accepted; set "
            "FALKORDB_PASSWORD (and FALKORDB_USERNAME) instead"
        )
    if parts.path not in ("", "/"):
        raise StoreError(f"a {parts.scheme}:// URI names a server (HOST:PORT), not a path")
    tls = parts.scheme == "falkors"
    try:
        client = falkordb.FalkorDB(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORT,
            username=credentials.username,
            password=credentials.password,
            socket_connect_timeout=10,
            ssl=tls,
            ssl_check_hostname=tls,
            ssl_ca_certs=credentials.ca_file if tls else None,
        )
        client.connection.ping()
    except (redis.exceptions.RedisError, OSError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        raise StoreError(f"could not connect to FalkorDB at {uri}: {message}") from None
    return client


def _text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


class FalkorDriver(Driver):
    backend = "falkordb"

    def __init__(
        self, target: Path | str, graph: str = GRAPH_NAME, credentials: Credentials | None = None
    ) -> None:
        """`target` is a data directory (the embedded server, started if needed) or a
        falkor:// / falkors:// URI of a running server, which `credentials` open."""
        self.server: EmbeddedServer | None = None
        if str(target).startswith(REMOTE_SCHEMES):
            self.location = str(target)
            client = connect_remote(self.location, credentials or Credentials())
        else:
            self.server = EmbeddedServer(Path(target))
            self.location = str(self.server.data_dir)
            client = self.server.connect()
        self.client = client
        self.graph = client.select_graph(graph)
        try:
            self.graph.query("RETURN 0")  # creates the graph's key; read-only queries need it
        except redis.exceptions.RedisError as err:
            raise StoreError(
                f"FalkorDB at {self.location} refused the first query: {err}"
            ) from None
        self._dirty = False

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
        limit = None if timeout is None else max(1, int(timeout * 1000))
        try:
            if untrusted and "Load CSV" in str(self.graph.explain(cypher, dict(params or {}))):
                # read-only means the graph only: LOAD CSV reads the server's files
                raise ReadOnlyViolation(
                    "LOAD CSV reads files, not the graph; queries here read only the graph: refused"
                )
            result = self.graph.ro_query(cypher, dict(params or {}), timeout=limit)
        except (redis.exceptions.ConnectionError, OSError) as err:
            raise self._gone(err) from None
        except redis.exceptions.ResponseError as err:
            if "read-only" in str(err):
                raise ReadOnlyViolation(
                    f"this query writes, and was sent as read-only: {err}"
                ) from err
            if "timed out" in str(err):
                raise QueryTimeout.after(timeout) from None
            if "mem consumption exceeded" in str(err):
                raise QueryTimeout(
                    "the query needed more memory than one query may use "
                    f"({query_memory_bytes() // 2**20} MiB) and was stopped"
                ) from None
            raise StoreError(f"FalkorDB refused the query: {err}") from err
        except redis.exceptions.RedisError as err:
            raise self._gone(err) from None
        columns = [name for _, name in result.header]
        rows = (dict(zip(columns, (plain(v) for v in row))) for row in result.result_set)
        if max_rows is None and max_bytes is None:
            return list(rows)
        return capped(rows, max_rows, max_bytes)

    def write(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteCounts:
        return self._write_prepared(self._prepare_write(cypher, dict(params or {})))

    def _prepare_write(self, cypher: str, params: dict[str, Any]) -> str:
        """The query as FalkorDB receives it, its parameters written out in front
        (`CYPHER name=value ... MATCH ...`, by the client's own encoder): for a batch of
        rows this text is most of what the client does, so the writer has it made in
        the thread that prepares the next batch."""
        encode = falkordb.helpers.stringify_param_value
        header = "".join(f"`{name}`={encode(value)} " for name, value in params.items())
        return f"CYPHER {header}{cypher}" if header else cypher

    def _write_prepared(self, prepared: Any) -> WriteCounts:
        try:
            self._dirty = True
            result = self.graph.query(prepared)
        except redis.exceptions.ResponseError as err:
            raise StoreError(f"FalkorDB refused the query: {err}") from err
        except (redis.exceptions.RedisError, OSError) as err:
            raise self._gone(err) from None
        matched = (
            int(result.result_set[0][0])
            if result.header and result.header[0][1] == "matched" and result.result_set
            else 0
        )
        return WriteCounts(
            **{ours: int(getattr(result, theirs) or 0) for ours, theirs in _COUNTERS.items()},
            matched=matched,
        )

    def _gone(self, err: BaseException) -> StoreError:
        cause = str(err).strip() or type(err).__name__  # a reset connection says nothing
        if self.server is not None and not self.server.running():
            cause += f"; the server is gone: {self.server.cause_of_exit()}"
        return StoreError(
            f"lost the FalkorDB server of {self.location} ({cause}); run the "
            "command again: a write that was cut off is finished by running it again"
        )

    def bulk_unavailable(self) -> str | None:
        if self.server is None:
            return (
                f"{self.location} is a shared server: the bulk path fills only the embedded store"
            )
        return None

    def bulk_load(
        self,
        nodes: Iterable[LoadNode],
        rels: Iterable[LoadRel],
        *,
        counts: tuple[int, int],
        progress: Progress | None = None,
    ) -> WriteCounts:
        """Through `GRAPH.BULK` (`falkor_bulk`): the empty graph is dropped (with its
        indexes, made again afterwards: loading into indexes is slower) and made anew by
        the first call."""
        from .falkor_bulk import calls

        if (reason := self.bulk_unavailable()) is not None:
            raise StoreError(reason)
        self._dirty = True
        total = WriteCounts()
        try:
            self.graph.delete()
            for index, (tokens, node_count, edge_count, node_tokens) in enumerate(
                calls(nodes, rels)
            ):
                begin = ["BEGIN"] if index == 0 else []
                reply = self.client.connection.execute_command(
                    "GRAPH.BULK",
                    self.graph.name,
                    *begin,
                    node_count,
                    edge_count,
                    node_tokens,
                    len(tokens) - node_tokens,
                    *tokens,
                )
                made = [int(part.split()[0]) for part in _text(reply).split(",")]
                total += WriteCounts(nodes_created=made[0], relationships_created=made[1])
                if progress:
                    progress(node_count + edge_count)
        except redis.exceptions.ResponseError as err:
            raise StoreError(f"FalkorDB refused the bulk load: {err}") from err
        except (redis.exceptions.RedisError, OSError) as err:
            raise self._gone(err) from None
        finally:
            with contextlib.suppress(redis.exceptions.RedisError, OSError):
                self.graph.query("RETURN 0")  # the key exists however the load ended
        if (total.nodes_created, total.relationships_created) != counts:
            raise StoreError(
                f"the bulk load created {total.nodes_created} nodes and "
                f"{total.relationships_created} relationships of {counts[0]} and {counts[1]}"
            )
        return total

    def ensure_schema(self) -> None:
        """Index every merge key.

        No unique constraints here: FalkorDB 4.16's unique-constraint check crashes
        the server on some strings (seen with a value that starts with a space), so
        uniqueness rests on every write being a MERGE on the indexed key.
        """
        indexed = {
            (row["label"], prop)
            for row in self.read("CALL db.indexes()")
            for prop in row["properties"]
        }
        for label, prop in key_constraints():
            if (label, prop) not in indexed:
                try:
                    self.write(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})")
                except StoreError as err:  # another process made it since we looked
                    if "already indexed" not in str(err):
                        raise
        fulltext = {
            row["label"]
            for row in self.read("CALL db.indexes() YIELD label, types RETURN label, types")
            if any("FULLTEXT" in str(t).upper() for t in (row["types"] or {}).values())
        }
        for label, props in search_fields().items():
            if label.value not in fulltext:
                try:
                    # no stop words: " the" is a token people look for
                    self.write(
                        f"CALL db.idx.fulltext.createNodeIndex({{label: '{label.value}', "
                        "stopwords: []}, " + ", ".join(f"'{p}'" for p in props) + ")"
                    )
                except StoreError as err:
                    if "already" not in str(err):
                        raise
        self.persist()

    def fulltext(self, words: list[str], labels: Sequence[NodeLabel], limit: int) -> list[Row]:
        query = " ".join(f"{w}*" if len(w) > 1 else w for w in words)
        rows = []
        for label in labels:
            fields = ", ".join(f"node.{p}" for p in search_fields()[label])
            try:
                rows += self.read(
                    "CALL db.idx.fulltext.queryNodes($label, $query) YIELD node, score "
                    f"RETURN $label AS label, coalesce(node.uid, node.name) AS key, "
                    f"[{fields}] AS fields, score LIMIT $limit",
                    {"label": label.value, "query": query, "limit": limit},
                )
            except StoreError as err:
                if "no such index" not in str(err).lower() and "not exist" not in str(err).lower():
                    raise
        return rows

    def set_vectors(
        self, label: NodeLabel, rows: Sequence[Row], progress: Progress | None = None
    ) -> WriteCounts:
        return self.write_rows(
            f"UNWIND $rows AS row MATCH (n:{NodeLabel(label).value} {{uid: row.uid}}) "
            f"SET n.{VECTOR_PROPERTY} = vecf32(row.vector)",
            rows,
            progress=progress,
        )

    def vector_index_dimension(self, label: NodeLabel) -> int | None:
        rows = self.read(
            "CALL db.indexes() YIELD label, types, options "
            "WHERE label = $label RETURN types, options",
            {"label": NodeLabel(label).value},
        )
        for row in rows:
            if "VECTOR" in row["types"].get(VECTOR_PROPERTY, []):
                return int(row["options"][VECTOR_PROPERTY]["dimension"])
        return None

    def ensure_vector_index(self, label: NodeLabel, dimension: int) -> None:
        label = NodeLabel(label)
        if self.check_vector_dimension(label, dimension):
            return
        self.write(
            f"CREATE VECTOR INDEX FOR (n:{label.value}) ON (n.{VECTOR_PROPERTY}) "
            f"OPTIONS {{dimension: {int(dimension)}, similarityFunction: 'cosine'}}"
        )

    def vector_query(self, label: NodeLabel, k: int) -> str:
        return (
            f"UNWIND $rows AS row MATCH (a:{label.value} {{uid: row.uid}}) "
            f"CALL db.idx.vector.queryNodes('{label.value}', '{VECTOR_PROPERTY}', {k}, "
            f"a.{VECTOR_PROPERTY}) YIELD node, score "
            "WITH a, node, 1.0 - score AS cosine"
        )  # FalkorDB scores cosine distance

    def persist(self) -> None:
        """Snapshot to disk, so that what a finished write reported survives a kill. A
        shared server keeps to its own persistence settings: a SAVE per write there would
        block every other user."""
        if self._dirty and self.server is not None:
            try:
                self.client.connection.save()
            except redis.exceptions.ResponseError as err:  # e.g. the disk is full
                raise StoreError(
                    f"FalkorDB could not save {self.location} to disk: "
                    f"{self.server.cause_of_exit() or err} (see "
                    f"{self.server.log_file}); free space and run the command "
                    "again"
                ) from None
            except (redis.exceptions.ConnectionError, OSError) as err:
                raise self._gone(err) from None
        self._dirty = False

    def clear(self) -> None:
        """Drop the graph and make it again with its indexes: a DETACH DELETE of a large
        graph is slow itself and left the next writes at half speed (benchmarks/)."""
        had_indexes = bool(self.read("CALL db.indexes()"))
        self._dirty = True
        self.graph.delete()
        self.graph.query("RETURN 0")
        if had_indexes:
            self.ensure_schema()
        self.persist()

    def close(self, *, interrupted: bool = False) -> None:
        """Save what was written and let go; after Ctrl-C the embedded server is stopped
        too (when no other command uses it), which ends a query it is still running."""
        try:
            self.persist()
        finally:  # a save that failed (a full disk, a killed server) still lets go
            if self.server is not None:
                self.server.release(stop=interrupted)
            else:
                self.client.connection.close()
