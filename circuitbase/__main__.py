"""`python -m circuitbase` is the `circuitbase` command."""

from .cli import main

main(prog_name="circuitbase")
