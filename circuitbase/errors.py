"""The one family of errors circuitbase expects, explains in one line, and the CLI reports.

Each subclass says where things went wrong: a record of an input file (`RecordError`,
with file, record and field; `IngestErrors`, every file an ingest refused), a component
uid (`UidError`), the store (`StoreError`), a query template (`TemplateError`), a name
the store does not hold (`UnknownName`), an environment variable (`SettingError`).
Anything else reaching the user is a bug.

They live here, together, so that any room can raise one without importing another
room (the modules they are about import them from here, and so do their callers).
"""

from __future__ import annotations

from collections.abc import Sequence


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

    def __reduce__(self) -> tuple:
        """Pickled whole, so that an error found by an ingest's worker process keeps its
        file, record and field (pickle would otherwise rebuild it from its message)."""
        return (_record_error, (self.reason, self.file, self.record, self.field))

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


def _record_error(
    reason: str, file: str | None, record: str | int | None, field: str | None
) -> RecordError:
    return RecordError(reason, file=file, record=record, field=field)


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


class IngestErrors(RecordError):
    """One or more files could not be read; nothing was written."""

    SHOWN = 20

    def __init__(self, errors: Sequence[RecordError]) -> None:
        self.errors = list(errors)
        if len(self.errors) == 1:  # the common case stays one line
            super().__init__(f"{self.errors[0].describe()} (nothing written)")
            return
        lines = "\n".join(f"  {e.describe()}" for e in self.errors[: self.SHOWN])
        more = len(self.errors) - self.SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.errors)} file(s) rejected, nothing written:\n{lines}{tail}")


class UnknownName(CircuitbaseError, LookupError):
    """A name the store does not hold, with the nearest ones it does."""


class SettingError(CircuitbaseError):
    """An environment variable circuitbase reads holds a value it cannot use."""
