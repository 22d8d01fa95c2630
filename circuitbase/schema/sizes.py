"""How big a model is, to order models from the smallest (figures, tables, `similar`)."""

from __future__ import annotations

import math
import re
from typing import Any

_SIZE_IN_NAME = re.compile(r"(\d+(?:\.\d+)?)([mb])\b", re.IGNORECASE)


def model_size(name: str, props: dict[str, Any] | None = None) -> float:
    """A model's parameter count: stored, else 12·layers·d_model² from its shape, else
    read from its name (`pythia-410m`), else unknown (infinite: such models go last)."""
    props = props or {}
    if props.get("n_params"):
        return float(props["n_params"])
    if props.get("n_layers") and props.get("d_model"):
        return 12.0 * props["n_layers"] * props["d_model"] ** 2
    if (found := _SIZE_IN_NAME.search(name)) is not None:
        return float(found.group(1)) * (1e6 if found.group(2).lower() == "m" else 1e9)
    return math.inf
