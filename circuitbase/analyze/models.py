"""Load a TransformerLens model from a local checkpoint, or by name where a hub is reachable."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..schema.checkpoints import position_from_name, split_checkpoint
from ..schema.nodes import ModelSpec
from ..schema.records import RecordError
from ..settings import https_proxy, hub_endpoint

HUB_PROBE_S = 3.0  # seconds to wait for a connection to the Hugging Face hub


def require_analysis_extra() -> None:
    try:
        import torch  # noqa: F401
        import transformer_lens  # noqa: F401
    except ImportError as err:
        raise RecordError(
            f"this analysis needs the [analysis] extra (pip install 'circuitbase[analysis]'): {err}"
        ) from None


def _plain(value: Any) -> Any:
    """Config values as torch's safe loader reads them: numpy scalars become Python ones."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def save_checkpoint(model: Any, path: Path) -> None:
    """Save a HookedTransformer as {cfg, state_dict}: what `load_model` reads back."""
    import torch

    torch.save({"cfg": _plain(model.cfg.to_dict()), "state_dict": model.state_dict()}, path)


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> str:
    """`auto` is a CUDA GPU where there is one, else the CPU."""
    import torch

    if device not in DEVICES:
        raise RecordError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RecordError("--device cuda, but torch sees no CUDA GPU here (try --device auto)")
    return device


def load_model(name: str, checkpoint: Path | None = None, device: str = "cpu") -> Any:
    """A HookedTransformer from `checkpoint`, else `HookedTransformer.from_pretrained(name)`
    (a training checkpoint `model@stepN` at `checkpoint_value=N`), on `device` (`auto`: a
    GPU where there is one)."""
    require_analysis_extra()
    device = resolve_device(device)
    import torch
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    if checkpoint is not None:
        try:
            # weights_only: a pickle may run code as it loads; a {cfg, state_dict} file
            # needs nothing but tensors and plain values, so nothing else is accepted.
            saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises UnpicklingError, RuntimeError, ... here
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            reason = next(
                (line for line in lines if "Unsupported global" in line),
                lines[0] if lines else type(err).__name__,
            )
            raise RecordError(
                f"refused: not a plain {{cfg, state_dict}} checkpoint, and "
                f"loading it could run code ({reason[:200]})",
                file=str(checkpoint),
            ) from None
        try:
            cfg = HookedTransformerConfig.from_dict(saved["cfg"])
            model = HookedTransformer(cfg)
            model.load_state_dict(saved["state_dict"])
        except (OSError, KeyError, RuntimeError, TypeError, ValueError) as err:
            raise RecordError(
                f"not a circuitbase model checkpoint ({{cfg, state_dict}}): {err}",
                file=str(checkpoint),
            ) from None
        return model.to(device, print_details=False).eval()
    final, revision = split_checkpoint(name)
    at: dict[str, Any] = {}
    if revision is not None:
        position = position_from_name(final, revision)
        if position is None:
            raise RecordError(
                f"{name}: TransformerLens loads a checkpoint by its step, and the revision "
                f"{revision!r} does not say it; give --checkpoint with the saved model"
            )
        at["checkpoint_value"] = position.step
    _check_hub_or_cache(final)
    try:
        return HookedTransformer.from_pretrained(final, device=device, **at).eval()
    except Exception as err:  # from_pretrained raises many kinds when weights are unreachable
        raise RecordError(
            f"could not load {name!r} with TransformerLens ({err}); "
            "give --checkpoint with a saved model instead"
        ) from None


def hub_reachable(timeout: float = HUB_PROBE_S) -> bool:
    """Whether a connection to the Hugging Face hub (or the proxy on the way to it) opens
    within `timeout`: seconds, where the hub's own client would retry for a minute."""
    endpoint = hub_endpoint()
    via = https_proxy() or endpoint
    target = urlsplit(via if "://" in via else f"http://{via}")
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        socket.create_connection((target.hostname or "", port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _check_hub_or_cache(name: str) -> None:
    """Before TransformerLens asks the hub for `name`: when the hub cannot be reached and
    the model is not in the local cache, say so at once (and load a cached one offline)."""
    from huggingface_hub import constants, try_to_load_from_cache

    if constants.HF_HUB_OFFLINE or hub_reachable():
        return
    from transformer_lens.loading_from_pretrained import get_official_model_name

    try:
        repo = get_official_model_name(name)
    except ValueError as err:
        raise RecordError(
            f"{name!r} is no TransformerLens model ({err}); give --checkpoint with a saved model"
        ) from None
    if not isinstance(try_to_load_from_cache(repo, "config.json"), str):
        host = urlsplit(hub_endpoint()).hostname
        raise RecordError(
            f"the Hugging Face hub ({host}) cannot be reached from this machine "
            f"and {repo} is not in its local cache; give --checkpoint with a saved "
            "model, or run where the hub is reachable"
        )
    constants.HF_HUB_OFFLINE = True  # cached: load it without a minute of retries
    os.environ["HF_HUB_OFFLINE"] = "1"


def spec_of(model: Any, name: str) -> ModelSpec:
    """The ModelSpec of a loaded model, under the name it has in the graph."""
    return ModelSpec.from_tl_config(
        {**model.cfg.to_dict(), "model_name": name, "n_params": model.cfg.n_params}
    )
