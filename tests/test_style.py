"""The habits that keep the tree readable, checked with the rest of the suite (so `./test`
and `.ci/run` fail on a finding): ruff's lint and format, and mypy over the package, each
configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", ".")],
    ids=["ruff-lint", "ruff-format"],
)
def test_ruff_finds_nothing(command: tuple[str, ...]) -> None:
    done = run_tool(*command)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing() -> None:
    done = run_tool("mypy")  # files and options: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_finding_fails_the_check(tmp_path: Path) -> None:
    """The checks above would pass vacuously if the tools ignored the code: a planted
    unused import and a planted type error are each reported, with a non-zero exit."""
    planted = tmp_path / "planted.py"
    planted.write_text("import os\n\n\ndef half(n: int) -> str:\n    return n / 2\n")
    lint = run_tool("ruff", "check", "--config", str(ROOT / "pyproject.toml"), str(planted))
    types = run_tool("mypy", "--config-file", str(ROOT / "pyproject.toml"), str(planted))
    assert lint.returncode != 0 and "F401" in lint.stdout
    assert types.returncode != 0 and "Incompatible return value" in types.stdout
