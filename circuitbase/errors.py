"""The one family of errors circuitbase expects, explains in one line, and the CLI reports.

Each subclass says where things went wrong: a record of an input file (`RecordError`,
with file, record and field), a component uid (`UidError`), the store (`StoreError`),
a query template (`TemplateError`). Anything else reaching the user is a bug.

They live here, together, so that any room can raise one without importing another
room (the modules they are about import them from here, and so do their callers).
"""

from __future__ import annotations


class CircuitbaseError(Exception):
    """Base of every expected error; its message is the line the user sees."""


class RecordError(CircuitbaseError, ValueError):
    """A record that cannot be written; `where` names the file, record and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, message
        super().__init__(self.describe())

    def describe(self) -> str:
        place = [
            f"file {self.file}" if self.file else "",
            f"record {self.record}" if self.record is not None else "",
            f"field {self.field!r}" if self.field else "",
        ]
        where = ", ".join(p for p in place if p)
        return f"{where}: {self.reason}" if where else self.reason

    def located(
        self, *, file: str | None = None, record: str | int | None = None, field: str | None = None
    ) -> RecordError:
        """The same error with the location filled in where it was still unknown."""
        return RecordError(
            self.reason,
            file=self.file or file,
            record=self.record if self.record is not None else record,
            field=self.field or field,
        )


class UidError(CircuitbaseError, ValueError):
    """A uid that does not parse, or that points outside its model."""


class StoreError(CircuitbaseError, RuntimeError):
    """The store could not be reached, started, or refused a query."""


class ReadOnlyViolation(StoreError):
    """A query sent as read-only tried to write."""


class QueryTimeout(StoreError):
    """A query ran past its time limit, or past the server's memory limit for one query."""

    @classmethod
    def after(cls, timeout: float | None) -> QueryTimeout:
        limit = f"its limit of {timeout:g} s" if timeout is not None else "the server's time limit"
        return cls(f"the query ran past {limit} and was stopped (--timeout to allow more)")


class TemplateError(CircuitbaseError, ValueError):
    """A template that does not exist, or parameters that do not fit it."""
