"""An index of dictionary features' evidence, derived by the planner: edges from each
feature to the tokens of its evidence, `PROMOTES` and `SUPPRESSES` (its top logits, one
edge per analysis and token) and `PEAKS_ON` (the token at each activation example's
maximum, one per example); and from each explanation to the words of its text,
`USES_WORD {count}`; and where an explanation fact carries an embedding of the text,
`EMBEDDED_AS {analysis}` to an `ExplanationEmbedding` node holding it.

They are not knowledge: everything they hold is in the fact or explanation they come
from, and they go and come with it (an import rebuilds them and refuses a file's own).
They make "features that promote this token" or "whose explanations use this word" a
walk from a shared `Token` or `Word` node, so `similar` finds a feature's candidates
without reading every feature's evidence (queries/feature_matches.py).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Generator, Iterable, Iterator
from typing import Any, TypeVar

from ..schema.evidence import LOGIT_SIDES, logit_weights
from ..schema.graph import NodeLabel, RelType, token_uid
from ..schema.records import NodeRecord, NodeRef, RelRecord, derived_rel, node, ref
from ..schema.text import decoded_token, explanation_words
from ..schema.uids import ComponentKind, UidError, parse_component

R = TypeVar("R")


def with_evidence_index(records: Iterable[R]) -> Iterator[R | NodeRecord | RelRecord]:
    """`records`, each evidence fact of a dictionary feature followed by its token edges,
    each explanation by its word edges; each `Token` and `Word` node once, before the
    first edge to it (the plan would merge repeats, but making each again cost more than
    the edges)."""
    seen: set[str] = set()
    for record in records:
        yield record
        if isinstance(record, NodeRecord) and record.label is NodeLabel.EXPLANATION:
            yield from _word_edges(record, seen)
        elif isinstance(record, RelRecord) and record.start.label is NodeLabel.FEATURE:
            if record.type is RelType.HAS_EVIDENCE:
                yield from _logit_edges(record, seen)
            elif record.type is RelType.HAS_EXAMPLE:
                yield from _peak_edge(record, seen)
            elif record.type is RelType.EXPLAINED_BY:
                yield from _embedding(record)


def _logit_edges(fact: RelRecord, seen: set[str]) -> Iterator[NodeRecord | RelRecord]:
    analysis = fact.props.get("analysis")
    for type_, (tokens, values, sign) in LOGIT_SIDES.items():
        weights = logit_weights(fact.props.get(tokens), fact.props.get(values), sign)
        # the side's total weight, a lower bound of the feature's (sys.float_info.max
        # where finite weights add up past it)
        total = min(sum(weights.values()), sys.float_info.max)
        for text, weight in weights.items():
            props = {"analysis": analysis, "weight": weight, "total": total}
            end = yield from _token(text, seen)
            yield derived_rel(type_, fact.start, end, fact.origin, props)


def _peak_edge(example: RelRecord, seen: set[str]) -> Iterator[NodeRecord | RelRecord]:
    props = example.props
    tokens, index, value = props.get("tokens"), props.get("max_index"), props.get("max_value")
    if not (isinstance(tokens, list) and type(index) is int and 0 <= index < len(tokens)):
        return
    if not isinstance(tokens[index], str) or not isinstance(value, (int, float)):
        return
    end = yield from _token(decoded_token(tokens[index]), seen)
    edge = {
        "analysis": props.get("analysis"),
        "example": props.get("example"),
        "weight": float(value),
    }
    yield derived_rel(RelType.PEAKS_ON, example.start, end, example.origin, edge)


def _embedding(fact: RelRecord) -> Iterator[NodeRecord | RelRecord]:
    """An analysis's embedding of an explanation's text (its `embedding`, numbers the
    source checked), as a node of its own the vector index covers: one per explanation
    and analysis, so that two analyses embedding one text never overwrite each other."""
    values, analysis = fact.props.get("embedding"), fact.props.get("analysis")
    if not isinstance(values, list) or not values or not isinstance(analysis, str):
        return
    key = embedding_key(fact.end.key, analysis)
    model = parse_component(fact.start.key).model
    numbers = [float(v) for v in values]
    yield node(NodeLabel.EMBEDDING, key, origin=fact.origin, model=model, values=numbers)
    props = {"analysis": analysis}
    yield derived_rel(
        RelType.EMBEDDED_AS, fact.end, ref(NodeLabel.EMBEDDING, key), fact.origin, props
    )


def embedding_key(explanation: str, analysis: str) -> str:
    """The key of an analysis's embedding of an explanation: the explanation's key and a
    hash of the analysis's uid (EMBEDDED_AS names the analysis)."""
    return f"{explanation}@{hashlib.sha256(analysis.encode()).hexdigest()[:16]}"


def _word_edges(explanation: NodeRecord, seen: set[str]) -> Iterator[NodeRecord | RelRecord]:
    """The words of a dictionary feature's explanation (those `similar` compares)."""
    text, component = explanation.props.get("text"), explanation.props.get("component")
    if not isinstance(text, str) or not _is_feature(component):
        return
    start = ref(NodeLabel.EXPLANATION, explanation.key)
    for word, count in sorted(explanation_words(text).items()):
        end = ref(NodeLabel.WORD, word)
        if f"w{word}" not in seen:
            seen.add(f"w{word}")
            yield node(NodeLabel.WORD, word)
        yield derived_rel(RelType.USES_WORD, start, end, explanation.origin, {"count": count})


def _is_feature(uid: Any) -> bool:
    try:
        return isinstance(uid, str) and parse_component(uid).kind is ComponentKind.FEATURE
    except UidError:
        return False


def _token(text: str, seen: set[str]) -> Generator[NodeRecord, None, NodeRef]:
    """The `Token` node of `text` the first time (yielded), and its ref (returned)."""
    token = node(NodeLabel.TOKEN, token_uid(text), text=text) if f"t{text}" not in seen else None
    if token is not None:
        seen.add(f"t{text}")
        yield token
        return token.ref
    return ref(NodeLabel.TOKEN, token_uid(text))
