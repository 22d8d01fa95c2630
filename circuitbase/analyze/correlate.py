"""Activation correlation of every MLP neuron of one model with every MLP neuron of another,
as Gurnee et al. 2024 measure universality ("Universal Neurons in GPT2 Language Models",
arXiv 2401.12181; wesg52/universal-neurons, `correlations_fast.py`).

Both models read the same tokens; the Pearson correlation of each neuron pair over all
positions is computed from running sums, so memory is the neuron-pair matrix, however
many tokens there are. Each batch is shifted by the first batch's means before it is
summed (in float64), so activations with a large offset keep their precision.

The paper's baseline: the best correlation a neuron reaches with the other model's
neurons after a random rotation of that model's neuron basis (per layer); a neuron is
universal when its best correlation clearly beats it (`excess_corr` = max - baseline;
the paper's threshold is 0.5). The rotated correlations need no second pass: the
covariance with rotated neurons is the covariance matrix times the rotation, and their
variances come from each layer's own covariance, summed alongside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..schema.graph import NodeLabel
from ..schema.nodes import Analysis, NeuronFamily
from ..schema.records import NodeRecord, RecordError, RelRecord, ref
from ..schema.relationships import InFamily, MeasuredBy, SimilarTo
from ..schema.uids import neuron_uid
from ..sources.files import file_hash, read_json, read_text

CITATION = (
    "Gurnee, Horsley, Guo, Kheirkhah, Sun, Hathaway, Nanda, Bertsimas. Universal "
    "Neurons in GPT2 Language Models. TMLR 2024. arXiv:2401.12181"
)
METRIC = "activation-correlation"
UNIVERSAL_EXCESS = 0.5  # the paper's threshold: excess_corr > 0.5 is a universal neuron


class StreamingPearson:
    """Running sums (torch, float64) for the correlation of every column of `a` with every
    column of `b`, and of each block (layer) of either side's columns with itself, which
    the rotated baseline needs."""

    def __init__(
        self, blocks_a: Sequence[int], blocks_b: Sequence[int], device: Any = "cpu"
    ) -> None:
        import torch

        self.torch, self.device = torch, device
        self.blocks_a, self.blocks_b = list(blocks_a), list(blocks_b)
        zeros = partial(torch.zeros, dtype=torch.float64, device=device)
        self.n = 0
        self.shift_a: Any = None
        self.shift_b: Any = None
        self.sum_a, self.sum_b = zeros(sum(blocks_a)), zeros(sum(blocks_b))
        self.cross: Any = zeros((sum(blocks_a), sum(blocks_b)))
        self._product: Any = None
        self.self_a = [zeros((d, d)) for d in blocks_a]
        self.self_b = [zeros((d, d)) for d in blocks_b]

    def update(self, a: Any, b: Any) -> None:
        """Add a batch: `a` is (tokens, columns of a), `b` (tokens, columns of b), float32."""
        if self.shift_a is None:
            self.shift_a, self.shift_b = a.mean(0), b.mean(0)
        a, b = a - self.shift_a, b - self.shift_b  # centred: small numbers, exact enough in float32
        self.n += a.shape[0]
        self.sum_a += a.sum(0, dtype=self.torch.float64)
        self.sum_b += b.sum(0, dtype=self.torch.float64)
        if self._product is None:  # one float32 buffer for the batch's products, reused
            self._product = self.torch.empty(self.cross.shape, dtype=a.dtype, device=a.device)
        self.cross.add_(self.torch.matmul(a.T, b, out=self._product))  # float64 += float32
        for blocks, sums, x in ((self.blocks_a, self.self_a, a), (self.blocks_b, self.self_b, b)):
            for total, part in zip(sums, x.split(blocks, dim=1)):
                total.add_(part.T @ part)

    def result(self, rotations_a: Sequence[Any], rotations_b: Sequence[Any]) -> Correlation:
        """Correlations, and both sides' rotated baselines, as numpy arrays. The pair
        matrix is turned into correlations in place (the running sums are spent), so the
        peak is one neuron-pair matrix, not several."""
        if self.n < 2:
            raise RecordError("fewer than two tokens: no correlation")
        mean_a, mean_b = self.sum_a / self.n, self.sum_b / self.n
        cov = self.cross.div_(self.n).addr_(mean_a, mean_b, alpha=-1)
        cov_a = [
            s / self.n - m[:, None] * m[None, :]
            for s, m in zip(self.self_a, mean_a.split(self.blocks_a))
        ]
        cov_b = [
            s / self.n - m[:, None] * m[None, :]
            for s, m in zip(self.self_b, mean_b.split(self.blocks_b))
        ]
        std_a = self.torch.cat([c.diagonal() for c in cov_a]).clamp(min=0).sqrt()
        std_b = self.torch.cat([c.diagonal() for c in cov_b]).clamp(min=0).sqrt()
        baseline_a = self._rotated_best(cov, std_a, cov_b, self.blocks_b, rotations_b)
        baseline_b = self._rotated_best(cov.T, std_b, cov_a, self.blocks_a, rotations_a)
        corr = cov.div_(std_a[:, None]).div_(std_b[None, :])
        corr[std_a == 0] = 0  # a neuron that never varies correlates with nothing
        corr[:, std_b == 0] = 0
        self.cross = self._product = None
        return Correlation(
            corr.cpu().numpy(), baseline_a.cpu().numpy(), baseline_b.cpu().numpy(), self.n
        )

    def _rotated_best(
        self,
        cov: Any,
        std_rows: Any,
        cov_other: list[Any],
        blocks: Sequence[int],
        rotations: Sequence[Any],
    ) -> Any:
        """For each row neuron, its best correlation with the other side's neurons after a
        rotation R of each of that side's layers: cov(x, R y) = cov(x, y) R^T and
        var(R y) = diag(R cov(y) R^T). In float32: a baseline needs no more."""
        torch = self.torch
        best = torch.full((cov.shape[0],), -1.0, dtype=torch.float64, device=self.device)
        for block, block_cov, rotation in zip(cov.split(blocks, dim=1), cov_other, rotations):
            r = rotation.to(device=self.device, dtype=torch.float64)
            std = ((r @ block_cov) * r).sum(1).clamp(min=0).sqrt()
            rotated = block.float() @ r.T.float()
            rotated.div_(std_rows[:, None].float().clamp(min=1e-30)).div_(
                std[None, :].float().clamp(min=1e-30)
            )
            rotated[:, std == 0] = 0
            best = torch.maximum(best, rotated.max(1).values.double())
        best[std_rows == 0] = 0
        return best


def random_rotations(blocks: Sequence[int], seed: int, device: Any = "cpu") -> list[Any]:
    """A random orthogonal matrix per layer (QR of a Gaussian matrix, signs fixed), made on
    `device` (float64) from a CPU-seeded Gaussian, so the same seed gives the same basis."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    rotations = []
    for width in blocks:
        gaussian = torch.randn((width, width), generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(gaussian.to(device))
        rotations.append(q * torch.sign(torch.diagonal(r)))
    return rotations


@dataclass
class Correlation:
    """corr[i, j]: neuron i of A with neuron j of B; each side's rotated-basis baseline."""

    corr: np.ndarray
    baseline_a: np.ndarray
    baseline_b: np.ndarray
    tokens: int


def neuron_uids(model: str, n_layers: int, d_mlp: int) -> list[str]:
    return [neuron_uid(model, layer, n) for layer in range(n_layers) for n in range(d_mlp)]


def correlation_records(
    result: Correlation, analysis: Analysis, uids_a: list[str], uids_b: list[str], top_k: int
) -> Iterator[NodeRecord | RelRecord]:
    """The analysis; every neuron's top-k partners in the other model (`SIMILAR_TO`, one
    edge per pair, from A to B); every neuron's statistics against the other model
    (`MEASURED_BY`), and for those with excess_corr > 0.5 membership of `universal`."""
    yield from analysis.records()
    universal = NeuronFamily(name="universal").record()
    yield universal
    import torch

    corr = torch.from_numpy(result.corr)  # no copy
    rows = corr.topk(min(top_k, len(uids_b)), dim=1).indices.tolist()
    cols = corr.topk(min(top_k, len(uids_a)), dim=0).indices.T.tolist()
    pairs = {(i, j) for i, row in enumerate(rows) for j in row}
    pairs |= {(i, j) for j, col in enumerate(cols) for i in col}
    for i, j in sorted(pairs):
        yield SimilarTo(
            analysis=analysis.uid, score=float(result.corr[i, j]), metric=METRIC
        ).record(ref(NodeLabel.NEURON, uids_a[i]), ref(NodeLabel.NEURON, uids_b[j]))
    sides: tuple[tuple[list[str], list[str], Any, Any], ...] = (
        (uids_a, uids_b, result.corr, result.baseline_a),
        (uids_b, uids_a, result.corr.T, result.baseline_b),
    )
    measured = analysis.record().ref
    for uids, partners, corr, baseline in sides:
        best = corr.argmax(1)
        for i, uid in enumerate(uids):
            stats: dict[str, Any] = {
                "partner_model": partners[0].split("/")[0],
                "max_corr": float(corr[i, best[i]]),
                "max_partner": partners[best[i]],
                "mean_corr": float(corr[i].mean()),
                "baseline": float(baseline[i]),
                "excess_corr": float(corr[i, best[i]] - baseline[i]),
            }
            start = ref(NodeLabel.NEURON, uid)
            yield MeasuredBy(analysis=analysis.uid, **stats).record(start, measured)
            if stats["excess_corr"] > UNIVERSAL_EXCESS:
                yield InFamily(
                    analysis=analysis.uid,
                    feature=stats["partner_model"],
                    **{k: v for k, v in stats.items() if k != "partner_model"},
                ).record(start, universal.ref)


def read_token_data(path: Path, model_a: Any, model_b: Any) -> list[list[int]]:
    """Token sequences both models read: a JSON list of token-id lists, or text, which
    both models' tokenizer (one tokenizer: checked) turns into tokens. Token ids must be
    in both vocabularies, which must be the same size."""
    if model_a.cfg.d_vocab != model_b.cfg.d_vocab:
        raise RecordError(
            f"the models have different vocabularies ({model_a.cfg.d_vocab} and "
            f"{model_b.cfg.d_vocab} tokens): activations on the same text "
            "need the same tokenizer",
            file=str(path),
        )
    if path.suffix.lower() == ".json":
        data = read_json(path)
        if not (
            isinstance(data, list)
            and all(
                isinstance(s, list)
                and s
                and all(isinstance(t, int) and not isinstance(t, bool) for t in s)
                for s in data
            )
        ):
            raise RecordError(
                "token data as JSON is a list of non-empty lists of token ids", file=str(path)
            )
        bad = next(
            ((i, t) for i, s in enumerate(data) for t in s if not 0 <= t < model_a.cfg.d_vocab),
            None,
        )
        if bad is not None:
            raise RecordError(
                f"token id {bad[1]} is outside the vocabulary (0...{model_a.cfg.d_vocab - 1})",
                file=str(path),
                record=f"sequence {bad[0]}",
            )
        sequences = data
    else:
        text = read_text(path)
        tokenizers: list[Any] = [getattr(m, "tokenizer", None) for m in (model_a, model_b)]
        if None in tokenizers:
            raise RecordError(
                "a model without a tokenizer reads token ids: give the tokens as "
                "JSON ([[id, ...], ...])",
                file=str(path),
            )
        if tokenizers[0].get_vocab() != tokenizers[1].get_vocab():
            raise RecordError(
                "the models' tokenizers differ: activations on the same text need the same tokens",
                file=str(path),
            )
        sequences = [
            model_a.to_tokens(part, prepend_bos=True)[0].tolist()
            for part in text.split("\n\n")
            if part.strip()
        ]
    if not any(sequences):
        raise RecordError("no tokens to run the models on", file=str(path))
    return sequences


def _pieces(sequences: list[list[int]], n_ctx: int, batch_tokens: int) -> Iterator[list[list[int]]]:
    """Batches of equal-length pieces of at most n_ctx tokens, about batch_tokens each."""
    pieces = [s[i : i + n_ctx] for s in sequences for i in range(0, len(s), n_ctx)]
    by_length: dict[int, list[list[int]]] = {}
    for piece in pieces:
        by_length.setdefault(len(piece), []).append(piece)
    for length, group in sorted(by_length.items()):
        per_batch = max(1, batch_tokens // length)
        for start in range(0, len(group), per_batch):
            yield group[start : start + per_batch]


def mlp_activations(model: Any, tokens: Any) -> Any:
    """(positions, n_layers * d_mlp) float32: every MLP neuron's activation, layer-major."""
    import torch

    hooks = [f"blocks.{layer}.mlp.hook_post" for layer in range(model.cfg.n_layers)]
    with torch.no_grad():
        _, cache = model.run_with_cache(
            tokens, names_filter=lambda name: name in hooks, return_type=None
        )
    return torch.cat([cache[h].reshape(-1, model.cfg.d_mlp) for h in hooks], dim=1).float()


def correlate(
    model_a: Any,
    model_b: Any,
    sequences: list[list[int]],
    *,
    seed: int = 0,
    batch_tokens: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> Correlation:
    import torch

    blocks_a = [model_a.cfg.d_mlp] * model_a.cfg.n_layers
    blocks_b = [model_b.cfg.d_mlp] * model_b.cfg.n_layers
    device = model_a.cfg.device
    sums = StreamingPearson(blocks_a, blocks_b, device=device)
    n_ctx = min(model_a.cfg.n_ctx, model_b.cfg.n_ctx)
    for batch in _pieces(sequences, n_ctx, batch_tokens):
        tokens = torch.tensor(batch, dtype=torch.long)
        acts_a = mlp_activations(model_a, tokens.to(model_a.cfg.device))
        acts_b = mlp_activations(model_b, tokens.to(model_b.cfg.device)).to(device)
        sums.update(acts_a, acts_b)
        if progress:
            progress(tokens.numel())
    return sums.result(
        random_rotations(blocks_a, seed, device), random_rotations(blocks_b, seed + 1, device)
    )


def correlate_analysis_records(
    model_a: Any,
    name_a: str,
    model_b: Any,
    name_b: str,
    data_path: Path,
    *,
    top_k: int = 5,
    seed: int = 0,
    batch_tokens: int = 4096,
    progress: Callable[[int], None] | None = None,
) -> Iterator[NodeRecord | RelRecord]:
    import transformer_lens

    from .models import spec_of

    if name_a == name_b:
        raise RecordError("correlate two different models")
    for model, name in ((model_a, name_a), (model_b, name_b)):
        if model.cfg.d_mlp is None or model.cfg.attn_only:
            raise RecordError(f"{name} has no MLP neurons to correlate")
    sequences = read_token_data(data_path, model_a, model_b)
    result = correlate(
        model_a, model_b, sequences, seed=seed, batch_tokens=batch_tokens, progress=progress
    )
    digest = file_hash(data_path)
    analysis = Analysis(
        uid=f"activation-correlation/{name_a}+{name_b}/{digest[7:19]}",
        kind="similarity",
        method="Pearson correlation of MLP neuron activations over the same tokens, with a "
        "random-rotation baseline (Gurnee et al. 2024)",
        models=[name_a, name_b],
        citation=CITATION,
        content_hash=digest,
        params={
            "tokens": result.tokens,
            "text_file": data_path.name,
            "text_hash": digest,
            "top_k": top_k,
            "rotation_seed": seed,
            "hook": "mlp.hook_post",
            "universal_excess": UNIVERSAL_EXCESS,
        },
        tool_version=f"transformer_lens {getattr(transformer_lens, '__version__', '2')}",
    )
    yield spec_of(model_a, name_a).record()
    yield spec_of(model_b, name_b).record()
    yield from correlation_records(
        result,
        analysis,
        neuron_uids(name_a, model_a.cfg.n_layers, model_a.cfg.d_mlp),
        neuron_uids(name_b, model_b.cfg.n_layers, model_b.cfg.d_mlp),
        top_k,
    )
