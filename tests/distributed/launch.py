"""Starts N real processes of one job on a free loopback port, bounded in time.

Each process runs ``tests/distributed/_worker.py SCENARIO PROCESS_ID N PORT
DIR`` with two CPU devices. The parent waits up to a deadline, then kills
every process group; output goes to files (never pipes) and is put into the
failure message.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("_worker.py")
ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Result:
    """What each process did: exit codes, outputs, result files, seconds taken.

    ``ended``: each process's exit as ``time.time()`` (seen within 0.05 s).
    """

    returncodes: list[int | None]
    outputs: list[str]
    results: list[dict | None]
    seconds: float
    ended: list[float | None] = dataclasses.field(default_factory=list)

    def report(self) -> str:
        """Every process's exit code and output, for a failure message."""
        parts = []
        for i, (rc, out) in enumerate(zip(self.returncodes, self.outputs)):
            parts.append(f"--- process {i}: exit {rc} ---\n{out[-4000:]}")
        return "\n".join(parts)

    def check_ok(self) -> list[dict]:
        """The result files; fails with every output unless all exited 0."""
        assert all(rc == 0 for rc in self.returncodes), self.report()
        assert all(r is not None for r in self.results), self.report()
        return self.results


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(
    scenario: str,
    workdir: Path,
    n: int = 2,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    kill: tuple[int, float] | None = None,
    worker: Path = WORKER,
) -> Result:
    """Runs ``scenario`` in ``n`` processes; returns when all ended or at ``timeout``.

    Args:
        scenario: A function name in ``worker``.
        workdir: Shared directory for results and checkpoints.
        n: Number of processes.
        timeout: Seconds before every process is killed.
        env: Extra environment variables.
        kill: (process, seconds): SIGKILL that process after its
            ``ready-<i>`` file appears plus that many seconds.
        worker: The script holding the scenario (``_worker.py`` by default);
            it is run as ``worker SCENARIO ID N PORT DIR``.
    """
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    child_env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    child_env.pop("XLA_FLAGS", None)
    procs, logs = [], []
    start = time.monotonic()
    try:
        for i in range(n):
            log = open(workdir / f"out-{i}.txt", "w")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(worker),
                        scenario,
                        str(i),
                        str(n),
                        str(port),
                        str(workdir),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=child_env,
                    cwd=ROOT,
                    start_new_session=True,
                )
            )
        deadline = start + timeout
        killed = False
        ended: list[float | None] = [None] * n
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            for i, p in enumerate(procs):
                if ended[i] is None and p.poll() is not None:
                    ended[i] = time.time()
            if kill and not killed and (workdir / f"ready-{kill[0]}").exists():
                time.sleep(kill[1])
                os.killpg(procs[kill[0]].pid, signal.SIGKILL)
                killed = True
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        for log in logs:
            log.close()
    seconds = time.monotonic() - start
    outputs = [(workdir / f"out-{i}.txt").read_text() for i in range(n)]
    results = []
    for i in range(n):
        path = workdir / f"result-{i}.json"
        results.append(json.loads(path.read_text()) if path.exists() else None)
    ended = [e if e is not None else time.time() for e in ended]
    return Result([p.returncode for p in procs], outputs, results, seconds, ended)
