"""Running a benchmark's side as a job of fresh ``jax.distributed`` processes on localhost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def join(pid: int, n: int, port: int) -> None:
    """Starts a child: one CPU device, and with ``n`` > 1 its place in the job."""
    import jax

    jax.config.update("jax_num_cpu_devices", 1)
    if n > 1:
        from jaxsession.distributed import lifecycle

        lifecycle.initialize(
            f"127.0.0.1:{port}",
            n,
            pid,
            initialization_timeout=60,
            heartbeat_timeout=30,
            shutdown_timeout=30,
        )


def run_job(module: str, n: int, args: list[str], work: str) -> Any:
    """Runs ``python -m module child PID N PORT OUT *args`` in ``n`` processes.

    Each process gets one CPU device (no ``XLA_FLAGS``) and writes JSON to
    its ``OUT``; all are killed after ``TIMEOUT_S``.

    Returns:
        What process 0 wrote.

    Raises:
        RuntimeError: a process failed or timed out, with the end of its log.
    """
    port = free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    procs, outs, logs = [], [], []
    for pid in range(n):
        out = f"{work}/{module.rsplit('.', 1)[-1]}-n{n}-p{pid}.json"
        outs.append(out)
        argv = [sys.executable, "-m", module, "child", str(pid), str(n), str(port)]
        logs.append(open(f"{out}.log", "w"))
        procs.append(
            subprocess.Popen(
                [*argv, out, *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=logs[-1],
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + TIMEOUT_S
    try:
        for p in procs:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        logs = "\n".join(Path(f"{o}.log").read_text()[-2000:] for o in outs)
        raise RuntimeError(f"{n}-process job failed (process, exit): {failed}\n{logs}")
    return json.loads(Path(outs[0]).read_text())
