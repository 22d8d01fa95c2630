"""The command line, run as a user would, against the same real store."""

import csv
import io
import json

from click.testing import CliRunner
from helpers import cli

from circuitbase.cli import main
from circuitbase.cli.demo import QUESTIONS


def test_init_says_where_the_store_is(store_uri) -> None:
    code, out = cli(store_uri, "init")
    assert code == 0 and store_uri in out


def test_model_add_from_the_catalog_and_stats_per_model(store_uri) -> None:
    code, out = cli(store_uri, "model", "add", "pythia-70m", "--components", "neurons,heads")
    assert code == 0, out
    assert "pythia-70m: 12336 components" in out  # 6 x 2048 neurons + 6 x 8 heads
    code, out = cli(store_uri, "stats", "--format", "json")
    stats = json.loads(out)
    assert stats["labels"]["Neuron"] == 6 * 2048 and stats["labels"]["AttentionHead"] == 48
    assert stats["models"] == [
        {"model": "pythia-70m", "layers": 6, "components": ["AttentionHead: 48", "Neuron: 12288"]}
    ]


def test_model_add_with_a_shape_given_by_flags(store_uri) -> None:
    code, out = cli(
        store_uri,
        "model",
        "add",
        "toy",
        "--n-layers",
        "2",
        "--d-model",
        "16",
        "--n-heads",
        "2",
        "--d-mlp",
        "8",
        "--components",
        "all",
    )
    assert code == 0, out
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "csv",
        "--cypher",
        "MATCH (c:Component {model: $m}) RETURN c.uid AS uid ORDER BY uid",
        "--param",
        "m=toy",
    )
    uids = [row["uid"] for row in csv.DictReader(io.StringIO(out))]
    assert len(uids) == 2 * (1 + 2 + 1 + 8) and "toy/L1/N7" in uids and "toy/L0/ATTN" in uids


def test_model_add_without_a_shape_is_a_clear_error(store_uri) -> None:
    code, out = cli(store_uri, "model", "add", "unknown-model")
    assert code == 1 and "needs a shape" in out


def test_model_add_from_a_config_file_with_a_bad_field_names_file_and_field(
    store_uri, tmp_path
) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(
        json.dumps({"model_name": "m", "n_layers": -2, "d_model": 8, "n_heads": 1, "d_mlp": 4})
    )
    code, out = cli(store_uri, "model", "add", "m", "--config", str(config))
    assert code == 1 and str(config) in out and "n_layers" in out


def test_query_run_is_read_only_and_takes_typed_params(store_uri) -> None:
    cli(store_uri, "model", "add", "gpt2-small")
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--cypher",
        "MATCH (m:Model) WHERE m.n_layers = $n RETURN m.uid AS model",
        "--param",
        "n=12",
    )
    assert code == 0 and json.loads(out) == [{"model": "gpt2-small"}]
    code, out = cli(store_uri, "query", "run", "--cypher", "MATCH (m:Model) DETACH DELETE m")
    assert code == 1 and "read-only" in out
    code, out = cli(
        store_uri,
        "query",
        "run",
        "--format",
        "json",
        "--cypher",
        "MATCH (m:Model) RETURN count(m) AS n",
    )
    assert json.loads(out) == [{"n": 1}]


def test_demo_is_the_main_job_its_commands_work_as_printed_and_it_is_idempotent(store_uri) -> None:
    """What `./run` prints: the examples' answers, then commands that each answer as
    printed (and one that serves the explorer); run again, the demo changes nothing."""
    import shlex

    code, out = cli(store_uri, "demo", "--format", "json")
    assert code == 0, out
    assert "Gender_Fem" in out and "pythia-1b" in out
    assert "name-mover" in out and "gpt2-small/L9/H9" in out
    printed = [line.strip() for line in out.splitlines() if line.strip().startswith("circuitbase ")]
    *printed, browse = printed
    assert len(printed) == len(QUESTIONS) and browse.endswith(" serve")
    assert_serves(shlex.split(browse)[1:])
    for command in printed:
        args = shlex.split(command)[1:]
        if store_uri not in command:  # the default store needs no --db; this one is not it
            raise AssertionError(f"{command!r} does not name the store {store_uri}")
        result = CliRunner().invoke(main, [*args, "--format", "json"], catch_exceptions=False)
        assert result.exit_code == 0 and json.loads(result.output), command
    code, second = cli(store_uri, "demo", "--format", "json")
    assert code == 0 and "pythia-70m: 0 nodes created" in second
    assert "0 relationships created" in second


def assert_serves(args: list[str]) -> None:
    """`circuitbase ARGS --port 0` prints an address whose home page lists the models."""
    import re
    import subprocess
    import sys
    import urllib.request

    server = subprocess.Popen(
        [sys.executable, "-m", "circuitbase", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/[\w-]+/", line)
        assert url, line
        with urllib.request.urlopen(url.group(0), timeout=30) as response:
            assert response.status == 200 and "pythia-70m" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_command_list_is_the_commands_own_help_and_help_loads_nothing_heavy() -> None:
    """`--help` lists commands from COMMANDS without importing them: the list must say
    what each command says of itself, and importing must stay light."""
    import subprocess
    import sys

    from circuitbase.cli import COMMANDS, main

    for name, (_, _, summary) in COMMANDS.items():
        command = main.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.get_short_help_str(limit=500) == summary, name
    heavy = {
        "numpy",
        "scipy",
        "pydantic",
        "networkx",
        "matplotlib",
        "falkordb",
        "redis",
        "neo4j",
        "torch",
        "flask",
    }
    probe = (
        "import sys\nfrom circuitbase.cli import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(heavy)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "similar" in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_write_to_an_empty_store_says_nothing_but_its_summary(store_uri) -> None:
    """No driver notices on stderr (Neo4j warns of relationship types a store lacks yet)."""
    code, out = cli(store_uri, "model", "add", "pythia-70m")
    assert code == 0, out
    assert "notification" not in out.lower() and "warn" not in out.lower(), out
