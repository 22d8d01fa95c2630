"""Adapters turn foreign files into records; the planner checks them; the writer writes them."""

from .plan import Plan, make_plan
from .writer import ingest_records, write_plan

__all__ = ["Plan", "ingest_records", "make_plan", "write_plan"]
