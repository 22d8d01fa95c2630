"""Other names of the known models (Hugging Face ids, TransformerLens's short names).

The same model is `gpt2-small` in TransformerLens and Neuronpedia, `gpt2` or
`openai-community/gpt2` on the Hugging Face hub; every place a model name comes in
(files, command options, template parameters, uids) goes through `canonical_model`, so
two sources meet on one Model node whose uid is the canonical name. An alias names
exactly one model: `EleutherAI/pythia-70m-deduped` is another model, not `pythia-70m`.

A user adds names of their own in a JSON file `{"alias": "canonical name", ...}` named by
$CIRCUITBASE_ALIASES; a shipped alias cannot be redefined there.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import RecordError
from ..settings import aliases_file
from .checkpoints import checkpoint_name, split_checkpoint

ALIASES_ENV = "CIRCUITBASE_ALIASES"
# the revision whose files are being read (`ingest ... --revision REV`): every model name
# a file gives without one names that checkpoint (sources/formats.py sets it per record)
_READING_REVISION: ContextVar[str | None] = ContextVar("reading_revision", default=None)


@contextmanager
def reading_checkpoint(revision: str | None) -> Iterator[None]:
    """While a file of a checkpoint's is read: `gpt2-small` in it means `gpt2-small@REV`."""
    token = _READING_REVISION.set(revision)
    try:
        yield
    finally:
        _READING_REVISION.reset(token)


def revision_being_read() -> str | None:
    return _READING_REVISION.get()


@cache
def _catalog() -> tuple[dict[str, str], frozenset[str]]:
    data = json.loads(resources.files(__package__).joinpath("known_models.json").read_text())
    return dict(data.get("aliases", {})), frozenset(m["name"] for m in data["models"])


@cache
def _user_aliases(path: str) -> dict[str, str]:
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f"cannot read the model aliases: {err}", file=path) from None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise RecordError('model aliases are {"alias": "canonical name", ...}', file=path)
    shipped, models = _catalog()
    clash = sorted(k for k, v in found.items() if k in shipped and shipped[k] != v)
    if clash:
        raise RecordError(f"{', '.join(clash)} already name(s) another model", file=path)
    # an alias that is itself a model's name would merge two models' components
    taken = sorted(k for k, v in found.items() if k.strip() in models and k.strip() != v)
    if taken:
        raise RecordError(
            f"{taken[0]!r} is the name of a known model, so it cannot be an "
            f"alias of {found[taken[0]]!r}",
            file=path,
            record=taken[0],
        )
    return found


def check_aliases_against(stored_models: Iterable[str]) -> None:
    """Refuse the user's aliases if one is the name of a model the store holds: every
    record of that model would be written to the other one (checked where a store is
    known, before its first write)."""
    path = aliases_file()
    if not path:
        return
    found = _user_aliases(path)
    taken = sorted(name for name in stored_models if name in found and found[name] != name)
    if taken:
        raise RecordError(
            f"{taken[0]!r} is a model in this store, so it cannot be an alias of "
            f"{found[taken[0]]!r}",
            file=path,
            record=taken[0],
        )


def aliases() -> dict[str, str]:
    """Every alias: the shipped ones and the user's ($CIRCUITBASE_ALIASES)."""
    path = aliases_file()
    return {**_catalog()[0], **(_user_aliases(path) if path else {})}


def canonical_model(name: Any, *, shipped_only: bool = False) -> Any:
    """The canonical name of a model given by any of its names; other values unchanged.

    A Hugging Face id that is no alias (`google/gemma-2-2b`) names the model after the
    organisation (`gemma-2-2b`): a model name cannot hold '/', which separates a uid's parts.
    A checkpoint's name is its model's canonical name and its revision (`model@revision`).
    `shipped_only` ignores the user's aliases (what a name means without them)."""
    if not isinstance(name, str):
        return name
    model, revision = split_checkpoint(name.strip())
    if revision is not None:  # a checkpoint (`EleutherAI/pythia-70m@step1000`)
        return checkpoint_name(_final_model(model, shipped_only), revision)
    return checkpoint_name(_final_model(name, shipped_only), _READING_REVISION.get())


def _final_model(name: str, shipped_only: bool) -> str:
    table = _catalog()[0] if shipped_only else aliases()
    if name.strip() in table:
        return table[name.strip()]
    organisation, slash, rest = name.strip().partition("/")
    if slash and organisation and rest and "/" not in rest:
        return table.get(rest, rest)
    return name


def near_matches(name: str, others: Sequence[str] = ()) -> list[str]:
    """Names a mistyped model name may have meant: known models, aliases, and `others`."""
    known = _catalog()[1]
    return difflib.get_close_matches(name, sorted({*known, *aliases(), *others}), n=4, cutoff=0.6)
