"""How long `analyze correlate` takes for two models of pythia-70m's shape, against its floor.

Two randomly initialised models of pythia-70m's shape (6 layers x 2048 MLP neurons,
d_model 512) read the same random tokens; the benchmark times the correlation of all
12,288 x 12,288 neuron pairs (the forward passes included) and compares it with the
floor: one 12,288 x tokens x 12,288 float32 matrix product, timed in the same run
(numpy on the CPU, torch on a GPU). Each size runs in a fresh process, so the peak
memory it reports (resident set, and GPU memory where there is one) is that run's alone;
at 10x the tokens it should be the same.

    python benchmarks/correlate.py [--tokens 20000] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def build(seed: int, device: str):
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg = HookedTransformerConfig(
        n_layers=6,
        d_model=512,
        n_heads=8,
        d_head=64,
        d_mlp=2048,
        d_vocab=50304,
        n_ctx=2048,
        act_fn="gelu",
        seed=seed,
        device=device,
    )
    return HookedTransformer(cfg).eval()


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def floor_seconds(tokens: int, device: str) -> float:
    """One (tokens x 12288)^T (tokens x 12288) product in float32."""
    if device == "cpu":
        import numpy as np

        a = np.random.default_rng(0).standard_normal((tokens, 12288), dtype=np.float32)
        b = np.random.default_rng(1).standard_normal((tokens, 12288), dtype=np.float32)
        started = time.perf_counter()
        a.T @ b
        return time.perf_counter() - started
    import torch

    a = torch.randn(tokens, 12288, device=device)
    b = torch.randn(tokens, 12288, device=device)
    a.T @ b
    torch.cuda.synchronize()
    started = time.perf_counter()
    a.T @ b
    torch.cuda.synchronize()
    return time.perf_counter() - started


def one_run(tokens: int, device: str, batch_tokens: int) -> dict:
    import numpy as np
    import torch

    from circuitbase.analyze.correlate import correlate
    from circuitbase.analyze.models import resolve_device

    device = resolve_device(device)
    model_a, model_b = build(1, device), build(2, device)
    rng = np.random.default_rng(0)
    sequences = rng.integers(0, 50304, (tokens // 512, 512)).tolist()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    started = time.perf_counter()
    result = correlate(model_a, model_b, sequences, batch_tokens=batch_tokens)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    rss = peak_rss_mb()  # before the floor's own matrices
    gpu = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    return {
        "device": device,
        "tokens": result.tokens,
        "seconds": seconds,
        "floor": floor_seconds(result.tokens, device),
        "rss_mb": rss,
        "gpu_mb": gpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--sizes", default="0.1,1", help="multiples of --tokens to run")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.tokens, args.device, args.batch_tokens)))
        return
    rows = []
    for factor in map(float, args.sizes.split(",")):
        tokens = max(512, int(args.tokens * factor))
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                "--tokens",
                str(tokens),
                "--device",
                args.device,
                "--batch-tokens",
                str(args.batch_tokens),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"{'device':6} {'tokens':>8} {'seconds':>9} {'floor s':>9} {'x floor':>8} "
        f"{'peak RSS MB':>12} {'peak GPU MB':>12}"
    )
    for row in rows:
        gpu = f"{row['gpu_mb']:.0f}" if row["gpu_mb"] is not None else "-"
        print(
            f"{row['device']:6} {row['tokens']:>8} {row['seconds']:>9.2f} {row['floor']:>9.2f} "
            f"{row['seconds'] / row['floor']:>8.2f} {row['rss_mb']:>12.0f} {gpu:>12}"
        )


if __name__ == "__main__":
    main()
