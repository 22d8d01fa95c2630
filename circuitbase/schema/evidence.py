"""The evidence a researcher reads before believing a finding about a component, stored so
that millions of features stay possible: no node per token or per example.

    (c:Component)-[:HAS_EVIDENCE {analysis, frac_nonzero, pos_str, pos_values, neg_str,
                                  neg_values, ...every other field of the source}]->(:Analysis)
    (c)-[:HAS_EXAMPLE {analysis, example, tokens, values, max_value, max_index, ...}]->(:Analysis)
    (c)-[:EXPLAINED_BY {analysis, method, explainer, score, ...}]->(:Explanation {text})

One component's evidence is its relationships of these three types, read with the rest of
what `show` reads in one query. Fields keep the names their source gives them (Neuronpedia's
`frac_nonzero`, `pos_str`, ...); a few are added under names of circuitbase's own so that
every source reads alike: an example's `max_value` and `max_index` (where the maximum is)
and `min_value`. An explanation's text is a node, the one thing the full-text index can
search; analyses that give the same text for the same component share it.

Limits (the 200-character limit of names does not apply here): a token is at most 1,000
characters, an example at most 4,096 tokens, an explanation at most 10,000 characters,
a list of logits or a histogram at most 100,000 values.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .graph import NodeLabel, RelType
from .records import NodeRecord, check_text, check_texts, node
from .relationships import Fact
from .text import decoded_token

MAX_TOKEN_CHARS = 1_000
MAX_EXAMPLE_TOKENS = 4_096
MAX_EXPLANATION_CHARS = 10_000
MAX_LIST = 100_000


def _free_tokens(tokens: list[str], field: str) -> list[str]:
    """Tokens a store can hold: each at most MAX_TOKEN_CHARS, free text (checked whole,
    then one by one only where the whole fails, to name the token)."""
    if not tokens or (
        max(map(len, tokens)) <= MAX_TOKEN_CHARS
        and check_texts(tokens, field, free=True) is not None
    ):
        return tokens
    for i, token in enumerate(tokens):
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError(
                f"{field}[{i}] is {len(token):,} characters; a token is at most {MAX_TOKEN_CHARS:,}"
            )
        check_text(token, f"{field}[{i}]", free=True)
    return tokens


class Evidence(Fact):
    """What an analysis measured about a component as a whole: how often it fires, the
    tokens it promotes (`pos_str`, `pos_values`) and suppresses (`neg_str`, `neg_values`),
    and every other field of the source (histograms, correlated neurons, ...)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    TYPE: ClassVar[RelType] = RelType.HAS_EVIDENCE
    frac_nonzero: float | None = Field(default=None, ge=0.0, le=1.0)
    pos_str: list[str] = Field(default=[], max_length=MAX_LIST)
    pos_values: list[float] = Field(default=[], max_length=MAX_LIST)
    neg_str: list[str] = Field(default=[], max_length=MAX_LIST)
    neg_values: list[float] = Field(default=[], max_length=MAX_LIST)

    @field_validator("pos_str", "neg_str")
    @classmethod
    def _tokens(cls, tokens: list[str], info: Any) -> list[str]:
        return _free_tokens(tokens, info.field_name)

    @model_validator(mode="after")
    def _paired(self) -> Evidence:
        for side in ("pos", "neg"):
            if len(getattr(self, f"{side}_str")) != len(getattr(self, f"{side}_values")):
                raise ValueError(f"{side}_str and {side}_values differ in length")
        for name, value in (self.model_extra or {}).items():
            if isinstance(value, list) and len(value) > MAX_LIST:
                raise ValueError(f"{name} holds {len(value):,} values; at most {MAX_LIST:,}")
        return self


_MAXIMUM = ("max_value", "max_index", "min_value")  # where an example peaks, and its least


class Example(Fact):
    """One activation example: its tokens, the component's value at each, where the
    maximum is, and every other field of the source (quantile bin, DFA values, ...)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    TYPE: ClassVar[RelType] = RelType.HAS_EXAMPLE
    example: str = Field(min_length=1, max_length=200)
    tokens: list[str] = Field(min_length=1, max_length=MAX_EXAMPLE_TOKENS)
    values: list[float]
    max_value: float
    max_index: int = Field(ge=0)
    min_value: float

    @field_validator("tokens")
    @classmethod
    def _tokens(cls, tokens: list[str]) -> list[str]:
        return _free_tokens(tokens, "tokens")

    @model_validator(mode="before")
    @classmethod
    def _derive_maximum(cls, data: Any) -> Any:
        """`max_value`, `max_index`, `min_value` from `values` where the source leaves them
        out (SAEDashboard's upload JSON does; Neuronpedia's export gives them)."""
        if (
            isinstance(data, dict)
            and not all(name in data for name in _MAXIMUM)  # Neuronpedia's are kept
            and isinstance(values := data.get("values"), list)
            and values
            and set(map(type, values)) <= {int, float}  # C-level passes: 128 values an example
        ):
            top = values.index(highest := max(values))  # the first of equal maxima
            data = {"max_value": highest, "max_index": top, "min_value": min(values), **data}
        return data

    @model_validator(mode="after")
    def _aligned(self) -> Example:
        if len(self.values) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.values)} values")
        if self.max_index >= len(self.tokens):
            raise ValueError(
                f"the maximum is at token {self.max_index}, past the {len(self.tokens)} tokens"
            )
        return self


class ExplainedBy(Fact):
    """An analysis's explanation of a component: how it was made (`method`, e.g.
    Neuronpedia's `oai_token-act-pair`), by which model (`explainer`), its score."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    TYPE: ClassVar[RelType] = RelType.EXPLAINED_BY
    explanation: str | None = Field(default=None, max_length=200)  # the source's id for it
    method: str | None = Field(default=None, max_length=200)
    explainer: str | None = Field(default=None, max_length=200)
    score: float | None = None


class Explanation(BaseModel):
    """An explanation's text, for one component: its key is a hash of both, so the same
    words from two analyses are one node (each analysis's EXPLAINED_BY cites it)."""

    model_config = ConfigDict(extra="forbid")
    component: str
    text: str = Field(min_length=1, max_length=MAX_EXPLANATION_CHARS)

    @field_validator("text")
    @classmethod
    def _storable(cls, text: str) -> str:
        return check_text(text, "text", free=True)

    @property
    def uid(self) -> str:
        digest = hashlib.sha256(f"{self.component}\0{self.text}".encode()).hexdigest()
        return f"explanation:{digest[:32]}"

    def record(self) -> NodeRecord:
        return node(NodeLabel.EXPLANATION, self.uid, text=self.text, component=self.component)


EVIDENCE_TYPES = frozenset(
    {RelType.HAS_EVIDENCE.value, RelType.HAS_EXAMPLE.value, RelType.EXPLAINED_BY.value}
)


# the side of a feature's logits each edge type indexes: its tokens, its values, the sign
# that makes a value a positive weight
LOGIT_SIDES = {
    RelType.PROMOTES: ("pos_str", "pos_values", 1.0),
    RelType.SUPPRESSES: ("neg_str", "neg_values", -1.0),
}


def logit_weights(tokens: Any, values: Any, sign: float) -> dict[str, float]:
    """A side of a feature's logits as token text -> positive weight (the value, negated
    for suppressed logits), the larger where two tokens decode to one text."""
    found: dict[str, float] = {}
    if not isinstance(tokens, list) or not isinstance(values, list):
        return found
    for token, value in zip(tokens, values):
        if isinstance(token, str) and isinstance(value, (int, float)):
            text = decoded_token(token)
            weight = sign * float(value)
            if weight > 0 and weight > found.get(text, 0.0):
                found[text] = weight
    return found
