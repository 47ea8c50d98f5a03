"""A TF1 script's ps task blocks in ``server.join()`` until it is signalled.

The ps branch of a TF1 program is ``server.join()`` and nothing after it
runs: were join() to return, the ps process would fall through into the
training code and write into the shared checkpoint directory.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.distributed.launch import free_port

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import jaxsession as tf

job_name, task_index, checkpoint_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cluster = tf.train.ClusterSpec(
    {"ps": ["localhost:%d"], "worker": ["localhost:%d", "localhost:%d"]}
)
server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)
if job_name == "ps":
    print("ps serving", flush=True)
    server.join()
print("fell through join()", flush=True)
x = tf.get_variable("x", [], initializer=tf.zeros_initializer())
with tf.train.MonitoredTrainingSession(checkpoint_dir=checkpoint_dir) as sess:
    sess.run(x)
"""


def start_ps(tmp_path):
    script = tmp_path / "ps.py"
    script.write_text(SCRIPT % (free_port(), free_port(), free_port()))
    checkpoint_dir = tmp_path / "ckpt"
    checkpoint_dir.mkdir()
    log = open(tmp_path / "ps-out.txt", "w")
    proc = subprocess.Popen(
        [sys.executable, str(script), "ps", "0", str(checkpoint_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"},
        cwd=ROOT,
        start_new_session=True,
    )
    log.close()
    return proc, checkpoint_dir, tmp_path / "ps-out.txt"


def wait_for(path, text, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} (exit {proc.poll()}):\\n{path.read_text()}")


@pytest.mark.parametrize(
    ("signum", "expected"),
    # SIGTERM: the signal's default action, as TF1's ps; SIGINT:
    # KeyboardInterrupt, which Python ends by re-raising SIGINT.
    [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, -signal.SIGINT)],
)
def test_a_ps_task_blocks_in_join_until_signalled(tmp_path, signum, expected):
    proc, checkpoint_dir, out = start_ps(tmp_path)
    try:
        wait_for(out, "ps serving", proc)
        time.sleep(2)
        assert proc.poll() is None, out.read_text()
        assert list(checkpoint_dir.iterdir()) == []
        sent = time.monotonic()
        proc.send_signal(signum)
        returncode = proc.wait(timeout=10)
        assert time.monotonic() - sent < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.read_text()
    assert returncode == expected, text
    assert "fell through join()" not in text
    assert list(checkpoint_dir.iterdir()) == []
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in text
