"""Real multi-process jobs on localhost: 2 processes with 2 CPU devices each.

Each test starts its processes through ``launch.launch`` (bounded, killed in
``finally``, outputs in the failure message); the scenarios are in
``_worker.py``.
"""

import numpy as np

import jaxsession as tf
from tests.distributed import _mlp
from tests.distributed.launch import launch
from tests.helpers.events import event_files, scalars


def _train_in_one_process(steps):
    x, y, loss, train_op, step = _mlp.build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [
            float(
                sess.run([loss, train_op], dict(zip((x, y), _mlp.global_batch(i))))[0]
            )
            for i in range(steps)
        ]
        return losses, _mlp.variables(sess)


def test_two_processes_train_like_one_on_the_same_global_batches(tmp_path):
    job = launch("data_parallel", tmp_path, timeout=90)
    first, second = job.check_ok()
    losses, variables = _train_in_one_process(20)
    for result in (first, second):
        assert result["devices"] == 4 and result["local_devices"] == 2, job.report()
        assert result["step"] == 20
        # A batch-sharded fetch comes back as this process's part of the batch.
        np.testing.assert_allclose(
            result["row_sums"], result["local_row_sums"], rtol=1e-6
        )
        assert len(result["row_sums"]) == _mlp.GLOBAL_BATCH // 2
        np.testing.assert_allclose(result["losses"], losses, atol=1e-5)
        for name, value in variables.items():
            np.testing.assert_allclose(
                result["variables"][name], value, atol=1e-5, err_msg=name
            )


def test_chief_restores_while_the_worker_waits_and_only_the_chief_writes(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    x, y, _, train_op, step = _mlp.build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(3):
            sess.run(train_op, dict(zip((x, y), _mlp.global_batch(i))))
        saved = _mlp.variables(sess)
        saver = tf.train.Saver()
        saver.save(sess, str(ckpt / "model.ckpt"), global_step=step)
        saver.wait_until_finished()

    job = launch(
        "monitored",
        tmp_path / "job",
        timeout=90,
        env={"CKPT_DIR": str(ckpt), "SAVE_STEPS": "3", "SUMMARY_STEPS": "2"},
    )
    chief, worker = job.check_ok()
    # Both start from the chief's restored values, not from their own init.
    for result in (chief, worker):
        assert result["before"]["step"] == 3
        assert result["before"]["variables"] == saved
        assert result["runs"] == 3  # StopAtStepHook(last_step=6) from step 3
    assert chief["after"] == worker["after"]
    assert chief["after"]["step"] == 6
    assert tf.train.latest_checkpoint(str(ckpt)) == str(ckpt / "model.ckpt-6")
    # The 2-process job's checkpoint restores in one process.
    with tf.Session() as sess:
        saver.restore(sess, str(ckpt / "model.ckpt-6"))
        assert _mlp.variables(sess) == chief["after"]["variables"]
        assert sess.run(step) == 6
    # Summaries need a cross-device mean: the worker computes them too (or the
    # processes' collectives would not pair up) but only the chief writes.
    assert len(event_files(ckpt)) == 1
    assert [s for s, _, _ in scalars(ckpt, "loss")] == [4, 6]
    hooks = sorted(p.name for p in (tmp_path / "job").glob("*-hook-*.txt"))
    assert hooks == ["all-hook-0.txt", "all-hook-1.txt", "chief-hook-0.txt"]
    assert (tmp_path / "job" / "chief-hook-0.txt").read_text() == "after_run\n" * 3
    # Log lines name the process and its role.
    assert "[process 0/2 chief] sent 5 variable values to the workers" in job.outputs[0]
    assert "[process 1/2 worker] received 5 variable values" in job.outputs[1]


def test_a_worker_waiting_too_long_for_the_chief_gets_deadline_exceeded(tmp_path):
    job = launch("worker_timeout", tmp_path, timeout=60)
    _, worker = job.check_ok()
    assert worker["type"] == "DeadlineExceededError"
    assert worker["error"] == (
        "[process 1/2 worker] waited 1.5 secs for the chief (process 0) to "
        "initialize or restore the variables (coordination key "
        "'jaxsession/chief_ready/1') and gave up"
    )
    # It gave up only after waiting its max_wait_secs.
    assert worker["seconds"] >= 1.5
    assert worker["contradiction"] == (
        "is_chief=True contradicts this process's index 1 of 2: the chief is "
        "process 0 (pass is_chief=None to derive it)"
    )


def test_killing_one_process_makes_the_other_fail_within_the_heartbeat_bound(
    tmp_path,
):
    job = launch("killed_peer", tmp_path, timeout=60, kill=(1, 0.2))
    survivor_rc, killed_rc = job.returncodes
    assert killed_rc == -9, job.report()
    # It fails (an abort from the coordination service or a failed
    # collective), naming the lost task, instead of hanging until the deadline.
    assert survivor_rc not in (0, None), job.report()
    assert job.seconds < 45, job.report()
    output = job.outputs[0]
    # Its run fails with UnavailableError, or it is stuck in a computation
    # with the dead peer and exits 1; both name the lost process.
    assert "lost process 1 of 2 (it stopped" in output, job.report()
