"""Real processes: plain-Orbax readers, SIGKILL mid-save, SIGTERM preemption."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import Saver, _format, latest_checkpoint
from tests.checkpoint import _children

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Child:
    """A bounded child process whose output goes to a file (never a pipe)."""

    def __init__(self, tmp_path: Path, name: str, args: list[str]):
        self.log = tmp_path / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def lines(self, prefix: str) -> list[str]:
        return [ln for ln in self.output().splitlines() if ln.startswith(prefix)]

    def wait_for(self, predicate, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                pytest.fail(
                    f"child exited {self.proc.returncode} before {what}:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.output()}")
            time.sleep(0.001)

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"child did not exit within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _children_args(*args: str) -> list[str]:
    return ["-m", "tests.checkpoint._children", *args]


PLAIN_ORBAX_READER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import orbax.checkpoint as ocp
    with ocp.PyTreeCheckpointer() as ckptr:
        tree = ckptr.restore(sys.argv[1])
    assert not any(m.startswith("jaxsession") for m in sys.modules), "imported jaxsession"
    print(json.dumps({k: [np.asarray(v).dtype.name, np.asarray(v).tolist()]
                      for k, v in tree.items()}))
    """
)


def test_plain_orbax_reads_a_checkpoint_without_jaxsession(tmp_path):
    w = tf.get_variable(
        "dense/kernel", shape=[2, 2], initializer=tf.zeros_initializer()
    )
    slot = tf.get_variable(
        "dense/kernel/Adam", shape=[2, 2], initializer=tf.zeros_initializer()
    )
    gs = tf.train.get_or_create_global_step()
    sess = tf.Session()
    sess.set_variable_values(
        {w: [[1.0, 2.0], [3.0, 4.0]], slot: np.full((2, 2), 0.5), gs: 42}
    )
    saver = Saver()
    path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=gs)
    saver.close()
    child = Child(tmp_path, "reader", ["-c", PLAIN_ORBAX_READER, path])
    try:
        assert child.wait() == 0, child.output()
    finally:
        child.kill()
    tree = json.loads(child.output().strip().splitlines()[-1])
    assert tree == {
        "dense/kernel": ["float32", [[1.0, 2.0], [3.0, 4.0]]],
        "dense/kernel/Adam": ["float32", [[0.5, 0.5], [0.5, 0.5]]],
        "global_step": ["int64", 42],
    }


def test_sigkill_mid_save_leaves_the_previous_checkpoint_latest(tmp_path):
    child = Child(tmp_path, "save_loop", _children_args("save_loop", str(tmp_path)))

    def writing() -> bool:
        return bool(child.lines("COMMITTED")) and any(
            _format.PARTIAL_SUFFIX in p.name for p in tmp_path.iterdir()
        )

    try:
        child.wait_for(writing, "a save in progress after one committed")
        os.killpg(child.proc.pid, signal.SIGKILL)
        child.proc.wait(10)
    finally:
        child.kill()
    committed = int(child.lines("COMMITTED")[-1].split()[1])
    latest = latest_checkpoint(str(tmp_path))
    # The in-flight save may have committed between the check and the kill.
    assert latest in (
        f"{tmp_path}/model-{committed}",
        f"{tmp_path}/model-{committed + 1}",
    )
    step = int(latest.rsplit("-", 1)[1])

    big = tf.get_variable("big", shape=[_children.BIG_ELEMENTS])
    gs = tf.train.get_or_create_global_step()
    sess = tf.Session()
    saver = Saver(max_to_keep=3)
    saver.restore(sess, latest)
    got_big, got_step = sess.run([big, gs])
    np.testing.assert_array_equal(got_big, _children.big_base() + step)
    assert got_step == step

    again = saver.save(sess, str(tmp_path / "model"), global_step=step + 1)
    saver.close()
    assert latest_checkpoint(str(tmp_path)) == again
    assert not [p.name for p in tmp_path.iterdir() if _format.PARTIAL_SUFFIX in p.name]


def test_sigterm_saves_at_the_current_step_and_a_restart_continues(tmp_path):
    first = Child(tmp_path, "train", _children_args("train", str(tmp_path)))
    try:
        first.wait_for(lambda: first.lines("READY"), "READY")
        first.proc.send_signal(signal.SIGTERM)
        assert first.wait() == 0, first.output()
    finally:
        first.kill()
    assert first.lines("START") == ["START 0 0"], first.output()
    saved = int(first.lines("SAVED")[-1].split()[1])
    assert saved >= 3
    assert latest_checkpoint(str(tmp_path)) == f"{tmp_path}/model-{saved}"

    second = Child(tmp_path, "resume", _children_args("train", str(tmp_path), "2"))
    try:
        assert second.wait() == 0, second.output()
    finally:
        second.kill()
    assert second.lines("START") == [f"START {saved} {saved}"], second.output()
    assert second.lines("END") == [f"END {saved + 2} {saved + 2}"], second.output()
