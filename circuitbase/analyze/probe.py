"""k-sparse probing on a TransformerLens model's MLP neurons (Gurnee et al. 2023).

For each layer: collect `blocks.{L}.mlp.hook_post` on every token of a labelled
dataset, rank neurons by the difference of their mean activation on positive
and negative tokens (the paper's cheapest and most used selection method), fit
a logistic-regression probe on the top k, and score it on held-out tokens. The
result is one ProbeRow per selected neuron, the same rows the file adapter
reads, so both paths write identical graph facts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..schema.interchange import ConceptData, ProbeRow
from ..schema.nodes import Analysis, content_hash
from ..schema.records import NodeRecord, RecordError, RelRecord
from ..sources.files import read_bytes, read_json, validate
from ..sources.probes import records_from_rows
from .models import spec_of

TEST_FRACTION = 0.25


def read_concept_data(path: Path) -> ConceptData:
    return validate(ConceptData, read_json(path), file=path, record="the file")


def mlp_activations(model: Any, data: ConceptData, layers: list[int]) -> tuple[dict[int, Any], Any]:
    """Per layer, a [tokens, d_mlp] tensor of post-activation values, and the [tokens] labels."""
    import torch

    per_layer: dict[int, list[Any]] = {layer: [] for layer in layers}
    labels: list[Any] = []
    hooks = {f"blocks.{layer}.mlp.hook_post" for layer in layers}
    for index, sequence in enumerate(data.sequences):
        if sequence.tokens is not None:
            tokens = torch.tensor(sequence.tokens)
        else:
            tokens = model.to_tokens(sequence.text, prepend_bos=False)[0]
            if len(tokens) != len(sequence.labels):
                raise RecordError(
                    f"the text is {len(tokens)} tokens for this model but has "
                    f"{len(sequence.labels)} labels",
                    record=f"sequence {index}",
                    field="labels",
                )
        if int(tokens.max()) >= model.cfg.d_vocab or int(tokens.min()) < 0:
            raise RecordError(
                f"token ids must be in 0..{model.cfg.d_vocab - 1}",
                record=f"sequence {index}",
                field="tokens",
            )
        with torch.no_grad():
            _, cache = model.run_with_cache(tokens[None], names_filter=lambda name: name in hooks)
        for layer in layers:
            per_layer[layer].append(cache[f"blocks.{layer}.mlp.hook_post"][0].cpu())
        labels.append(torch.tensor(sequence.labels))
    return {layer: torch.cat(acts) for layer, acts in per_layer.items()}, torch.cat(labels)


def mean_difference_ranking(acts: Any, labels: Any) -> Any:
    """Neuron indices, most concept-selective first."""
    positive, negative = acts[labels == 1].mean(0), acts[labels == 0].mean(0)
    return (positive - negative).abs().argsort(descending=True)


def fit_logistic(x: Any, y: Any, l2: float = 1e-3) -> tuple[Any, Any, Any, Any]:
    """Logistic regression on standardized features; returns weights, bias, mean, scale."""
    import torch

    mean, scale = x.mean(0), x.std(0).clamp_min(1e-6)
    z = (x - mean) / scale
    weights = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=200, line_search_fn="strong_wolfe")

    def loss() -> Any:
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(z @ weights + bias, y.float())
        value = value + l2 * weights.pow(2).sum()
        value.backward()
        return value

    optimizer.step(loss)
    return weights.detach(), bias.detach(), mean, scale


def scores(predicted: Any, actual: Any) -> dict[str, float]:
    tp = int(((predicted == 1) & (actual == 1)).sum())
    fp = int(((predicted == 1) & (actual == 0)).sum())
    fn = int(((predicted == 0) & (actual == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": float((predicted == actual).float().mean()),
    }


def sparse_probe(
    model: Any,
    name: str,
    data: ConceptData,
    *,
    k: int = 1,
    layers: list[int] | None = None,
    seed: int = 0,
) -> list[ProbeRow]:
    import torch

    if model.cfg.d_mlp is None or model.cfg.attn_only:
        raise RecordError(f"{name} has no MLP neurons to probe")
    layers = list(range(model.cfg.n_layers)) if layers is None else layers
    bad = [layer for layer in layers if not 0 <= layer < model.cfg.n_layers]
    if bad:
        raise RecordError(
            f"{name} has layers 0-{model.cfg.n_layers - 1}, not {bad}", field="layers"
        )
    acts, labels = mlp_activations(model, data, layers)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(len(labels) * TEST_FRACTION))
    test, train = order[:n_test], order[n_test:]
    for part, indices in (("training", train), ("held-out", test)):
        if labels[indices].unique().numel() < 2:
            raise RecordError(f"the {part} tokens need both labels; give more labelled tokens")
    rows = []
    for layer in layers:
        chosen = mean_difference_ranking(acts[layer][train], labels[train])[:k]
        weights, bias, mean, scale = fit_logistic(acts[layer][train][:, chosen], labels[train])
        logits = ((acts[layer][test][:, chosen] - mean) / scale) @ weights + bias
        quality = scores((logits > 0).long(), labels[test])
        for rank, neuron in enumerate(chosen.tolist()):
            rows.append(
                ProbeRow(
                    model=name,
                    layer=layer,
                    neuron=neuron,
                    feature=data.concept,
                    category=data.category,
                    k=k,
                    rank=rank,
                    weight=float(weights[rank]),
                    dataset="analyze-probe",
                    **quality,
                )
            )
    return rows


def probe_analysis_records(
    model: Any,
    name: str,
    data_path: Path,
    *,
    k: int = 1,
    layers: list[int] | None = None,
    seed: int = 0,
) -> list[NodeRecord | RelRecord]:
    data = read_concept_data(data_path)
    try:
        rows = sparse_probe(model, name, data, k=k, layers=layers, seed=seed)
    except (RecordError, ValidationError) as err:
        raise (err if isinstance(err, RecordError) else RecordError(str(err))).located(
            file=str(data_path)
        ) from None
    import transformer_lens

    params = {
        "k": k,
        "layers": layers,
        "seed": seed,
        "test_fraction": TEST_FRACTION,
        "selection": "mean difference",
        "classifier": "logistic regression",
        "hook": "mlp.hook_post",
        "n_tokens": sum(len(s.labels) for s in data.sequences),
    }
    digest = content_hash(read_bytes(data_path) + json.dumps(params, sort_keys=True).encode())
    analysis = Analysis(
        uid=f"analyze-probe/{name}/{data.concept}/k{k}/{digest[7:19]}",
        kind="probe",
        method="k-sparse probing: mean-difference selection, logistic regression",
        models=[name],
        params=params,
        content_hash=digest,
        citation="Gurnee et al. 2023, Finding Neurons in a Haystack, arXiv:2305.01610",
        tool_version=f"transformer_lens {getattr(transformer_lens, '__version__', '2')}",
    )
    return [
        spec_of(model, name).record(),
        *records_from_rows(analysis, [(f"{data_path}, layer {r.layer}", r) for r in rows]),
    ]
