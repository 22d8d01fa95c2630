"""`python -m circuitbase` is the `circuitbase` command."""

from .cli import run

run()
