"""Which model was fine-tuned from which, read from the names the hub gives them.

`gemma-2-2b-it` is the instruction-tuned `gemma-2-2b`, `Llama-3.1-8B-Instruct` the
tuned `Llama-3.1-8B`, and `gemma-3-1b-it` the tuned `gemma-3-1b-pt`: a fine-tuned
model's name is its base's with a tuning suffix, the base's sometimes with a
pre-training suffix. `base_of` applies this to a set of known names, so a pair is
found whichever of the two models arrived first. A lineage the names do not show is
stated with `circuitbase model add NAME --base BASE`. A training checkpoint
(`gemma-2-2b@step100`, schema/checkpoints.py) is neither a base nor a fine-tuned model.
"""

from __future__ import annotations

from collections.abc import Iterable

from .checkpoints import is_checkpoint

TUNED_SUFFIXES = ("-it", "-instruct", "-chat", "-sft", "-rlhf", "-dpo")
PRETRAINED_SUFFIXES = ("", "-pt", "-base")


def base_of(name: str, known: Iterable[str]) -> str | None:
    """The model among `known` that `name` was fine-tuned from, by their names."""
    if is_checkpoint(name):  # a checkpoint's lineage is CHECKPOINT_OF, never fine-tuning
        return None
    lowered = name.lower()
    for suffix in TUNED_SUFFIXES:
        if lowered.endswith(suffix):
            stem = name[: -len(suffix)]
            by_lower = {
                other.lower(): other
                for other in known
                if other != name and not is_checkpoint(other)
            }
            for pretrained in PRETRAINED_SUFFIXES:
                if (stem + pretrained).lower() in by_lower:
                    return by_lower[(stem + pretrained).lower()]
    return None


def lineage(names: Iterable[str]) -> list[tuple[str, str]]:
    """(fine-tuned, base) pairs among `names`."""
    known = sorted(set(names))
    return [(name, base) for name in known if (base := base_of(name, known)) is not None]
