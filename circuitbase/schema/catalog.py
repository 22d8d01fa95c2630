"""Shapes of widely studied models, shipped with the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from .checkpoints import split_checkpoint
from .nodes import ModelSpec


@cache
def known_models() -> dict[str, ModelSpec]:
    text = resources.files(__package__).joinpath("known_models.json").read_text()
    return {m["name"]: ModelSpec.model_validate(m) for m in json.loads(text)["models"]}


def known_model(name: str) -> ModelSpec | None:
    """A known model's shape; a checkpoint of one (`pythia-70m@step1000`) has its final
    model's shape, and is known when its revision says its step."""
    final, revision = split_checkpoint(name)
    spec = known_models().get(final)
    if spec is None or revision is None:
        return spec
    try:
        return spec.at_checkpoint(revision)
    except ValueError:
        return None
