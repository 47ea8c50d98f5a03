"""examples/distributed.py, run as a user runs it on one machine (--local 2)."""

import subprocess
import sys
from pathlib import Path

import jaxsession as tf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed.py"


def test_the_example_trains_in_two_processes(tmp_path):
    logdir = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--local",
            "2",
            "--steps",
            "10",
            "--logdir",
            str(logdir),
            "--timeout",
            "100",
            "--initialization_timeout",
            "30",
            "--heartbeat_timeout",
            "5",
            "--shutdown_timeout",
            "10",
            "--max_wait_secs",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "task 0 (chief) done: 10 steps run" in output, output
    assert "task 1 (worker) done: 10 steps run" in output, output
    assert tf.train.latest_checkpoint(str(logdir)) == str(logdir / "model.ckpt-10")
