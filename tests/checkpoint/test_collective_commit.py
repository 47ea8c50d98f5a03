"""How process 0 reports a collective save's end, here in one process.

A fake coordination client stands in for the service; the 2-process run of
the same cases is tests/distributed/test_sharding.py.
"""

import logging
import re
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.checkpoint import Saver, _format, latest_checkpoint, state as state_lib

VALUES = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}
SPECS = {"w": _format.VarSpec((2, 3), np.dtype(np.float32))}


class _Client:
    """The coordination client's key-value store, optionally down."""

    def __init__(self, down=False):
        self.store = {}
        self.down = down

    def key_value_set(self, key, value):
        if self.down:
            raise RuntimeError("UNAVAILABLE: coordination service is down")
        self.store[key] = value

    def blocking_key_value_get(self, key, timeout_ms):
        return self.store[key]


@pytest.fixture
def client(monkeypatch):
    fake = _Client()
    monkeypatch.setattr(_format, "_coordination", lambda: fake)
    return fake


def test_a_failed_announcement_keeps_the_error_the_save_met(
    tmp_path, client, monkeypatch, caplog
):
    def broken(directory, values, key=None):
        raise OSError(f"disk full writing {directory}")

    monkeypatch.setattr(_format, "write_orbax", broken)
    client.down = True
    path = str(tmp_path / "m-1")
    with pytest.raises(OSError, match=re.escape(f"disk full writing {path}.partial")):
        _format.write_collective(path, VALUES, SPECS, "save_1", 5.0)
    assert (
        f"Could not tell the other processes how writing checkpoint {path} ended "
        f"(failed: OSError: disk full writing {path}.partial): "
        "RuntimeError: UNAVAILABLE: coordination service is down"
    ) in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_a_failed_announcement_after_a_good_save_is_logged_not_raised(
    tmp_path, client, caplog
):
    client.down = True
    path = str(tmp_path / "m-1")
    with caplog.at_level(logging.ERROR, logger="jaxsession"):
        _format.write_collective(path, VALUES, SPECS, "save_1", 5.0)
    assert f"how writing checkpoint {path} ended (ok)" in caplog.text
    np.testing.assert_array_equal(_format.read(path, SPECS)["w"], VALUES["w"])


def test_a_failed_state_write_after_the_commit_gives_every_process_one_error(
    tmp_path, client
):
    path = str(tmp_path / "m-1")

    def state_write():
        raise OSError("Permission denied: checkpoint")

    message = (
        f"Checkpoint {path} was written, but updating the checkpoint state file "
        "failed (OSError: Permission denied: checkpoint): it is neither the latest "
        "checkpoint nor kept in the Saver's list"
    )
    with pytest.raises(errors.UnknownError) as chief:
        _format.write_collective(
            path, VALUES, SPECS, "save_1", 5.0, after_commit=state_write
        )
    assert chief.value.message == message
    assert isinstance(chief.value.__cause__, OSError)
    assert client.store["save_1/committed"] == (
        "committed, after_commit failed: OSError: Permission denied: checkpoint"
    )
    # The checkpoint itself is complete.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1"]
    np.testing.assert_array_equal(_format.read(path, SPECS)["w"], VALUES["w"])
    # What another process is told: the same error.
    with pytest.raises(errors.UnknownError) as worker:
        _format._await_commit(path, "save_1", 5.0)
    assert worker.value.message == message


def test_a_failed_commit_is_data_loss_on_the_other_processes(tmp_path, client):
    client.store["save_2/committed"] = "failed: OSError: disk full"
    with pytest.raises(errors.DataLossError) as worker:
        _format._await_commit(str(tmp_path / "m-2"), "save_2", 5.0)
    assert worker.value.message == (
        f"Checkpoint {tmp_path}/m-2 is truncated or corrupted: process 0 failed "
        "to commit it (OSError: disk full)"
    )


def test_a_failed_state_write_leaves_the_saver_list_as_the_state_file_has_it(
    tmp_path, monkeypatch
):
    tf.train.get_or_create_global_step()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver = Saver(max_to_keep=2)
        first = saver.save(sess, str(tmp_path / "m"), 1)
        saver.wait_until_finished()
        real_update = state_lib.update_checkpoint_state

        def broken(*args, **kwargs):
            raise OSError("Permission denied: checkpoint")

        monkeypatch.setattr(state_lib, "update_checkpoint_state", broken)
        second = saver.save(sess, str(tmp_path / "m"), 2)
        with pytest.raises(OSError, match="Permission denied: checkpoint"):
            saver.wait_until_finished()
        assert saver.last_checkpoints == [first]
        assert latest_checkpoint(str(tmp_path)) == first
        assert Path(second).is_dir()  # written, but not tracked
        monkeypatch.setattr(state_lib, "update_checkpoint_state", real_update)
        third = saver.save(sess, str(tmp_path / "m"), 3)
        saver.wait_until_finished()
    assert saver.last_checkpoints == [first, third]
    assert latest_checkpoint(str(tmp_path)) == third
