"""Attention-head categories from attention patterns (Olsson et al. 2022, arXiv 2209.11895).

The model reads sequences `BOS r r` where `r` is `period` random tokens. For every
head, from `blocks.L.attn.hook_pattern`, averaged over sequences and positions:

* previous-token: attention from each token to the one before it;
* duplicate-token: in the repeat, attention to the same token's first occurrence;
* induction: in the repeat, attention to the token after that first occurrence.

These are TransformerLens's `head_detector` patterns, computed directly so that
no tokenizer is needed. Each score becomes `(:AttentionHead)-[:HAS_ROLE {score}]->(:HeadRole)`,
for every head, so queries choose their own threshold.
"""

from __future__ import annotations

from typing import Any

from ..schema.nodes import Analysis
from ..schema.records import NodeRecord, RecordError, RelRecord
from ..sources.heads import ROLES, head_role_records
from .models import spec_of

CITATION = (
    "Olsson et al. In-context Learning and Induction Heads. arXiv:2209.11895 (2022); "
    "head_detector of TransformerLens"
)


def repeated_tokens(model: Any, n_sequences: int, period: int, seed: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(seed)
    first = torch.randint(1, model.cfg.d_vocab, (n_sequences, period), generator=generator)
    bos = torch.zeros(n_sequences, 1, dtype=torch.long)
    return torch.cat([bos, first, first], dim=1)


def head_scores(
    model: Any, *, n_sequences: int = 32, period: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Role -> a [n_layers, n_heads] tensor of scores in [0, 1]."""
    import torch

    period = period or min(20, (model.cfg.n_ctx - 1) // 2)
    if 2 * period + 1 > model.cfg.n_ctx or period < 2:
        raise RecordError(
            f"a repeat period of {period} does not fit the context of {model.cfg.n_ctx} tokens"
        )
    tokens = repeated_tokens(model, n_sequences, period, seed)
    with torch.no_grad():
        _, cache = model.run_with_cache(
            tokens, names_filter=lambda name: name.endswith("hook_pattern")
        )
    patterns = torch.stack(
        [cache[f"blocks.{layer}.attn.hook_pattern"] for layer in range(model.cfg.n_layers)]
    )  # layer batch head q k
    everywhere = torch.arange(1, 2 * period + 1)
    repeat = torch.arange(period + 1, 2 * period + 1)
    return {
        "previous-token": patterns[:, :, :, everywhere, everywhere - 1].mean(dim=(1, 3)),
        "duplicate-token": patterns[:, :, :, repeat, repeat - period].mean(dim=(1, 3)),
        "induction": patterns[:, :, :, repeat, repeat - period + 1].mean(dim=(1, 3)),
    }


def head_analysis_records(
    model: Any, name: str, *, n_sequences: int = 32, period: int | None = None, seed: int = 0
) -> list[NodeRecord | RelRecord]:
    import transformer_lens

    scores = head_scores(model, n_sequences=n_sequences, period=period, seed=seed)
    params = {
        "n_sequences": n_sequences,
        "period": period,
        "seed": seed,
        "hook": "attn.hook_pattern",
        "sequence": "BOS r r, r random tokens",
    }
    analysis = Analysis(
        uid=f"analyze-heads/{name}/s{seed}",
        kind="heads",
        method="attention-pattern scores on repeated random tokens",
        models=[name],
        params=params,
        citation=CITATION,
        tool_version=f"transformer_lens {getattr(transformer_lens, '__version__', '2')}",
    )
    rows = [
        (
            layer,
            head,
            role,
            float(scores[role][layer, head]),
            analysis.method,
            f"analyze heads {name}",
        )
        for role in ROLES
        for layer in range(model.cfg.n_layers)
        for head in range(model.cfg.n_heads)
    ]
    return [spec_of(model, name).record(), *head_role_records(analysis, name, rows)]
