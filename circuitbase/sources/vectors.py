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


MATRIX_SUFFIXES = (".npy", ".safetensors")


def read_decoder(path: Path, model: str, dictionary: str) -> Vectors:
    """A dictionary's decoder matrix as its features' vectors (row i: feature i of
    `dictionary`, `L8/res-jb` or `MODEL/L8/res-jb`): a `.npy` array (read without
    pickles), or SAELens's `sae_weights.safetensors`, its `W_dec` (the `safetensors`
    package, which TransformerLens installs)."""
    path = Path(path)
    check_size(path)
    if path.suffix == ".npy":
        import numpy

        try:
            matrix = numpy.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise RecordError(f"not a NumPy array file: {err}", file=str(path)) from None
    else:
        matrix = _safetensors_decoder(path)
    if getattr(matrix, "ndim", 0) != 2:
        raise RecordError(
            f"a decoder is a 2-D matrix (features x d_model), not shape {getattr(matrix, 'shape', None)}",
            file=str(path),
        )
    prefix = dictionary if dictionary.startswith(f"{model}/") else f"{model}/{dictionary}"
    names = [f"{prefix}/F{i}" for i in range(len(matrix))]
    try:
        return vectors_from_arrays(matrix, model, names)
    except RecordError as err:
        raise RecordError(err.reason, file=str(path), record=err.record, field=err.field) from None


def _safetensors_decoder(path: Path) -> object:
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
    except ImportError:
        raise RecordError(
            "reading .safetensors needs the `safetensors` package (in the [analysis] extra)",
            file=str(path),
        ) from None
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise RecordError(f"not a safetensors file: {err}", file=str(path)) from None
    if "W_dec" not in tensors:
        raise RecordError(
            f"no W_dec in it (SAELens's name for the decoder); it holds {sorted(tensors)[:10]}",
            file=str(path),
        )
    return tensors["W_dec"]


def read_vector_files(paths: Sequence[Path], model: str, dictionary: str | None = None) -> Vectors:
    """Every file's vectors, checked to share one dimension; a decoder matrix (`.npy`,
    `.safetensors`) needs the `dictionary` its rows are the features of."""
    vectors: Vectors = {}
    for path in paths:
        if Path(path).suffix in MATRIX_SUFFIXES:
            if dictionary is None:
                raise RecordError(
                    "a decoder matrix needs --dictionary (e.g. L8/res-jb): its rows are "
                    "that dictionary's features",
                    file=str(path),
                )
            vectors.update(read_decoder(path, model, dictionary))
        else:
            vectors.update(read_vectors(path, model))
    if len({len(v) for v in vectors.values()}) > 1:
        raise RecordError("the files' vectors have different lengths")
    return vectors
