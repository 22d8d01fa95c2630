"""Per-component embeddings (e.g. a neuron's activations over a shared token dataset),
stored as the `embedding` vector property and indexed by the backend's vector index,
for `similarity compute --metric vectors`.

Two inputs: JSON `{"vectors": {"L3N5": [...], "gpt2-small/L3/N6": [...]}}` or a CSV
whose first column is the component and the rest its vector. Components may be
given in the short forms of the model (`L5H1`, `L3N1234`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from ..schema.records import RecordError
from ..schema.uids import UidError, parse_component
from .files import check_size, read_json

Vectors = dict[str, list[float]]


def _vector(values: object, where: str, file: str) -> list[float]:
    if not isinstance(values, list) or not values:
        raise RecordError("a vector is a non-empty list of numbers", file=file, record=where)
    try:
        vector = [float(v) for v in values]
    except (TypeError, ValueError):
        raise RecordError("a vector holds numbers only", file=file, record=where) from None
    if not all(math.isfinite(v) for v in vector):
        raise RecordError(
            "a vector holds finite numbers only (no NaN or infinity)", file=file, record=where
        )
    return vector


def read_vectors(path: Path, model: str) -> Vectors:
    """A JSON or CSV file's vectors, by component uid."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = read_json(path)
        items = data.get("vectors") if isinstance(data, dict) else None
        if not isinstance(items, dict):
            raise RecordError('expected {"vectors": {component: [numbers]}}', file=str(path))
        raw = [(str(key), value, f"component {key}") for key, value in items.items()]
    else:
        check_size(path)
        with open(path, newline="", encoding="utf-8") as handle:
            raw = [
                (row[0], row[1:], f"line {n}") for n, row in enumerate(csv.reader(handle), 1) if row
            ]
    return _checked(raw, model, str(path))


def vectors_from_arrays(
    given: object, model: str, components: Sequence[str] | None = None
) -> Vectors:
    """A notebook's vectors: a mapping of components to arrays (numpy, torch or lists),
    or one matrix (rows: vectors) with `components` naming its rows in order (an SAE's
    decoder `W_dec` with `[f"{dictionary}/{i}" ...]`). Checked as a file's are: the
    error names the component or row."""
    if components is not None:
        rows = _as_list(given)
        if not isinstance(rows, list) or len(rows) != len(components):
            raise RecordError(
                f"a matrix of vectors needs one row per component ({len(components)} named, "
                f"{len(rows) if isinstance(rows, list) else 'no'} rows)",
                file="array",
            )
        raw = [(str(name), row, f"row {n}") for n, (name, row) in enumerate(zip(components, rows))]
    elif isinstance(given, dict):
        raw = [(str(key), _as_list(value), f"component {key}") for key, value in given.items()]
    else:
        raise RecordError(
            "vectors go in as {component: array} or as a matrix with components=", file="array"
        )
    return _checked(raw, model, "array")


def _as_list(value: object) -> object:
    """numpy and torch arrays as nested lists (both have `tolist`), without importing
    either."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def _checked(raw: list[tuple[str, object, str]], model: str, file: str) -> Vectors:
    vectors: Vectors = {}
    for key, values, where in raw:
        try:
            uid = str(parse_component(key, model=model))
        except UidError as err:
            raise RecordError(str(err), file=file, record=where, field="component") from None
        vectors[uid] = _vector(values, where, file)
    dimensions = {len(v) for v in vectors.values()}
    if len(dimensions) > 1:
        raise RecordError(f"vectors of different lengths {sorted(dimensions)}", file=file)
    if not vectors:
        raise RecordError("no vectors", file=file)
    return vectors


def read_vector_files(paths: Sequence[Path], model: str) -> Vectors:
    """Every file's vectors, checked to share one dimension."""
    vectors: Vectors = {}
    for path in paths:
        vectors.update(read_vectors(path, model))
    if len({len(v) for v in vectors.values()}) > 1:
        raise RecordError("the files' vectors have different lengths")
    return vectors
