"""The one family of errors circuitbase expects, explains in one line, and the CLI reports.

Each subclass says where things went wrong: a record of an input file (`RecordError`,
with file, record and field), a component uid (`UidError`), the store (`StoreError`),
a query template (`TemplateError`). Anything else reaching the user is a bug.
"""


class CircuitbaseError(Exception):
    """Base of every expected error; its message is the line the user sees."""
