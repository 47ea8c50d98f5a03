"""Multi-step runs in a real two-process job (tests/distributed/_multistep_worker.py)."""

from pathlib import Path

import numpy as np

from tests.distributed.launch import launch


def test_two_processes_run_k_steps_like_k_single_runs(tmp_path):
    worker = Path(__file__).with_name("_multistep_worker.py")
    job = launch("multistep", tmp_path, timeout=120, worker=worker)
    for result in job.check_ok():
        # Each process's in-memory data sits on its devices, and gives the
        # batches the host pipeline gives.
        assert result["dataset_feeder"] == "DeviceSlices", job.report()
        assert result["dataset_host_feeder"] == "Prefetcher", job.report()
        np.testing.assert_allclose(
            result["dataset_single"]["losses"], result["dataset_host"]["losses"], 1e-6
        )
        for name in ("fed", "dataset"):
            single, multi = result[f"{name}_single"], result[f"{name}_multi"]
            assert single["mesh"] == multi["mesh"] == {"data": 4}, job.report()
            assert single["step"] == multi["step"] == 8
            np.testing.assert_allclose(
                multi["losses"], single["losses"], rtol=1e-6, atol=1e-6, err_msg=name
            )
            for var, value in single["variables"].items():
                np.testing.assert_allclose(
                    multi["variables"][var], value, rtol=1e-6, atol=1e-6, err_msg=var
                )
