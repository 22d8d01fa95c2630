"""The registry of the formats `ingest` reads, one per source module (its `FORMAT`), and of
circuitbase's own export formats `import` reads back: the command line builds a
subcommand from each, and README's list of formats is checked against it. A new format
is a source module with a `FORMAT`, listed here."""

from __future__ import annotations

from .formats import Format


def formats() -> dict[str, Format]:
    """Every format, by name, in the order `ingest --help` lists them."""
    from . import circuits, features, heads, probes, saelens, universal
    from .n2g import records as n2g

    found = [
        probes.FORMAT,
        n2g.FORMAT,
        circuits.FORMAT,
        features.FORMAT,
        saelens.FORMAT,
        heads.FORMAT,
        universal.FORMAT,
    ]
    return {each.name: each for each in found}


def import_formats() -> dict[str, Format]:
    """The export formats `import` reads back (sources/exports.py)."""
    from .exports import CYPHER, GRAPHML

    return {each.name: each for each in (GRAPHML, CYPHER)}
