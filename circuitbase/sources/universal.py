"""Adapter for the per-neuron tables of Gurnee et al. 2024, "Universal Neurons in GPT2
Language Models" (arXiv 2401.12181; wesg52/universal-neurons,
`dataframes/interpretable_neurons/<model>/*.csv`).

Two shapes, both kept whole:

* statistics tables (`universal.csv`, `high_excess_correlation.csv`,
  `sub_gaussian_activation_kurtosis.csv`): `layer,neuron` and named per-neuron statistics
  (max/mean/min correlation across training seeds, baselines, excess_corr, weight norms,
  activation moments, sparsity). Each row becomes
  `(:Neuron)-[:IN_FAMILY {analysis, <every statistic>}]->(:NeuronFamily {name})`, the
  family named by the table (`universal`, `high_excess_correlation`, ...). An unnamed
  first column is the saved DataFrame's index, kept as `source_row`.
* prediction-neuron tables (`prediction_neurons.csv`: `layer,neuron,feature,is_surpress`):
  the family is `suppression` or `prediction`, with the vocabulary `feature`.

Values are read from the text as Python numbers (64-bit floats): what the table says,
with no float32 rounding. The model comes from `--model` or the `<model>/` folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..schema.aliases import canonical_model
from ..schema.graph import NodeLabel
from ..schema.nodes import Analysis, NeuronFamily
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import InFamily
from ..schema.uids import UidError, neuron_uid
from .files import csv_header, file_hash, read_csv
from .formats import Format, Option, analysis_option

CITATION = (
    "Gurnee, Horsley, Guo, Kheirkhah, Sun, Hathaway, Nanda, Bertsimas. Universal Neurons "
    "in GPT2 Language Models. TMLR 2024. arXiv:2401.12181"
)
INDEX_COLUMN = "source_row"
PREDICTION = {"layer", "neuron", "feature", "is_surpress"}
FAMILY_DESCRIPTIONS = {
    "universal": "neurons whose activations correlate across training seeds well above a "
    "rotated baseline (excess correlation)",
    "prediction": "late-layer neurons that raise the logits of a set of tokens",
    "suppression": "late-layer neurons that lower the logits of a set of tokens",
}


def _value(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    if not text.isascii():  # Python reads `٣` as 3; a number here is ASCII
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for line, raw in read_csv(path, {"layer", "neuron"}):
        yield f"line {line}", {(name or INDEX_COLUMN): _value(value) for name, value in raw.items()}


def universal_records(
    path: Path, *, model: str | None = None, analysis_uid: str | None = None
) -> Iterator[NodeRecord | RelRecord]:
    """The records of one table, as its rows are read; RecordError names file, line and
    column."""
    path = Path(path)
    model = canonical_model(model or path.parent.name)  # the upstream <model>/<table>.csv layout
    predictions = set(csv_header(path)) == PREDICTION
    table = path.stem
    analysis = Analysis(
        uid=analysis_uid or f"universal-neurons/{model}/{table}",
        kind="universality",
        method="correlation of neuron activations across training seeds"
        if not predictions
        else "vocabulary projection of output weights",
        models=[model],
        citation=CITATION,
        content_hash=file_hash(path),
        params={"table": table},
    )
    yield from analysis.records()
    families: dict[str, NodeRecord] = {}
    for where, values in _rows(path):
        origin = f"{path}, {where}"
        layer, neuron = values.pop("layer"), values.pop("neuron")
        if not isinstance(layer, int) or not isinstance(neuron, int):
            raise RecordError(
                "layer and neuron must be whole numbers",
                file=str(path),
                record=where,
                field="layer" if not isinstance(layer, int) else "neuron",
            )
        if predictions:
            if not isinstance(values.get("is_surpress"), bool):
                raise RecordError(
                    "is_surpress must be True or False",
                    file=str(path),
                    record=where,
                    field="is_surpress",
                )
            family = "suppression" if values.pop("is_surpress") else "prediction"
        else:
            family = table
        if family not in families:
            families[family] = NeuronFamily(
                name=family, description=FAMILY_DESCRIPTIONS.get(family)
            ).record()
            yield families[family].at(origin)
        try:
            fact = InFamily(**{**values, "analysis": analysis.uid})  # never a column's
            start = ref(NodeLabel.NEURON, neuron_uid(model, layer, neuron))
            record = fact.record(start, families[family].ref).at(origin)
        except RecordError as err:
            raise err.located(file=str(path), record=where) from None
        except (ValueError, UidError) as err:
            raise RecordError(str(err).splitlines()[0], file=str(path), record=where) from None
        yield record
    if not families:
        raise RecordError("no neuron rows", file=str(path))


FORMAT = Format(
    name="universal",
    summary="The per-neuron tables of Universal Neurons (Gurnee et al. 2024), every column kept.",
    details="""Statistics tables (universal.csv, high_excess_correlation.csv, ...) and prediction-
    neuron tables (prediction_neurons.csv), as neuron families.

    \b
    Example:
      circuitbase ingest universal dataframes/interpretable_neurons/pythia-160m/universal.csv""",
    reader=universal_records,
    suffixes=(".csv",),
    options=(
        Option("--model", "model", "The model (default: from the <model>/ folder).", "model"),
        analysis_option("universal-neurons/<model>/<table>"),
    ),
    what="universal neurons",
)
