"""A process of a 2-process job dies: the other fails in bounded time, naming it.

Bounds (heartbeat timeout 5 s in these workers): a lost worker is noticed by
the coordination service within the heartbeat timeout; the chief then gets
``cluster.PeerLostError`` (an ``UnavailableError``) from the call that
waits on the dead worker (a run, a save), or, if its main thread is stuck
elsewhere in a computation with it, exits 1 after a grace of
min(heartbeat, 10) s with the same message. A lost chief takes the
coordination service with it: JAX's client aborts the workers (exit -6).
"""

from pathlib import Path

import pytest

from tests.distributed.launch import launch

FAULT_WORKER = Path(__file__).with_name("_fault_worker.py")
LOSS_WORKER = Path(__file__).with_name("_loss_worker.py")
LOST = (
    "[process 0/2 chief] lost process 1 of 2 (it stopped: killed, crashed or "
    "unreachable); the job cannot continue without it: restart every process "
    "to resume from the last checkpoint."
)


# Heartbeat timeout (5 s) + the margin of a loaded 2-core machine.
BOUND_SECS = 12


def _chief_lost_the_worker(job):
    """The chief's result: it exited 0 after a PeerLostError naming process 1."""
    chief_rc, killed_rc = job.returncodes
    assert killed_rc == -9, job.report()
    assert chief_rc == 0, job.report()
    chief = job.results[0]
    assert chief["type"] == "PeerLostError", job.report()
    assert chief["unavailable"] is True
    assert chief["lost"] == [1]
    assert chief["message"].startswith(LOST), chief["message"]
    return chief


def test_a_worker_killed_between_runs_fails_the_chief_with_unavailable(tmp_path):
    job = launch(
        "train_until_killed",
        tmp_path,
        timeout=120,
        kill=(1, 0.5),
        env={"IDLE": "1"},
        worker=FAULT_WORKER,
    )
    chief = _chief_lost_the_worker(job)
    # Noticed within the heartbeat timeout (5 s), plus a run.
    assert chief["seconds"] < 20, chief
    assert "Traceback" not in job.outputs[0], job.report()


@pytest.mark.parametrize(
    ("scenario", "context"),
    [
        (
            "killed_mid_step",
            "It was lost while this process waited for a computation with it.",
        ),
        ("killed_mid_save", "It was lost while checkpoint "),
    ],
)
def test_a_worker_dying_mid_step_or_mid_save_is_an_unavailable_error_in_the_chief(
    tmp_path, scenario, context
):
    """Within the heartbeat bound, and the chief exits 0 soon after.

    ``_loss_worker.py`` sets a 120 s shutdown timeout: neither it nor
    Orbax's 300 s barrier timeout may be waited out.
    """
    job = launch(scenario, tmp_path, timeout=100, worker=LOSS_WORKER)
    chief = _chief_lost_the_worker(job)
    assert chief["message"].startswith(f"{LOST} {context}"), chief["message"]
    if scenario == "killed_mid_save":
        assert "model.ckpt-6 was being written." in chief["message"]
    assert chief["seconds"] < BOUND_SECS, chief
    # Left the job at once: the result file is the scenario's last act.
    exited = job.ended[0] - (tmp_path / "result-0.json").stat().st_mtime
    assert exited < BOUND_SECS, job.report()
    assert "Traceback" not in job.outputs[0], job.report()


def test_a_worker_killed_mid_training_ends_the_chief_naming_it(tmp_path):
    job = launch(
        "train_until_killed", tmp_path, timeout=120, kill=(1, 0.5), worker=FAULT_WORKER
    )
    chief_rc, killed_rc = job.returncodes
    assert killed_rc == -9, job.report()
    output = job.outputs[0]
    # Either its run failed (PeerLostError, caught by the scenario) or it
    # was stuck in a computation with the dead worker and exited 1.
    assert chief_rc in (0, 1), job.report()
    if chief_rc == 0:
        assert job.results[0]["message"].startswith(LOST), job.report()
        assert job.results[0]["lost"] == [1]
    else:
        assert (
            "jaxsession: [process 0/2 chief] lost process 1 of 2 (it stopped: "
            "killed, crashed or unreachable). This process waited 5 secs in "
        ) in output, job.report()
        assert "a computation with the lost process, and exits (code 1)" in output
    assert "Traceback" not in output, job.report()
    assert job.seconds < 90, job.report()


def test_a_killed_chief_ends_the_workers_within_seconds(tmp_path):
    job = launch(
        "train_until_killed", tmp_path, timeout=120, kill=(0, 0.5), worker=FAULT_WORKER
    )
    killed_rc, worker_rc = job.returncodes
    assert killed_rc == -9, job.report()
    # The chief ran the coordination service: JAX's client aborts the worker
    # (it cannot be caught from Python in jax 0.10), well before the deadline.
    assert worker_rc not in (0, None), job.report()
    assert job.seconds < 90, job.report()
    assert "detected fatal errors" in job.outputs[1] or (
        "lost the chief (process 0" in job.outputs[1]
    ), job.report()
