"""Shapes of widely studied models, shipped with the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from .nodes import ModelSpec


@cache
def known_models() -> dict[str, ModelSpec]:
    text = resources.files(__package__).joinpath("known_models.json").read_text()
    return {m["name"]: ModelSpec.model_validate(m) for m in json.loads(text)["models"]}


def known_model(name: str) -> ModelSpec | None:
    return known_models().get(name)
