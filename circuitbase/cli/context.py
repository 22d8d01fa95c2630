"""The store a command works on, opened on first use and closed when the command ends."""

from __future__ import annotations

from ..store import GraphStore, open_store


class Context:
    def __init__(self, uri: str | None) -> None:
        self.uri = uri
        self._store: GraphStore | None = None

    @property
    def store(self) -> GraphStore:
        if self._store is None:
            self._store = open_store(self.uri)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
