"""The store a command works on, opened on first use and closed when the command ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import settings

if TYPE_CHECKING:
    from ..api import KnowledgeBase
    from ..store import GraphStore


class ModelNameType(click.ParamType):
    """A model name on the command line: any of its names (gpt2, EleutherAI/pythia-70m)
    becomes the canonical one (gpt2-small, pythia-70m)."""

    name = "model"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from ..schema.aliases import canonical_model

        return canonical_model(value)


MODEL = ModelNameType()
# a question a person asks (`query run`, `similar`) is stopped after this long; the
# library's own reads are not limited
TIMEOUT = click.option(
    "--timeout",
    type=click.FloatRange(min=0.001),
    default=settings.query_timeout,
    show_default="30, or $CIRCUITBASE_QUERY_TIMEOUT",
    help="Stop each query after this many seconds.",
)

# how an ingest writes: the backend's bulk loader or MERGE statements (ingest.bulk)
BULK = click.option(
    "--bulk/--no-bulk",
    default=None,
    help="Load through the backend's bulk loader (only into an empty embedded store; "
    "says why not otherwise), or write batch by batch through the writer. Default: the "
    "bulk loader when the input is large (100,000 nodes and relationships) and the "
    "store empty.",
)


Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def neo4j_import(command: Decorated) -> Decorated:
    """`--neo4j-home DIR` and `--neo4j-database NAME`: import into a new database of a
    stopped Neo4j with its offline importer instead of writing to the store."""
    command = click.option(
        "--neo4j-database",
        default="neo4j",
        show_default=True,
        help="With --neo4j-home: the new database.",
    )(command)
    return click.option(
        "--neo4j-home",
        type=click.Path(file_okay=False, path_type=Path),
        help="Import into a new database of the stopped Neo4j installed at DIR (its offline "
        "importer; $CIRCUITBASE_NEO4J_ADMIN names another neo4j-admin), then start it and "
        "run `circuitbase --db bolt://... init`.",
    )(command)


# The commands that may create a store that does not exist yet; every other one reads a
# store (or changes one), and a path typed wrong is an error, not a new empty store.
CREATING_COMMANDS = frozenset(
    {"init", "demo", "ingest", "import", "model add", "similarity compute", "analyze"}
)


def _command_creates_a_store() -> bool:
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    words = context.command_path.split()[1:]  # without the program's name
    return any(" ".join(words[:n]) in CREATING_COMMANDS for n in (1, 2))


class Context:
    def __init__(self, uri: str | None) -> None:
        self.uri = uri
        self._store: GraphStore | None = None
        self.interrupted = False  # set on Ctrl-C: closing then ends what still runs
        self.failed = False  # set once the command's error is reported

    @property
    def store(self) -> GraphStore:
        if self._store is None:
            from ..store import open_store

            self._store = open_store(self.uri, create=_command_creates_a_store())
        return self._store

    @property
    def kb(self) -> KnowledgeBase:
        """The store as the library's entry object: the commands are thin wrappers over
        its methods."""
        from ..api import KnowledgeBase

        return KnowledgeBase(self.store)

    def close(self) -> None:
        """Save and let go of the store. After a command's error has been reported (or
        Ctrl-C), what closing raises in turn (the same full disk, the same killed server)
        is not reported again: the command's one line has said it."""
        store, self._store = self._store, None
        if store is None:
            return
        try:
            store.close(interrupted=self.interrupted)
        except Exception:
            if not (self.failed or self.interrupted):
                raise
