"""SIGTERM stops a MonitoredTrainingSession after the current run and saves that step."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jaxsession as tf

ROOT = Path(__file__).resolve().parents[2]

TRAIN = textwrap.dedent(
    """
    import sys, time
    import jaxsession as tf

    steps = int(sys.argv[2])
    w = tf.Variable(1.0, name="w")
    gs = tf.train.get_or_create_global_step()
    train = tf.group(w.assign_add(1.0).op, gs.assign_add(1).op)
    hooks = [tf.train.StopAtStepHook(num_steps=steps)] if steps else []
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=sys.argv[1], hooks=hooks, save_summaries_steps=None,
        log_step_count_steps=None,
    ) as sess:
        print("START", sess.run(gs), flush=True)
        while not sess.should_stop():
            sess.run(train)
            print("STEP", flush=True)
            time.sleep(0.01)
    print("STOPPED", flush=True)
    """
)


def _start(directory, steps):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN, str(directory), str(steps)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigterm_stops_after_the_run_saves_it_and_a_restart_resumes(tmp_path):
    first = _start(tmp_path, 0)
    try:
        lines, deadline = [], time.monotonic() + 120
        while lines.count("STEP") < 5:
            assert time.monotonic() < deadline, "the child never trained 5 steps"
            line = first.stdout.readline()
            assert line, first.stderr.read()
            lines.extend(line.split())
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 0, err
    lines += out.split()
    assert lines[:2] == ["START", "0"] and lines[-1] == "STOPPED"
    done = lines.count("STEP")
    # Every run the child reported is in the checkpoint: no completed step lost.
    assert tf.train.latest_checkpoint(str(tmp_path)) == f"{tmp_path}/model.ckpt-{done}"
    assert tf.train.load_variable(str(tmp_path), "w") == 1.0 + done

    second = _start(tmp_path, 2)
    try:
        out, err = second.communicate(timeout=120)
    finally:
        second.kill()
    assert second.returncode == 0, err
    assert out.split() == ["START", str(done), "STEP", "STEP", "STOPPED"]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith(f"-{done + 2}")
