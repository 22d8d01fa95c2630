"""Adapter for circuits: a task's output nodes (with effects and categories) and edges.

Reads circuitbase's interchange JSON (`circuitbase schema export circuit-json`) and
the canonical circuits of the ACDC repository (ArthurConmy/Automatic-Circuit-Discovery,
`acdc/ioi/utils.py`, `acdc/greaterthan/utils.py`, as extracted to JSON): groups of
heads (`[layer, head]`) and MLPs (`[layer, null]`) and the connections between groups.
For those, members of groups that write to the output become output nodes of the task,
categorised by group; every connection becomes circuit edges between the groups'
members; and IOI's named head classes also become head roles.

    (:Component)-[:OUTPUT_NODE {direct_effect, total_effect, metric, category, rank,
                                analysis}]->(:Task)
    (:Component)-[:CIRCUIT_EDGE {weight, qkv, analysis}]->(:Component)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema.graph import NodeLabel
from ..schema.interchange import CircuitFile
from ..schema.nodes import Analysis, HeadRole, Task, content_hash
from ..schema.records import NodeRecord, NodeRef, RecordError, RelRecord, ref
from ..schema.relationships import CircuitEdge, HasRole, OutputNode
from ..schema.uids import ComponentKind, ComponentUid, UidError, parse_component
from .attribution import attribution_records, is_attribution_graph
from .files import parse_json, read_bytes, validate
from .formats import Format, Option, analysis_option

Records = list[NodeRecord | RelRecord]
ACDC_CITATION = (
    "Conmy et al. Towards Automated Circuit Discovery for Mechanistic "
    "Interpretability. arXiv:2304.14997"
)
# IOI's head classes under the names the IOI paper gives them, hyphenated like the
# TransformerLens detector's roles so that "previous-token" found either way is one role.
IOI_ROLES = {
    "name mover": "name-mover",
    "backup name mover": "backup-name-mover",
    "negative": "negative-name-mover",
    "s2 inhibition": "s-inhibition",
    "induction": "induction",
    "duplicate token": "duplicate-token",
    "previous token": "previous-token",
}


def _component(text: str, model: str, path: Path, where: str) -> NodeRef:
    try:
        uid = parse_component(text, model=model)
    except UidError as err:
        raise RecordError(str(err), file=str(path), record=where, field="component") from None
    return ref(NodeLabel.of(uid.kind), str(uid))


def circuit_file_records(path: Path, data: Any, digest: str, analysis_uid: str | None) -> Records:
    parsed = validate(CircuitFile, data, file=path, record="the file")
    analysis = parsed.analysis.analysis(
        kind="circuit",
        models=[parsed.model],
        content_hash=digest,
        default_uid=f"circuit/{parsed.model}/{parsed.task.name}",
        default_method="circuit analysis",
        uid=analysis_uid,
    )
    task = Task(name=parsed.task.name, description=parsed.task.description)
    records = [*analysis.records(), task.record()]
    for i, node in enumerate(parsed.output_nodes):
        where = f"output_nodes[{i}]"
        fact = OutputNode(
            analysis=analysis.uid,
            direct_effect=node.direct_effect,
            total_effect=node.total_effect,
            metric=parsed.metric,
            category=node.category,
            rank=node.rank if node.rank is not None else i,
        )
        records.append(
            fact.record(
                _component(node.component, parsed.model, path, where),
                ref(NodeLabel.TASK, task.name),
            ).at(f"{path}, {where}")
        )
    for i, edge in enumerate(parsed.edges):
        where = f"edges[{i}]"
        edge_fact = CircuitEdge(analysis=analysis.uid, weight=edge.weight, qkv=edge.qkv)
        records.append(
            edge_fact.record(
                _component(edge.source, parsed.model, path, where),
                _component(edge.target, parsed.model, path, where),
            ).at(f"{path}, {where}")
        )
    return records


def _acdc_member(model: str, member: Any, path: Path, where: str) -> NodeRef:
    if not (
        isinstance(member, list)
        and len(member) == 2
        and isinstance(member[0], int)
        and (member[1] is None or isinstance(member[1], int))
    ):
        raise RecordError(
            f"a group member is [layer, head] or [layer, null], got {member!r}",
            file=str(path),
            record=where,
        )
    kind = ComponentKind.MLP if member[1] is None else ComponentKind.HEAD
    uid = ComponentUid(model, member[0], kind, member[1])
    return ref(NodeLabel.of(kind), str(uid))


def acdc_records(path: Path, data: dict[str, Any], digest: str) -> Records:
    """The canonical circuits of the ACDC repository: one analysis per task, its output
    groups as output nodes, IOI's classes as head roles, and the groups' connections."""
    records: Records = []
    for task_name, circuit in data.items():
        if isinstance(circuit, dict) and "group_connections" in circuit:
            records += _acdc_circuit(path, task_name, circuit, digest)
    if not records:
        raise RecordError("no circuit with group_connections in this file", file=str(path))
    return records


@dataclass
class _AcdcCircuit:
    """One task's circuit as it is read: its analysis, its groups' members (component
    references), and where each group is in the file (for errors)."""

    analysis: Analysis
    task: str
    members: dict[str, list[NodeRef]]
    origin: dict[str, str]


def _acdc_circuit(path: Path, task_name: str, circuit: dict[str, Any], digest: str) -> Records:
    model = str(circuit.get("model", "")).split(" ")[0]
    groups = circuit.get("head_groups") or circuit.get("groups") or {}
    analysis = Analysis(
        uid=f"acdc-canonical/{model}/{task_name}",
        kind="circuit",
        method="canonical circuit of the ACDC repository",
        models=[model],
        citation=f"{circuit.get('paper', '')}; via {ACDC_CITATION}".strip("; "),
        content_hash=digest,
    )
    read = _AcdcCircuit(
        analysis,
        task_name,
        members={
            name: [_acdc_member(model, m, path, f"{task_name}.{name}") for m in group]
            for name, group in groups.items()
        },
        origin={name: f"{path}, {task_name}, group {name!r}" for name in groups},
    )
    task = Task(name=task_name, description=circuit.get("paper"))
    connections = circuit["group_connections"]
    return [
        *analysis.records(),
        task.record(),
        *_acdc_outputs(read, connections, circuit.get("output_groups", [])),
        *(_acdc_roles(read) if "head_groups" in circuit else []),
        *_acdc_edges(read, connections),
    ]


def _acdc_outputs(read: _AcdcCircuit, connections: list[dict], named: list[str]) -> Records:
    """The groups that write to the output, each member an output node ranked in its group."""
    outputs = set(named) | {c["from"] for c in connections if c.get("to") == "OUTPUT"}
    return [
        OutputNode(analysis=read.analysis.uid, category=IOI_ROLES.get(name, name), rank=rank)
        .record(member, ref(NodeLabel.TASK, read.task))
        .at(read.origin[name])
        for name in sorted(outputs)
        for rank, member in enumerate(read.members.get(name, []))
    ]


def _acdc_roles(read: _AcdcCircuit) -> Records:
    """IOI's classes are head roles as researchers name them: a role per class."""
    records: Records = []
    for name, group in read.members.items():
        role = HeadRole(name=IOI_ROLES.get(name, name)).record()
        records.append(role)
        records += [
            HasRole(analysis=read.analysis.uid, score=1.0, method="circuit class")
            .record(member, role.ref)
            .at(read.origin[name])
            for member in group
        ]
    return records


def _acdc_edges(read: _AcdcCircuit, connections: list[dict]) -> Records:
    """Every member of a group to every member of the group it connects to (INPUT and
    OUTPUT are the residual stream, not components), and the MLPs within an MLP group
    chained."""
    records: Records = []
    for connection in connections:
        start, end = connection["from"], connection.get("to")
        if start not in read.members or end not in read.members:
            continue
        fact = CircuitEdge(analysis=read.analysis.uid, qkv=connection.get("qkv") or None)
        records += [
            fact.record(a, b).at(read.origin[start])
            for a in read.members[start]
            for b in read.members[end]
        ]
    for name, group in read.members.items():
        mlps = [m for m in group if m.label is NodeLabel.MLP]
        records += [
            CircuitEdge(analysis=read.analysis.uid).record(a, b).at(read.origin[name])
            for a, b in zip(mlps, mlps[1:])
        ]
    return records


def circuit_records(
    path: Path,
    *,
    analysis_uid: str | None = None,
    task: str | None = None,
    dictionary: str | None = None,
) -> Records:
    path = Path(path)
    raw = read_bytes(path)
    data, digest = parse_json(raw, path), content_hash(raw)
    if is_attribution_graph(data):
        return list(
            attribution_records(
                data,
                path,
                analysis_uid=analysis_uid,
                task=task,
                digest=digest,
                dictionary=dictionary,
            )
        )
    if (
        isinstance(data, dict)
        and "task" not in data
        and any(isinstance(v, dict) and "group_connections" in v for v in data.values())
    ):
        return acdc_records(path, data, digest)
    return circuit_file_records(path, data, digest, analysis_uid)


FORMAT = Format(
    name="circuit",
    summary="Circuits: a task's output nodes and edges, as circuitbase's JSON, the canonical "
    "circuits of the ACDC repository, or attribution graphs.",
    details="""ACDC's circuits (IOI, greater-than) as JSON; attribution graphs as circuit-tracer
    writes them (Neuronpedia's graph JSON).

    \b
    Examples:
      circuitbase ingest circuit mmlu_circuit.json
      circuitbase ingest circuit canonical_circuits_ioi_greaterthan.json
      circuitbase ingest circuit graphs/ --task addition""",
    reader=circuit_records,
    suffixes=(".json",),
    options=(
        analysis_option(),
        Option(
            "--task",
            "task",
            "The task an attribution graph's prompt belongs to (default: the prompt itself).",
        ),
        Option(
            "--dictionary",
            "dictionary",
            "The dictionary of an attribution graph whose metadata names none (older "
            "Neuronpedia downloads): its Neuronpedia source set (gemmascope-transcoder-16k) "
            "or its transcoder set.",
        ),
    ),
)
