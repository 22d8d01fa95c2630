"""What a store command costs beyond Python's own start (issue #31).

Times, process start to exit, `python -c pass`, `circuitbase --help` and `circuitbase
stats` against a warm store (its server already running; the demo's data loaded), for
each interpreter given: by default the one running this script, whose environment has
the `[analysis]` extra, and one of a virtual environment with circuitbase alone
(`--python PATH`, repeatable; e.g. `python -m venv /tmp/bare && /tmp/bare/bin/pip
install -e .`). Also lists the slowest imports of `stats` (`-X importtime`).

    python benchmarks/startup.py [--runs 20] [--python PY ...] [--backend both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import backends
from rich.console import Console
from rich.table import Table

from circuitbase.cli.demo import load_examples


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr or done.stdout[:500]}")
    return time.perf_counter() - started


def p50(command: list[str], env: dict[str, str], runs: int) -> float:
    timed(command, env)  # warm the file cache and the server
    return statistics.median(timed(command, env) for _ in range(runs))


def slowest_imports(python: str, uri: str, env: dict[str, str], top: int = 6) -> list[str]:
    done = subprocess.run(
        [python, "-X", "importtime", "-m", "circuitbase", "--db", uri, "stats"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            rows.append((int(parts[1]), parts[2].strip()))  # top-level imports only
    return [f"{name} {us / 1000:.0f} ms" for us, name in sorted(rows, reverse=True)[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="another interpreter to measure (e.g. a venv without [analysis])",
    )
    backends.add_arguments(parser)
    args = parser.parse_args()
    pythons = [sys.executable, *args.python]
    notes = []
    table = Table(title=f"Process start to exit, p50 of {args.runs} (warm server)")
    for column in (
        "backend",
        "interpreter",
        "python -c pass",
        "circuitbase --help",
        "circuitbase stats",
        "stats - pass",
    ):
        table.add_column(column)
    for backend in backends.chosen(args):
        with backends.store_for(backend, args) as store:
            load_examples(store, report=lambda line: None)
            store.persist()
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            for python in pythons:
                cli = [python, "-m", "circuitbase"]
                bare = p50([python, "-c", "pass"], env, args.runs)
                helped = p50([*cli, "--help"], env, args.runs)
                stats = p50([*cli, "--db", store.location, "stats"], env, args.runs)
                table.add_row(
                    backend,
                    python,
                    f"{bare * 1000:.0f} ms",
                    f"{helped * 1000:.0f} ms",
                    f"{stats * 1000:.0f} ms",
                    f"{(stats - bare) * 1000:.0f} ms",
                )
                notes.append(
                    f"{backend}, {python}: slowest imports of stats: "
                    + ", ".join(slowest_imports(python, store.location, env))
                )
    Console(width=200).print(table)
    print("\n".join(notes))


if __name__ == "__main__":
    main()
