"""Every analysis on a GPU gives what it gives on the CPU (`--device cuda` against `cpu`).

Runs head scoring, k-sparse probing and activation correlation on small random
TransformerLens models on both devices and prints the largest difference of each; the
tests run the CPU side, this script the GPU side where one is lent.

    python benchmarks/device_check.py
"""

from __future__ import annotations

import numpy as np
import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

from circuitbase.analyze.correlate import correlate
from circuitbase.analyze.heads import head_scores
from circuitbase.analyze.models import resolve_device
from circuitbase.analyze.probe import sparse_probe
from circuitbase.schema.interchange import ConceptData


def toy(seed: int) -> HookedTransformer:
    cfg = HookedTransformerConfig(
        n_layers=2,
        d_model=64,
        n_ctx=64,
        d_head=16,
        n_heads=4,
        d_mlp=128,
        d_vocab=100,
        act_fn="gelu",
        seed=seed,
        device="cpu",
    )
    return HookedTransformer(cfg).eval()


def on(model: HookedTransformer, device: str) -> HookedTransformer:
    return model.to(device, print_details=False)


def main() -> None:
    gpu = resolve_device("auto")
    print(f"auto resolves to {gpu}: {torch.cuda.get_device_name() if gpu == 'cuda' else 'no GPU'}")
    a, b = toy(1), toy(2)
    rows = []
    cpu_heads = {k: v.cpu().numpy() for k, v in head_scores(a).items()}
    gpu_heads = {k: v.cpu().numpy() for k, v in head_scores(on(toy(1), gpu)).items()}
    rows.append(("heads", max(float(np.abs(cpu_heads[k] - gpu_heads[k]).max()) for k in cpu_heads)))
    rng = np.random.default_rng(0)
    sequences = [
        {"tokens": rng.integers(0, 100, 40).tolist(), "labels": rng.integers(0, 2, 40).tolist()}
        for _ in range(20)
    ]
    data = ConceptData.model_validate({"concept": "random", "sequences": sequences})
    cpu_probe = sparse_probe(a, "toy", data, k=2)
    gpu_probe = sparse_probe(on(toy(1), gpu), "toy", data, k=2)
    same = [(r.layer, r.neuron) for r in cpu_probe] == [(r.layer, r.neuron) for r in gpu_probe]
    rows.append(
        (
            f"probe (same neurons: {same})",
            max(abs((r.f1 or 0) - (s.f1 or 0)) for r, s in zip(cpu_probe, gpu_probe)),
        )
    )
    tokens = rng.integers(0, 100, (32, 64)).tolist()
    cpu_corr = correlate(a, b, tokens)
    gpu_corr = correlate(on(toy(1), gpu), on(toy(2), gpu), tokens)
    rows.append(("correlate", float(np.abs(cpu_corr.corr - gpu_corr.corr).max())))
    rows.append(
        ("correlate baseline", float(np.abs(cpu_corr.baseline_a - gpu_corr.baseline_a).max()))
    )
    print(f"{'analysis':32} {'max |cpu - ' + gpu + '|':>20}")
    for name, diff in rows:
        print(f"{name:32} {diff:>20.2e}")


if __name__ == "__main__":
    main()
