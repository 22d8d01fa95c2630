"""What a notebook gets back: rows it can iterate, index, turn into a DataFrame
(`to_pandas`, pandas imported only there: an optional extra) and see as an HTML table in
Jupyter or as the command line's table in a terminal; graphs as networkx graphs.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .tables import render

HTML_ROWS = 200  # rows an HTML table shows (the rest are counted, and in to_pandas())


@dataclass
class Rows:
    """Result rows (dicts), in the order the question gave them; `note` says why there
    are none where a question has no answer (`similar` of a component with nothing
    comparable)."""

    rows: list[dict[str, Any]]
    title: str | None = None
    note: str | None = None
    cut: str | None = None  # where a query's result was cut (its row or byte limit)
    more: dict[str, Rows] = field(default_factory=dict)  # the answer's other tables (`stats`)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(k for row in self.rows for k in row))

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the rows (`pip install pandas`)."""
        try:
            import pandas
        except ImportError as err:
            raise ImportError(
                f"to_pandas() needs pandas, an optional extra: pip install pandas ({err})"
            ) from None
        return pandas.DataFrame(self.rows, columns=self.columns)

    def __str__(self) -> str:
        text = render(self.rows, "table", title=self.title)
        text = f"{text}\n{self.note}" if self.note else text
        return "\n".join([text, *map(str, self.more.values())])

    def _repr_html_(self) -> str:
        columns = self.columns
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell_html(row.get(c))}</td>" for c in columns) + "</tr>"
            for row in self.rows[:HTML_ROWS]
        )
        more = len(self.rows) - HTML_ROWS
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (
            f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<p>... {more} more rows (to_pandas() has them all)</p>" if more > 0 else "")
            + f"<p>({len(self.rows)} row{'s' * (len(self.rows) != 1)})</p>"
            + (f"<p>{html.escape(self.note)}</p>" if self.note else "")
            + "".join(table._repr_html_() for table in self.more.values())
        )


def _cell_html(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return html.escape(json.dumps(value, ensure_ascii=False))
    return html.escape(str(value))


@dataclass
class Node(Mapping[str, Any]):
    """Everything about one node (`show`): its kind, key, properties, its relationships
    by type, its matches and analyses; a mapping of those, as `show --format json` prints."""

    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def facts(self, type_: str) -> Rows:
        """Its relationships of one type, strongest first, as rows."""
        return Rows(list(self.data.get("relationships", {}).get(type_, [])), title=type_)

    def __str__(self) -> str:
        parts = [f"{self.data.get('kind')} {self.data.get('key')}"]
        properties = self.data.get("properties", {})
        parts.append(render([{"property": k, "value": v} for k, v in properties.items()], "table"))
        for type_, facts in self.data.get("relationships", {}).items():
            parts.append(render(facts, "table", title=type_))
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        properties = Rows(
            [{"property": k, "value": v} for k, v in self.data.get("properties", {}).items()]
        )
        parts = [
            f"<h3>{html.escape(str(self.data.get('kind')))} "
            f"{html.escape(str(self.data.get('key')))}</h3>",
            properties._repr_html_(),
        ]
        for type_ in self.data.get("relationships", {}):
            parts.append(f"<h4>{html.escape(type_)}</h4>" + self.facts(type_)._repr_html_())
        return "".join(parts)


@dataclass
class Graph:
    """A subgraph (`export`): its networkx MultiDiGraph, every property kept."""

    graph: Any  # networkx.MultiDiGraph

    def to_networkx(self) -> Any:
        return self.graph

    def to_pandas(self) -> Any:
        """Its nodes as a DataFrame, one row each with its properties."""
        return Rows(
            [{"id": node, **props} for node, props in self.graph.nodes(data=True)]
        ).to_pandas()

    def __str__(self) -> str:
        return f"{self.graph.number_of_nodes()} nodes, {self.graph.number_of_edges()} relationships"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(str(self))}</p>"
