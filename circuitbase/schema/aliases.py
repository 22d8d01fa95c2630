"""Other names of the known models (Hugging Face ids, TransformerLens's short names).

The same model is `gpt2-small` in TransformerLens and Neuronpedia, `gpt2` or
`openai-community/gpt2` on the Hugging Face hub; every place a model name comes in
(files, command options, template parameters, uids) goes through `canonical_model`, so
two sources meet on one Model node whose uid is the canonical name. An alias names
exactly one model: `EleutherAI/pythia-70m-deduped` is another model, not `pythia-70m`.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BeforeValidator


@cache
def _catalog() -> tuple[dict[str, str], frozenset[str]]:
    data = json.loads(resources.files(__package__).joinpath("known_models.json").read_text())
    return dict(data.get("aliases", {})), frozenset(m["name"] for m in data["models"])


def canonical_model(name: Any) -> Any:
    """The canonical name of a model given by any of its names; other values unchanged."""
    if not isinstance(name, str):
        return name
    return _catalog()[0].get(name.strip(), name)


def near_matches(name: str, others: list[str] = ()) -> list[str]:
    """Names a mistyped model name may have meant: known models, aliases, and `others`."""
    aliases, known = _catalog()
    return difflib.get_close_matches(name, sorted({*known, *aliases, *others}), n=4, cutoff=0.6)


ModelName = Annotated[str, BeforeValidator(canonical_model)]
"""A model name field: an alias is replaced by the canonical name before validation."""
