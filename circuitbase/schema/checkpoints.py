"""Training checkpoints: a model at a revision of its training run.

A checkpoint is a model of its own, named `<model>@<revision>` after the Hugging Face
revision it is published under (`pythia-6.9b@step1000`,
`OLMo-2-1124-7B@stage1-step1000-tokens5B`), of the same shape as its final model, and
linked to it by `(:Model)-[:CHECKPOINT_OF {step, tokens}]->(:Model)`. Where its position
in training is in the revision's name, it is read from there:

* Pythia: `stepN`, and 2,097,152 tokens a step (1,024 sequences of 2,048 tokens);
* OLMo: `stageK-stepN-tokensXB`, tokens as the name rounds them (`tokens5B` is
  5,000,000,000 though step 1,000 saw about 4.2B): the name's figure, not a count;
* any other model's `stepN`: its step; its tokens only when given.

Anything else (OLMo's stage-2 ingredients and soups, a branch name) needs its step
given (`circuitbase model add NAME@REV --step N --tokens T`); a position the name says
cannot be overridden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UidError

# What a name may hold after `@`: a Hugging Face revision without '/' (a branch or tag
# name; '/' separates a uid's parts).
REVISION = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_REVISION = re.compile(REVISION, re.ASCII)
PYTHIA_TOKENS_PER_STEP = 2_097_152
_STEP = re.compile(r"step(?P<step>\d{1,12})", re.ASCII)
_OLMO = re.compile(
    r"stage(?P<stage>\d{1,3})-step(?P<step>\d{1,12})-tokens(?P<tokens>\d{1,9})(?P<unit>[KMBT])",
    re.ASCII,
)
_UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


@dataclass(frozen=True, slots=True)
class TrainingPosition:
    """Where in its training run a checkpoint is: what the name says, or what was given."""

    step: int
    tokens: int | None = None
    stage: int | None = None


def split_checkpoint(name: str) -> tuple[str, str | None]:
    """(final model, revision) of `name`; the revision is None for a final model."""
    final, at, revision = name.partition("@")
    return (final, revision) if at else (name, None)


def checkpoint_name(model: str, revision: str | None) -> str:
    """`model@revision` (the model itself when `revision` is None)."""
    return model if revision is None else f"{model}@{revision}"


def with_revision(name: str, revision: str | None) -> str:
    """`name` at `revision` (a `--revision` option beside a name); UidError if the name
    already names another revision, or the revision is no hub revision name."""
    if revision is None:
        return name
    final, given = split_checkpoint(name)
    if given is not None and given != revision:
        raise UidError(f"{name!r} names revision {given!r}, not --revision {revision!r}")
    return checkpoint_name(final, check_revision(revision))


def check_revision(revision: str) -> str:
    """A revision a checkpoint's name can hold; UidError naming the rule otherwise."""
    if not isinstance(revision, str) or not _REVISION.fullmatch(revision):
        raise UidError(
            f"revision {revision!r} is not valid: letters, digits, '.', '_' or '-' (at most "
            "100 characters, no '/'), e.g. step1000 or stage1-step1000-tokens5B"
        )
    return revision


def is_checkpoint(name: str) -> bool:
    return "@" in name


def position_from_name(model: str, revision: str) -> TrainingPosition | None:
    """The step (and tokens, stage) a revision's name says, by the naming of Pythia and
    OLMo; None when it says nothing."""
    if olmo := _OLMO.fullmatch(revision):
        return TrainingPosition(
            step=int(olmo["step"]),
            tokens=int(olmo["tokens"]) * _UNITS[olmo["unit"]],
            stage=int(olmo["stage"]),
        )
    if plain := _STEP.fullmatch(revision):
        step = int(plain["step"])
        pythia = model.lower().startswith("pythia-")
        return TrainingPosition(step=step, tokens=step * PYTHIA_TOKENS_PER_STEP if pythia else None)
    return None


def training_position(
    model: str, revision: str, step: int | None = None, tokens: int | None = None
) -> TrainingPosition:
    """The checkpoint's position: the name's, else what was given; ValueError when the
    name says nothing and no step is given, or when what is given contradicts the name."""
    named = position_from_name(model, revision)
    if named is None:
        if step is None:
            raise ValueError(
                f"the revision {revision!r} does not say its training step: give it "
                f"(`circuitbase model add {model}@{revision} --step N --tokens T`)"
            )
        return TrainingPosition(step=step, tokens=tokens)
    for what, given, said in (("step", step, named.step), ("tokens", tokens, named.tokens)):
        if given is not None and said is not None and given != said:
            raise ValueError(f"the revision {revision!r} says {what} {said:,}, not {given:,}")
    return TrainingPosition(
        step=named.step,
        tokens=named.tokens if named.tokens is not None else tokens,
        stage=named.stage,
    )
