"""The ingest pipeline: records are planned (everything checked) and then written.

Adapters in `circuitbase.sources` and analyses in `circuitbase.analyze` produce the
records; this package is the only way they reach the store.
"""

from .pipeline import IngestResult, ingest, ingest_files, ingest_offline, ingest_vectors
from .plan import make_plan
from .scratch import Plan
from .writer import write_plan

__all__ = [
    "IngestResult",
    "Plan",
    "ingest",
    "ingest_files",
    "ingest_offline",
    "ingest_vectors",
    "make_plan",
    "write_plan",
]
