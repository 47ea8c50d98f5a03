"""Model-parallel variables and collective checkpoints in a real 2-process job.

One job (``_sharding_worker.train_save_restore``, 2 processes x 2 CPU
devices, mesh ``{'data': 2, 'model': 2}``) trains with a sharded embedding
and kernel, saves collectively twice, and restores its own checkpoint and
one written by this (one) process; the tests below check what it reported
against one-process runs here.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from tests.distributed import _sharding_worker as model
from tests.distributed.launch import launch

WORKER = Path(model.__file__)


def _train_here(steps):
    """The same training in this process on one device, unsharded."""
    tf.reset_default_graph()
    x, y, loss, train_op, _ = model.build(sharded=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [
            float(
                sess.run([loss, train_op], dict(zip((x, y), model.global_batch(i))))[0]
            )
            for i in range(steps)
        ]
        return losses, model.variables(sess)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The 2-process job's results, its directory, and the 1-process checkpoint's values."""
    root = tmp_path_factory.mktemp("sharding")
    (root / "one").mkdir()
    tf.reset_default_graph()
    model.build()
    rng = np.random.default_rng(3)
    with tf.Session() as sess:
        # Values no initializer gives, so a restore is told from an init.
        sess.set_variable_values(
            {
                v: rng.normal(size=v.shape.as_tuple()).astype(v.dtype.np_dtype)
                for v in tf.global_variables()
            }
        )
        one = model.variables(sess)
        saver = tf.train.Saver()
        path = saver.save(sess, str(root / "one" / "model"), global_step=7)
        saver.wait_until_finished()
    tf.reset_default_graph()
    result = launch(
        "train_save_restore",
        root / "job",
        n=2,
        timeout=120,
        env={"OTHER_CKPT": path},
        worker=WORKER,
    )
    return result, root / "job", one


def _assert_close(got, want):
    assert got.keys() == want.keys()
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, atol=1e-5, err_msg=name)


def test_two_processes_train_a_model_parallel_variable_like_one(job):
    result, _, _ = job
    chief, worker = result.check_ok()
    losses, variables = _train_here(6)
    for r in (chief, worker):
        # The embedding really is split across the processes.
        assert r["layout"] == {
            "mesh": {"data": 2, "model": 2},
            "spec": ["model"],
            "fully_addressable": False,
        }
        np.testing.assert_allclose(r["losses"], losses, atol=1e-5)
        _assert_close(r["variables"], variables)
        # A fetched batch is this process's rows, whole though split by model.
        emb, kernel = (np.asarray(variables[n]) for n in ("model/emb", "model/kernel"))
        want = emb[r["row_ids"]] @ kernel
        assert np.shape(r["rows"]) == (model.GLOBAL_BATCH // 2, 4)
        np.testing.assert_allclose(r["rows"], want, atol=1e-5)


def test_every_process_saves_collectively_and_gets_the_same_prefix(job):
    result, workdir, _ = job
    chief, worker = result.check_ok()
    ckpt = workdir / "ckpt"
    prefixes = [str(ckpt / f"model-{s}") for s in (2, 4, 6)]
    assert chief["paths"] == worker["paths"] == prefixes
    assert chief["last_checkpoints"] == worker["last_checkpoints"] == prefixes[1:]
    # max_to_keep=2: the chief retired model-2; nothing partial is left.
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "checkpoint",
        "model-4",
        "model-6",
    ]
    assert tf.train.latest_checkpoint(str(ckpt)) == prefixes[-1]
    # Each process wrote its own part; the manifest lists every variable.
    names = sorted(p.name for p in (ckpt / "model-6").iterdir())
    assert {"ocdbt.process_0", "ocdbt.process_1", "_JAXSESSION_MANIFEST.json"} <= set(
        names
    )
    manifest = json.loads((ckpt / "model-6" / "_JAXSESSION_MANIFEST.json").read_text())
    assert manifest["variables"]["model/emb"] == {"shape": [8, 6], "dtype": "float32"}
    assert manifest["variables"]["global_step"] == {"shape": [], "dtype": "int64"}
    assert "Deleting old checkpoint" in result.outputs[0]
    assert "Deleting old checkpoint" not in result.outputs[1]


def test_a_two_process_checkpoint_restores_in_two_processes_and_in_one(job):
    result, workdir, _ = job
    chief, worker = result.check_ok()
    for r in (chief, worker):
        assert r["restored"]["spec"] == ["model"]
        assert r["restored"]["local_shards"] == [[4, 6]]
        assert r["restored"]["variables"] == r["variables"]
    tf.reset_default_graph()
    model.build()
    with tf.Session() as sess:
        assert sess.mesh is None
        tf.train.Saver().restore(sess, str(workdir / "ckpt" / "model-6"))
        assert model.variables(sess) == chief["variables"]
        assert sess.run(tf.train.get_global_step()) == 6


def test_a_one_process_checkpoint_restores_in_two_processes(job):
    result, _, one = job
    for r in result.check_ok():
        assert r["restored_other"]["spec"] == ["model"]
        assert r["restored_other"]["local_shards"] == [[4, 6]]
        assert r["restored_other"]["variables"] == one


def test_workers_of_a_monitored_job_make_their_own_parts_of_sharded_variables(job):
    _, workdir, one = job
    result = launch(
        "monitored_start",
        workdir.parent / "monitored",
        n=2,
        timeout=120,
        worker=WORKER,
        env={"OTHER_CKPT": str(workdir.parent / "one" / "model-7")},
    )
    chief, worker = result.check_ok()
    _, initial = _train_here(0)
    # Initialized by the chief: the worker ran the sharded initializers itself.
    assert chief["initialized"]["before"] == worker["initialized"]["before"]
    _assert_close(chief["initialized"]["before"], initial)
    assert chief["initialized"]["after"] == worker["initialized"]["after"]
    # Restored by the chief: the worker read its own parts of the same checkpoint.
    assert chief["restored"]["before"] == worker["restored"]["before"] == one
    assert chief["restored"]["after"] == worker["restored"]["after"]
    # Two sharded variables and their two Adam slots each.
    assert (
        "[process 0/2 chief] 6 sharded variables: each process makes its parts"
        in (result.outputs[0])
    )


def test_every_process_is_told_how_the_chiefs_commit_ended_and_keeps_one_list(
    tmp_path,
):
    result = launch("failed_commit", tmp_path, n=2, timeout=120, worker=WORKER)
    chief, worker = result.check_ok()
    ckpt = tmp_path / "ckpt"
    prefixes = [str(ckpt / f"model-{s}") for s in (1, 2, 3)]
    # The manifest write fails: the save fails everywhere and leaves nothing.
    assert chief["manifest"]["path"] == worker["manifest"]["path"] == prefixes[0]
    assert chief["manifest"]["error"] == {
        "type": "OSError",
        "message": f"disk full writing the manifest of {prefixes[0]}.partial",
    }
    assert worker["manifest"]["error"] == {
        "type": "DataLossError",
        "message": f"Checkpoint {prefixes[0]} is truncated or corrupted: process 0 "
        f"failed to commit it (OSError: disk full writing the manifest of "
        f"{prefixes[0]}.partial)",
    }
    assert chief["manifest"]["files"] == worker["manifest"]["files"] == []
    # The state file write fails after the commit: one error everywhere, and
    # no process lists the checkpoint, which stays on disk, complete.
    state_error = {
        "type": "UnknownError",
        "message": f"Checkpoint {prefixes[1]} was written, but updating the checkpoint "
        f"state file failed (OSError: Permission denied: {ckpt}/checkpoint): it is "
        "neither the latest checkpoint nor kept in the Saver's list",
    }
    for r in (chief, worker):
        assert r["state"]["error"] == state_error
        assert r["state"]["last_checkpoints"] == []
        assert r["state"]["files"] == ["model-2"]
    # The next save works and every process keeps the same list.
    for r in (chief, worker):
        assert r["good"]["error"] is None
        assert r["good"]["last_checkpoints"] == [prefixes[2]]
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "checkpoint",
        "model-2",
        "model-3",
    ]
    assert tf.train.latest_checkpoint(str(ckpt)) == prefixes[2]
    assert tf.train.get_checkpoint_state(str(ckpt)).all_model_checkpoint_paths == [
        prefixes[2]
    ]
