"""Seconds cadences in a 2-process job: the chief's clock decides for both.

Steps are slow (a sleep per run) so the cadences fire mid-training; the
worker's own hooks get a clock running 5 times as fast, so had it decided
alone it would have saved and summarized at other steps.
"""

from pathlib import Path

from tests.distributed.launch import launch
from tests.helpers.events import scalars

FAULT_WORKER = Path(__file__).with_name("_fault_worker.py")


def test_seconds_cadences_save_and_summarize_at_the_same_steps_everywhere(tmp_path):
    job = launch("cadence", tmp_path, timeout=120, worker=FAULT_WORKER)
    chief, worker = job.check_ok()
    assert chief["runs"] == worker["runs"] == 24
    # The default CheckpointSaverHook (chief) and its mirror (worker) called
    # Saver.save at the same steps: at creation, on the cadence, at the end.
    assert chief["saves"] == worker["saves"], job.report()
    assert chief["saves"][0] == 0 and chief["saves"][-1] == 24
    # 24 runs of >= 0.06 s: the 0.3 s cadence fired in between, more than once.
    assert len(chief["saves"]) >= 4, chief["saves"]
    # The users' hooks on both processes (the worker's with a fast clock).
    assert chief["listener"] == worker["listener"], job.report()
    assert len(chief["listener"]) >= 4
    assert chief["summaries"] == worker["summaries"], job.report()
    assert len(chief["summaries"]) >= 5
    # Only the chief wrote the default summaries, at the steps it decided.
    steps = [s for s, _, _ in scalars(tmp_path / "ckpt", "loss")]
    assert len(steps) >= 5 and steps[0] == 1
