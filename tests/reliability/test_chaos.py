"""Chaos: training killed at random moments (SIGKILL, SIGTERM, a corrupted checkpoint) and restarted.

Each round starts ``_chaos_child.py`` (MonitoredTrainingSession, a
checkpoint every 4 steps, at most 5 kept), lets it train for a random
while, then SIGKILLs or SIGTERMs it; some rounds then truncate the newest
checkpoint's largest file. After every round: no checkpoint is lost (every
checkpoint the state file lists is complete, and the newest committed one
before the signal is still there), and the restart resumes exactly from the
newest complete checkpoint (0 completed steps lost beyond it; none at all
after SIGTERM, which saves the last completed step). A final run trains to
the last step; its variables equal an uninterrupted run's. Every child is
bounded by a deadline and killed past it.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import _format, state as state_lib
from tests.reliability import _chaos_child

ROOT = Path(__file__).resolve().parents[2]
LAST_STEP = 200
DEADLINE_SECS = 90


class Child:
    """One training process, its output in a file."""

    def __init__(self, workdir: Path, index: int):
        self.log = workdir / f"child-{index}.txt"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability._chaos_child",
                    str(workdir),
                    str(LAST_STEP),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
        self.deadline = time.monotonic() + DEADLINE_SECS

    def line(self, prefix: str) -> int | None:
        for line in self.log.read_text().splitlines():
            if line.startswith(prefix + " "):
                return int(line.split()[1])
        return None

    def wait_for(self, prefix: str) -> int:
        while (found := self.line(prefix)) is None:
            assert self.proc.poll() is None, self.report(f"exited before {prefix}")
            self.check_deadline()
            time.sleep(0.02)
        return found

    def finish(self) -> int:
        while self.proc.poll() is None:
            self.check_deadline()
            time.sleep(0.02)
        return self.proc.returncode

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(self.report("past its deadline"))

    def report(self, what: str) -> str:
        return f"child {what}; output:\n{self.log.read_text()[-4000:]}"


def _step(path: str | None) -> int:
    return int(path.rsplit("-", 1)[1]) if path else 0


def _committed(ckpt: Path, corrupted: set[str]) -> list[str]:
    """The checkpoints the state file lists, each asserted complete (none lost).

    Those the test corrupted itself may stay broken until they are re-saved.
    """
    listed = state_lib.listed_checkpoints(str(ckpt))
    broken = [p for p in listed if not _format.is_complete(p) and p not in corrupted]
    assert not broken, f"listed checkpoints lost: {broken}"
    return listed


def _done(workdir: Path, since: int = 0, start: int = 0) -> int:
    """The last step completed by runs begun after line ``since`` of the log (``start`` if none)."""
    log = workdir / "done.log"
    lines = log.read_text().split() if log.exists() else []
    return max(map(int, lines[since:]), default=start)


def _log_lines(workdir: Path) -> int:
    log = workdir / "done.log"
    return len(log.read_text().split()) if log.exists() else 0


def _corrupt_newest(ckpt: Path) -> str:
    newest = tf.train.latest_checkpoint(str(ckpt))
    files = [
        f for f in Path(newest).rglob("*") if f.is_file() and f.name != _format.MANIFEST
    ]
    largest = max(files, key=lambda f: f.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 2])
    return newest


def _uninterrupted():
    x, y, train_op, step = _chaos_child.build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(LAST_STEP):
            sess.run(train_op, dict(zip((x, y), _chaos_child.batch(i))))
        return _chaos_child.variables(sess)


def _chaos(tmp_path, actions, rng):
    ckpt = tmp_path / "ckpt"
    resume = 0
    corrupted = set()
    for index, action in enumerate(actions):
        # A round resumed from an older checkpoint redoes steps that an earlier
        # round completed; only this round's steps count.
        since = _log_lines(tmp_path)
        child = Child(tmp_path, index)
        started = child.wait_for("START")
        assert started == resume, child.report(f"resumed at {started}, not {resume}")
        time.sleep(rng.uniform(0.2, 0.8))
        before = _step(tf.train.latest_checkpoint(str(ckpt)))
        if child.proc.poll() is not None:  # it trained to the end first
            assert child.finish() == 0, child.report("failed")
            resume = LAST_STEP
            break
        os.killpg(
            child.proc.pid, signal.SIGTERM if action == "term" else signal.SIGKILL
        )
        code = child.finish()
        newest = _step(tf.train.latest_checkpoint(str(ckpt)))
        listed = _committed(ckpt, corrupted)
        assert newest >= before, f"round {index}: checkpoint {before} lost ({listed})"
        if action == "term":
            assert code == 0, child.report("failed on SIGTERM")
            # Saved at the last step it completed: not one step lost.
            assert newest == _done(tmp_path, since, started), child.report(
                "lost steps on SIGTERM"
            )
        if action == "corrupt" and newest:
            corrupted.add(_corrupt_newest(ckpt))
            intact = [p for p in listed if _format.is_complete(p)]
            newest = max(map(_step, intact), default=0)
            assert _step(tf.train.latest_checkpoint(str(ckpt))) == newest
        resume = newest
    child = Child(tmp_path, len(actions))
    assert child.wait_for("START") == resume, child.report("resumed elsewhere")
    assert child.finish() == 0, child.report("failed")
    assert child.wait_for("END") == LAST_STEP
    final = np.load(tmp_path / "final.npz")
    for name, value in _uninterrupted().items():
        np.testing.assert_allclose(
            final[name], value, rtol=1e-5, atol=1e-6, err_msg=name
        )


def test_term_kill_and_corruption_lose_no_checkpoint_and_no_committed_step(tmp_path):
    # "corrupt": SIGKILL, then the newest checkpoint is truncated.
    _chaos(tmp_path, ["term", "corrupt"], random.Random(0))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])  # 8 random rounds each
def test_chaos_long(tmp_path, seed):
    rng = random.Random(seed)
    _chaos(tmp_path, [rng.choice(["kill", "term", "corrupt"]) for _ in range(8)], rng)
