"""A generated Neuronpedia export of dictionary features (export-data.py's layout and
columns), its values drawn the way the shipped dashboards' are: ten promoted and ten
suppressed logits per feature from a vocabulary of decoded GPT-2-style tokens (a few
common ones many features share, a long tail), how often each fires (some dead, some
dense), one explanation each (its words Zipf-distributed, as text's are), and activation examples for a tenth of them. The tests
compare `similar` with a computation over these rows; benchmarks reuse it at scale."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from pathlib import Path
from typing import Any

MODEL, SOURCE = "gpt2-small", "0-res-jb"
WORDS = (
    "the of and to in is was for on that with as by at from his her their an or "
    "brigade battalion regiment army MRI ultrasound autopsy microscope contingent dependent "
    "river bank money loan court judge law trial music guitar piano song code python java "
    "function variable data model train test king queen prince castle city town village"
).split()


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """Decoded tokens: words with and without their leading space, capitalised, and
    pieces of words, as GPT-2's vocabulary holds them."""
    tokens: list[str] = []
    for word in WORDS:
        tokens += [f" {word}", word, f" {word.capitalize()}"]
    while len(tokens) < size:
        piece = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 6)))
        tokens.append(rng.choice(["", " "]) + piece)
    return tokens[:size]


COMMON = 30  # tokens many features share (' the', ' of', ...)

# An explanation as an explainer writes one ("references to regiment and battalion
# names"): a frame or two that many explanations use, a function word, and two to four
# content words drawn by Zipf's law (Mandelbrot's form) from a vocabulary that grows with the release (words
# in explanations, as in text: a few frequent, a long tail).
FRAMES = "references mentions words phrases terms related tokens text names".split()
FUNCTION_WORDS = "the of and to in or with as for about".split()


class _Explainer:
    """Explanations drawn from FRAMES, FUNCTION_WORDS and a Zipf-distributed content
    vocabulary of `size` words (WORDS first, then made-up ones)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.rng = rng
        content = WORDS[20:]  # its content words (the first 20 are function words)
        while len(content) < size:
            content.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)))
        self.content = content
        # Zipf-Mandelbrot (1 / (rank + 10)): no content word in more than a few percent
        self.cumulative = list(
            itertools.accumulate(1.0 / (rank + 10) for rank in range(1, size + 1))
        )

    def __call__(self) -> str:
        rng = self.rng
        words = rng.sample(FRAMES, rng.randint(1, 2)) + [rng.choice(FUNCTION_WORDS)]
        k = rng.randint(2, 4)
        words += rng.choices(self.content, cum_weights=self.cumulative, k=k)
        return " ".join(words)


def _zipf_pick(tokens: list[str], rng: random.Random, k: int) -> list[str]:
    """`k` distinct tokens: about one in seven of the few common ones, the rest from the
    long tail (two features' logits rarely share more than a common token or two, as in
    the shipped dashboards, whose four features share none)."""
    chosen: list[str] = []
    while len(chosen) < k:
        common = rng.random() < 0.15
        token = tokens[rng.randrange(COMMON) if common else rng.randrange(COMMON, len(tokens))]
        if token not in chosen:
            chosen.append(token)
    return chosen


def feature_rows(n: int, seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """The rows of `n` features: {"features": [...], "activations": [...], "explanations": [...]}."""
    rng = random.Random(seed)
    tokens = vocabulary(max(20_000, n // 4), rng)
    explain = _Explainer(max(2_000, n // 10), random.Random(seed + 1))
    rows: dict[str, list[dict[str, Any]]] = {"features": [], "activations": [], "explanations": []}
    for index in range(n):
        where = {"modelId": MODEL, "layer": SOURCE, "index": str(index)}
        draw = rng.random()
        frac = (
            0.0
            if draw < 0.03
            else rng.uniform(0.11, 0.4)
            if draw > 0.97
            else 10 ** rng.uniform(-5, -1.5)
        )
        pos = _zipf_pick(tokens, rng, 10)
        neg = _zipf_pick(tokens, rng, 10)
        pos_values = sorted((round(rng.uniform(0.2, 1.5), 4) for _ in pos), reverse=True)
        neg_values = sorted(round(-rng.uniform(0.2, 1.5), 4) for _ in neg)
        rows["features"].append(
            where
            | {
                "maxActApprox": round(rng.uniform(1, 30), 3),
                "frac_nonzero": frac,
                "pos_str": pos,
                "pos_values": pos_values,
                "neg_str": neg,
                "neg_values": neg_values,
                "sourceSetName": "res-jb",
                "hookName": "blocks.0.hook_resid_pre",
                "hasVector": False,
            }
        )
        rows["explanations"].append(
            where
            | {
                "id": f"generated-expl-{index}",
                "description": explain(),
                "typeName": "generated",
                "explanationModelName": None,
            }
        )
        if index % 10 == 0:
            for e in range(3):
                length = rng.randint(8, 24)
                example = _zipf_pick(tokens, rng, length)
                values = [round(rng.uniform(0, 1), 4) for _ in example]
                peak = values.index(max(values))
                rows["activations"].append(
                    where
                    | {
                        "id": f"generated-{index}-{e}",
                        "tokens": example,
                        "values": values,
                        "maxValue": values[peak],
                        "maxValueTokenIndex": peak,
                        "minValue": min(values),
                    }
                )
    return rows


def write_feature_export(root: Path, n: int, seed: int = 0) -> Path:
    """The export of `feature_rows(n, seed)` under `root` (the folder to ingest)."""
    return write_rows(root, feature_rows(n, seed))


def write_rows(root: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """An export holding `rows` (as `feature_rows` makes them) under `root`."""
    for kind, items in rows.items():
        folder = root / MODEL / SOURCE / kind
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / "batch-0.jsonl.gz", "wt", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item) + "\n")
    return root
