"""SIGTERM to both processes of a job, then a restart: no completed step is lost.

The processes get the signal at different steps (as in a real preemption);
PreemptionStopHook makes them stop at one agreed step, whose checkpoint both
write (CheckpointSaverHook.end on every process). Restarted, both resume
from exactly that step, and the final variables are those of an
uninterrupted run on the same global batches.
"""

from pathlib import Path

import numpy as np

import jaxsession as tf
from tests.distributed import _mlp
from tests.distributed.launch import launch

FAULT_WORKER = Path(__file__).with_name("_fault_worker.py")


def _uninterrupted(steps):
    x, y, _, train_op, _ = _mlp.build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(steps):
            sess.run(train_op, dict(zip((x, y), _mlp.global_batch(i))))
        return _mlp.variables(sess)


def test_sigterm_saves_an_agreed_step_and_a_restart_resumes_from_it(tmp_path):
    first = launch(
        "restartable",
        tmp_path,
        timeout=120,
        worker=FAULT_WORKER,
        env={"TERM_AFTER": "6", "LAST_STEP": "100000"},
    )
    chief, worker = first.check_ok()
    stopped = chief["final"]["step"]
    assert worker["final"] == chief["final"]
    # Signalled after 6 and 7 runs, they stopped together, a few steps later
    # (the agreement takes a round trip through the coordination service).
    assert chief["ran"] == worker["ran"] == list(range(stopped)), first.report()
    assert 7 <= stopped <= 16, first.report()
    ckpt = tmp_path / "ckpt"
    assert tf.train.latest_checkpoint(str(ckpt)) == str(ckpt / f"model.ckpt-{stopped}")

    second = launch(
        "restartable",
        tmp_path,
        timeout=120,
        worker=FAULT_WORKER,
        env={"LAST_STEP": str(stopped + 4)},
    )
    chief2, worker2 = second.check_ok()
    for result in (chief2, worker2):
        assert result["first"] == stopped, second.report()
        assert result["ran"] == list(range(stopped, stopped + 4))
        assert result["final"]["step"] == stopped + 4
    expected = _uninterrupted(stopped + 4)
    for name, value in expected.items():
        for result in (chief2, worker2):
            np.testing.assert_allclose(
                result["final"]["variables"][name], value, atol=1e-5, err_msg=name
            )
    assert tf.train.latest_checkpoint(str(ckpt)) == str(
        ckpt / f"model.ckpt-{stopped + 4}"
    )


def test_ctrl_c_in_every_process_ends_the_job_without_a_save(tmp_path):
    # README: Ctrl-C is not coordinated; each process raises KeyboardInterrupt
    # after its current run and saves nothing. Checkpoints stay as they were.
    ckpt = tmp_path / "ckpt"
    result = launch(
        "restartable",
        tmp_path,
        timeout=90,
        worker=FAULT_WORKER,
        env={"INT_AFTER": "5", "LAST_STEP": "100000"},
    )
    assert result.returncodes == [0, 0], result.report()
    for r in result.results:
        assert r == {"interrupted": True, "ran": [0, 1, 2, 3, 4]}, result.report()
    assert result.seconds < 80, result.report()
    # The step-0 checkpoint of the session's start is the only one; complete.
    latest = tf.train.latest_checkpoint(str(ckpt))
    assert latest in (None, str(ckpt / "model.ckpt-0")), result.report()
    if latest is not None:
        assert tf.train.checkpoint_exists(latest)
