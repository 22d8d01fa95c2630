"""What `similar` answers with: a match and its evidence, and the metrics it offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema.graph import DECODER_METRIC, SIMILARITY_METRICS

HEAD_ROLES = "head-roles"
HEAD_IDENTITY = "head-identity"
HEAD_METRICS = (HEAD_ROLES, HEAD_IDENTITY)
PROBE_CONCEPTS = "probe-concepts"
# dictionary features, by their evidence: the tokens their logits promote, those they
# suppress, the tokens their activation examples peak on
LOGIT_PROFILE = "logit-profile"
SUPPRESSED_LOGITS = "suppressed-logits"
ACTIVATION_TOKENS = "activation-tokens"
EXPLANATION = "explanation"
# ... the meaning of their explanations: the cosine of the embeddings a source gives of
# the texts (Neuronpedia's 256 numbers), through the vector index
EXPLANATION_EMBEDDING = "explanation-embedding"
# ... and the direction each writes to the residual stream: its decoder row, stored as its
# vector (an SAELens SAE's W_dec, `ingest vectors`), compared within its own model
DECODER = DECODER_METRIC  # also stored: a source's nearest directions (Neuronpedia's)
FEATURE_METRICS = (
    LOGIT_PROFILE,
    SUPPRESSED_LOGITS,
    ACTIVATION_TOKENS,
    EXPLANATION,
    EXPLANATION_EMBEDDING,
    DECODER,
)
MAX_DECODER_NEIGHBOURS = 1_000  # nearest directions read from the vector index at most
LIVE_METRICS = (*HEAD_METRICS, PROBE_CONCEPTS, *FEATURE_METRICS)
# how often a feature fires (`frac_nonzero`) outside which it is left out of matches:
# never (dead) or on more than a tenth of tokens (dense), as SAE dashboards flag them
DENSE = 0.1
# the head measurements on one scale in every model: fractions of attention, in [0, 1]
ROLE_FRACTIONS = ("induction_score", "prev_token_score", "self_attention_score")
# every per-head metric known to be a fraction of attention paid to one target, on one
# scale in every model and checkpoint: Neuronpedia's three, and the dual-route induction
# scores (attention to the token after an earlier copy, to the end of an earlier word)
ATTENTION_FRACTIONS = (*ROLE_FRACTIONS, "next_tok_attn", "end_tok_attn")
STORED_METRICS = (*SIMILARITY_METRICS, "activation-correlation", DECODER)
METRICS = tuple(dict.fromkeys((*STORED_METRICS, *LIVE_METRICS)))
MIN_PROBE_SCORE = 0.0  # every probe counts, by its score (a weak probe weighs little)
TIE = 1e-12  # profiles are stored to 12 decimals: closer than this is a tie
STORED_PER_MODEL_TOP = 1000  # stored matches read when the best of each model is asked for


@dataclass
class Match:
    """One component of another model like the asked one, and why."""

    uid: str
    model: str
    score: float
    metric: str
    source: str  # "live" or "stored"
    analyses: list[str]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    layer: int | None = None
    relative_depth: float | None = None
    params: str | None = None  # a stored match's analysis parameters (JSON text)

    def row(self) -> dict[str, Any]:
        return {
            "match": self.uid,
            "model": self.model,
            "layer": self.layer,
            "relative_depth": self.relative_depth,
            "score": self.score,
            "metric": self.metric,
            "source": self.source,
            "analysis": ", ".join(self.analyses),
            "params": self.params,
            "evidence": self.evidence,
        }
