"""Start a real Neo4j 5 for the test run, when Java >= 17 and Maven are on the machine.

The launcher (`TestServer.java` beside this file, on the community `org.neo4j:neo4j`
artifact from Maven Central; Maven caches it in ~/.m2) runs a DBMS as a deployment
would: Bolt on 127.0.0.1, a free port, authentication on, a random password. It reads
its standard input until it closes, so it stops with the test run however that ends:
normally, on a failure, or killed.

`start()` returns None with the reason when Java or Maven is missing (the Neo4j
tests are then skipped, saying why), and raises Neo4jUnavailable when both are there
and the server still does not start: that is a failure, never a skip.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
CLASSPATH_FILE = HERE / "target" / "classpath.txt"
STARTUP_TIMEOUT_S = 180.0
BUILD_TIMEOUT_S = 900.0


class Neo4jUnavailable(RuntimeError):
    """Java and Maven are present, but the test Neo4j could not be built or started."""


@dataclass
class Neo4jServer:
    uri: str
    username: str
    password: str
    version: str
    process: subprocess.Popen
    home: Path
    log: Path = field(repr=False)

    def env(self) -> dict[str, str]:
        return {"CIRCUITBASE_TEST_NEO4J_URI": self.uri, "NEO4J_USERNAME": self.username,
                "NEO4J_PASSWORD": self.password}

    def stop(self) -> None:
        """Close its standard input (it shuts down cleanly), then make sure it is gone."""
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def java_major() -> int | None:
    java = shutil.which("java")
    if not java:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2)) if major == 1 else major


def missing_tools() -> str | None:
    """Why the test Neo4j cannot run here, or None when it can."""
    major = java_major()
    if major is None:
        return "Neo4j tests need Java 17 or later (no `java` found) and Maven"
    if major < 17:
        return f"Neo4j tests need Java 17 or later (found {major})"
    if not shutil.which("mvn"):
        return "Neo4j tests need Maven (`mvn`) to fetch Neo4j from Maven Central"
    return None


def _sources() -> list[Path]:
    return [HERE / "pom.xml", *sorted((HERE / "src").rglob("*.java"))]


def build() -> str:
    """Compile the launcher and resolve Neo4j's jars (cached by Maven); the classpath."""
    fresh = CLASSPATH_FILE.exists() and (HERE / "target" / "classes").exists() and all(
        CLASSPATH_FILE.stat().st_mtime >= path.stat().st_mtime for path in _sources())
    if not fresh:
        command = ["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "compile",
                   "dependency:build-classpath", f"-Dmdep.outputFile={CLASSPATH_FILE}"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired as err:
            raise Neo4jUnavailable(f"building the test Neo4j took over {BUILD_TIMEOUT_S:.0f} s") from err
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise Neo4jUnavailable(f"building the test Neo4j failed:\n{tail}")
    return f"{HERE / 'target' / 'classes'}{os.pathsep}{CLASSPATH_FILE.read_text().strip()}"


def admin_command() -> list[str] | None:
    """The `neo4j-admin` of the test Neo4j's jars (`AdminTool`, run with NEO4J_HOME set to
    a DBMS folder), or None when Java or Maven is missing."""
    if missing_tools():
        return None
    # a short-lived tool: the quick compiler and the serial collector start it sooner (an
    # import of the test's files 15.4 s -> 13.2 s)
    return ["java", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", build(),
            "org.neo4j.cli.AdminTool"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(heap: str = "1g", transaction_memory: int = 512 << 20,
          home: Path | None = None) -> Neo4jServer | None:
    """Build and start the test Neo4j (`heap`: the JVM's maximum; `transaction_memory`: what
    one transaction may use; `home`: a folder whose `dbms` the DBMS opens, e.g. one an
    offline import filled, removed when the server stops; default a new one); None when
    Java or Maven is missing."""
    if missing_tools():
        return None
    classpath = build()
    home = home or Path(tempfile.mkdtemp(prefix="circuitbase-neo4j-"))
    log = home / "launcher.log"
    password = secrets.token_urlsafe(18)
    port = free_port()
    command = ["java", "-Xms256m", f"-Xmx{heap}", "-XX:+UseSerialGC", "-cp", classpath,
               "circuitbase.testserver.TestServer", str(home / "dbms"), str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "NEO4J_PASSWORD": password,
                                        "NEO4J_TX_MEMORY_BYTES": str(transaction_memory)},
                                   start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        ready = re.search(r"^READY neo4j (\S+) (\S+)$", log.read_text(), re.MULTILINE)
        if ready:
            return Neo4jServer(uri=ready.group(2), username="neo4j", password=password,
                               version=ready.group(1), process=process, home=home, log=log)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    process.wait()
    tail = "\n".join(log.read_text().strip().splitlines()[-15:])
    shutil.rmtree(home, ignore_errors=True)
    raise Neo4jUnavailable(f"the test Neo4j did not start:\n{tail}")
