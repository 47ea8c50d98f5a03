"""Saver: save/restore round trips, errors, retention, async failures, integrity."""

import pickle
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors
from jaxsession.checkpoint import (
    Saver,
    _format,
    checkpoint_exists,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_variable,
    state as state_lib,
)

W0 = np.arange(12, dtype=np.float32).reshape(3, 4)


def _model():
    w = tf.get_variable("w", shape=[3, 4], initializer=tf.zeros_initializer())
    b = tf.get_variable("dense/b", shape=[4], initializer=tf.zeros_initializer())
    gs = tf.train.get_or_create_global_step()
    return w, b, gs


def _session(values):
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.set_variable_values(values)
    return sess


def _largest_file(prefix):
    files = [
        f for f in Path(prefix).rglob("*") if f.is_file() and f.name != _format.MANIFEST
    ]
    return max(files, key=lambda f: f.stat().st_size)


# -- round trip and naming ----------------------------------------------------------


def _names(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def test_save_and_restore_round_trip_with_int64_global_step(tmp_path):
    w, b, gs = _model()
    saver = Saver()
    sess = _session({w: W0, b: np.ones(4, np.float32), gs: 7})
    path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=gs)
    saver.wait_until_finished()
    assert path == f"{tmp_path}/model.ckpt-7"
    assert latest_checkpoint(str(tmp_path)) == path
    assert list_variables(str(tmp_path)) == [
        ("dense/b", [4]),
        ("global_step", []),
        ("w", [3, 4]),
    ]
    step = load_variable(path, "global_step:0")
    assert step.dtype == np.int64 and step == 7
    sess.set_variable_values({w: np.zeros((3, 4)), b: np.zeros(4), gs: 0})
    saver.restore(sess, path)
    got_w, got_b, got_gs = sess.run([w, b, gs])
    np.testing.assert_array_equal(got_w, W0)
    np.testing.assert_array_equal(got_b, np.ones(4))
    assert got_gs == 7


def test_prefix_naming_rules(tmp_path):
    w, _, gs = _model()
    sess = _session({gs: 3})
    saver = Saver(pad_step_number=True)
    assert (
        saver.save(sess, str(tmp_path / "m"), global_step=gs + 1)
        == f"{tmp_path}/m-00000004"
    )
    assert (
        Saver().save(sess, str(tmp_path / "m"), global_step=np.int64(5))
        == f"{tmp_path}/m-5"
    )
    plain = Saver()
    assert plain.save(sess, str(tmp_path / "plain")) == f"{tmp_path}/plain"
    plain.wait_until_finished()
    saver.wait_until_finished()
    assert checkpoint_exists(f"{tmp_path}/plain")
    with pytest.raises(ValueError, match="'latest_filename' collides with 'save_path'"):
        plain.save(sess, str(tmp_path / "checkpoint"))
    with pytest.raises(
        ValueError, match="'latest_filename' must not contain path components"
    ):
        plain.save(sess, str(tmp_path / "m"), 1, latest_filename="sub/checkpoint")
    missing = tmp_path / "nowhere" / "m"
    with pytest.raises(
        ValueError,
        match=re.escape(f"Parent directory of {missing} doesn't exist, can't save."),
    ):
        plain.save(sess, str(missing), 1)


def test_relative_save_dir_writes_relative_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpts").mkdir()
    _, _, gs = _model()
    saver = Saver()
    path = saver.save(_session({gs: 1}), "ckpts/model", global_step=1)
    saver.wait_until_finished()
    assert path == "ckpts/model-1"
    assert (tmp_path / "ckpts" / "checkpoint").read_text().splitlines()[0] == (
        'model_checkpoint_path: "model-1"'
    )
    assert latest_checkpoint("ckpts") == "ckpts/model-1"


def test_var_list_dict_names_the_keys_and_empty_savers(tmp_path):
    w, _, _ = _model()
    saver = Saver({"renamed/kernel": w})
    path = saver.save(_session({w: W0}), str(tmp_path / "m"), 1)
    saver.close()
    assert list_variables(path) == [("renamed/kernel", [3, 4])]
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            Saver()
        assert (
            Saver(allow_empty=True).save(tf.Session(), str(tmp_path / "e"), 1) is None
        )
    with pytest.raises(
        RuntimeError, match="`build\\(\\)` should be called before save"
    ):
        Saver(defer_build=True).save(tf.Session(), str(tmp_path / "m"))
    with pytest.raises(
        TypeError, match="Variable to save is not a Variable: 3 of type int"
    ):
        Saver([w, 3])


def test_saving_uninitialized_variables_fails(tmp_path):
    w, b, gs = _model()
    sess = tf.Session()
    sess.set_variable_values({w: W0})
    with pytest.raises(
        errors.FailedPreconditionError,
        match=re.escape(
            "Attempting to save uninitialized variables: dense/b, global_step"
        ),
    ):
        Saver().save(sess, str(tmp_path / "m"), global_step=1)


# -- restore errors -------------------------------------------------------------------


def test_restore_bad_paths():
    _model()
    saver = Saver()
    with pytest.raises(
        ValueError, match=re.escape("Can't load save_path when it is None.")
    ):
        saver.restore(tf.Session(), None)
    with pytest.raises(
        ValueError, match="The passed save_path is not a valid checkpoint: /no/such/m-1"
    ):
        saver.restore(tf.Session(), "/no/such/m-1")


def test_missing_variables_are_all_named_and_nothing_changes(tmp_path):
    a = tf.get_variable("a", shape=[2], initializer=tf.zeros_initializer())
    for name in "bcdefg":
        tf.get_variable(name, shape=[2])
    sess = _session({a: np.ones(2)})
    partial = Saver([a])
    path = partial.save(sess, str(tmp_path / "m"), 1)
    partial.close()
    sess.set_variable_values({a: np.full(2, 5.0)})
    with pytest.raises(
        errors.NotFoundError,
        match=re.escape(
            f"6 variable(s) not found in checkpoint {path}: b, c, d, e, f, and 1 more"
        ),
    ):
        Saver().restore(sess, path)
    np.testing.assert_array_equal(sess.run(a), [5.0, 5.0])


def test_shape_and_dtype_mismatches_are_named_and_nothing_changes(tmp_path):
    w, b, gs = _model()
    saver = Saver()
    path = saver.save(_session({w: W0, gs: 2}), str(tmp_path / "m"), 2)
    saver.close()
    with tf.Graph().as_default():
        w2 = tf.get_variable("w", shape=[4, 4], initializer=tf.zeros_initializer())
        b2 = tf.get_variable(
            "dense/b", shape=[4], dtype=tf.int32, initializer=tf.zeros_initializer()
        )
        tf.train.get_or_create_global_step()
        sess = _session({b2: np.array([1, 2, 3, 4])})
        with pytest.raises(
            errors.InvalidArgumentError,
            match=re.escape(
                f"Restoring from checkpoint {path} failed: 2 variable(s) do not match the "
                "graph: 'w' has shape (3, 4) dtype float32 in the checkpoint, shape (4, 4) "
                "dtype float32 in the graph; 'dense/b' has shape (4,) dtype float32 in the "
                "checkpoint, shape (4,) dtype int32 in the graph"
            ),
        ):
            Saver().restore(sess, path)
        np.testing.assert_array_equal(sess.run(b2), [1, 2, 3, 4])
        np.testing.assert_array_equal(sess.run(w2), np.zeros((4, 4)))


def test_reshape_allows_same_size(tmp_path):
    w, _, _ = _model()
    saver = Saver([w])
    path = saver.save(_session({w: W0}), str(tmp_path / "m"), 1)
    saver.close()
    with tf.Graph().as_default():
        w2 = tf.get_variable("w", shape=[2, 6], initializer=tf.zeros_initializer())
        sess = _session({})
        Saver([w2], reshape=True).restore(sess, path)
        np.testing.assert_array_equal(sess.run(w2), W0.reshape(2, 6))


# -- asynchronous saving --------------------------------------------------------------


def test_save_returns_before_the_write_and_saves_run_one_at_a_time(
    tmp_path, monkeypatch
):
    spans, release = [], threading.Event()
    real = _format.write_orbax

    def slow_write(directory, values):
        start = time.monotonic()
        release.wait(10)
        real(directory, values)
        spans.append((start, time.monotonic()))

    monkeypatch.setattr(_format, "write_orbax", slow_write)
    w, _, gs = _model()
    sess = _session({w: W0, gs: 1})
    saver = Saver()
    first = saver.save(sess, str(tmp_path / "m"), 1)
    assert not checkpoint_exists(first)  # still being written
    sess.set_variable_values({w: W0 + 1})  # later changes do not reach the snapshot
    threading.Timer(0.2, release.set).start()
    second = saver.save(sess, str(tmp_path / "m"), 2)  # waits for the first
    saver.wait_until_finished()
    assert spans[1][0] >= spans[0][1]
    assert saver.last_checkpoints == [first, second]
    assert latest_checkpoint(str(tmp_path)) == second
    np.testing.assert_array_equal(load_variable(first, "w"), W0)
    np.testing.assert_array_equal(load_variable(second, "w"), W0 + 1)


def test_failed_background_write_surfaces_and_never_becomes_latest(
    tmp_path, monkeypatch
):
    w, _, gs = _model()
    sess = _session({w: W0})
    saver = Saver()
    good = saver.save(sess, str(tmp_path / "m"), 1)
    saver.wait_until_finished()

    def broken(directory, values):
        Path(directory).mkdir()
        (Path(directory) / "half_written").write_bytes(b"x" * 10)
        raise OSError("No space left on device (injected)")

    monkeypatch.setattr(_format, "write_orbax", broken)
    bad = saver.save(sess, str(tmp_path / "m"), 2)
    with pytest.raises(OSError, match=re.escape("No space left on device (injected)")):
        saver.wait_until_finished()
    saver.wait_until_finished()  # raised once only
    assert latest_checkpoint(str(tmp_path)) == good
    assert not Path(bad).exists()
    assert _names(tmp_path) == ["checkpoint", "m-1"]
    assert saver.last_checkpoints == [good]
    saver.save(sess, str(tmp_path / "m"), 3)
    with pytest.raises(OSError, match="injected"):  # surfaces at the next save too
        saver.save(sess, str(tmp_path / "m"), 4)
    monkeypatch.undo()
    assert saver.save(sess, str(tmp_path / "m"), 5) == f"{tmp_path}/m-5"
    saver.close()
    assert latest_checkpoint(str(tmp_path)) == f"{tmp_path}/m-5"


# -- retention -------------------------------------------------------------------------


def test_max_to_keep_deletes_oldest_and_resave_moves_to_end(tmp_path):
    _, _, gs = _model()
    sess = _session({gs: 0})
    saver = Saver(max_to_keep=2)
    paths = [saver.save(sess, str(tmp_path / "m"), s) for s in (1, 2, 3)]
    assert saver.last_checkpoints == paths[1:]
    assert not Path(paths[0]).exists()
    saver.save(sess, str(tmp_path / "m"), 2)
    assert saver.last_checkpoints == [paths[2], paths[1]]
    state = get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == paths[1]
    assert state.all_model_checkpoint_paths == [paths[2], paths[1]]


def test_keep_checkpoint_every_n_hours_preserves_off_the_list(tmp_path):
    _, _, gs = _model()
    sess = _session({gs: 0})
    now = [0.0]
    saver = Saver(
        max_to_keep=1, keep_checkpoint_every_n_hours=1.0, clock=lambda: now[0]
    )
    paths = []
    for step, hours in [(1, 0.5), (2, 1.5), (3, 2.0), (4, 2.5)]:
        now[0] = hours * 3600
        paths.append(saver.save(sess, str(tmp_path / "m"), step))
    assert saver.last_checkpoints == [paths[3]]
    assert [Path(p).exists() for p in paths] == [False, True, False, True]
    assert get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths == [paths[3]]


def test_max_to_keep_none_keeps_everything_and_lists_newest(tmp_path):
    _, _, gs = _model()
    sess = _session({})
    saver = Saver(max_to_keep=None)
    paths = [saver.save(sess, str(tmp_path / "m"), s) for s in (1, 2, 3)]
    assert saver.last_checkpoints == []
    assert all(checkpoint_exists(p) for p in paths)
    assert get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths == [paths[2]]


def test_recover_last_checkpoints_continues_retention(tmp_path):
    _, _, gs = _model()
    sess = _session({})
    first = Saver(max_to_keep=5)
    paths = [first.save(sess, str(tmp_path / "m"), s) for s in (1, 2)]
    first.close()
    saver = Saver(max_to_keep=2)
    saver.recover_last_checkpoints([*paths, str(tmp_path / "m-gone")])
    assert saver.last_checkpoints == paths
    saver.save(sess, str(tmp_path / "m"), 3)
    saver.close()
    assert not Path(paths[0]).exists()
    assert saver.last_checkpoints == [paths[1], f"{tmp_path}/m-3"]


# -- integrity ----------------------------------------------------------------------------


def test_truncated_checkpoint_is_skipped_and_fails_restore_clearly(tmp_path):
    w, _, gs = _model()
    sess = _session({w: W0})
    saver = Saver()
    good = saver.save(sess, str(tmp_path / "m"), 1)
    sess.set_variable_values({w: W0 * 2})
    bad = saver.save(sess, str(tmp_path / "m"), 2)
    saver.close()
    victim = _largest_file(bad)
    size = victim.stat().st_size
    victim.write_bytes(victim.read_bytes()[: size // 2])
    assert not checkpoint_exists(bad)
    assert latest_checkpoint(str(tmp_path)) == good
    state = get_checkpoint_state(str(tmp_path))
    assert (state.model_checkpoint_path, state.all_model_checkpoint_paths) == (
        good,
        [good],
    )
    rel = victim.relative_to(bad)
    with pytest.raises(
        errors.DataLossError,
        match=re.escape(
            f"Checkpoint {bad} is truncated or corrupted: {rel} has {size // 2} bytes, "
            f"expected {size}"
        ),
    ):
        saver.restore(sess, bad)
    saver.restore(sess, latest_checkpoint(str(tmp_path)))
    np.testing.assert_array_equal(sess.run(w), W0)


def test_corrupted_bytes_fail_the_checksum_on_restore(tmp_path):
    w, _, _ = _model()
    sess = _session({w: W0})
    saver = Saver()
    path = saver.save(sess, str(tmp_path / "m"), 1)
    saver.close()
    victim = _largest_file(path)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    sess.set_variable_values({w: W0 + 3})
    with pytest.raises(
        errors.DataLossError,
        match=re.escape(f"{victim.relative_to(path)} fails its checksum"),
    ):
        saver.restore(sess, path)
    np.testing.assert_array_equal(sess.run(w), W0 + 3)


class _Bomb:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_loading_never_unpickles(tmp_path):
    w, _, _ = _model()
    sess = _session({w: W0})
    saver = Saver()
    path = saver.save(sess, str(tmp_path / "m"), 1)
    saver.close()
    marker = tmp_path / "bomb_went_off"
    bomb = pickle.dumps(_Bomb(str(marker)))
    pickle.loads(bomb)  # the bomb works when unpickled ...
    assert marker.exists()
    marker.unlink()
    for name in ("_METADATA.pkl", "data.pkl", "model.pkl"):
        (Path(path) / name).write_bytes(bomb)
    saver.restore(sess, path)  # ... extra files are never opened
    np.testing.assert_array_equal(sess.run(w), W0)
    # Orbax reads a file named 'checkpoint' as its legacy msgpack tree: data
    # only, so the bomb is a decoding failure.
    (Path(path) / "checkpoint").write_bytes(bomb)
    with pytest.raises(errors.DataLossError, match="reading failed"):
        saver.restore(sess, path)
    (Path(path) / "checkpoint").unlink()
    (Path(path) / "_METADATA").write_bytes(bomb)
    with pytest.raises(errors.DataLossError, match=re.escape(f"Checkpoint {path}")):
        saver.restore(sess, path)
    with pytest.raises(errors.DataLossError, match="_METADATA has"):
        load_variable(path, "w")
    assert not marker.exists()


def test_partial_directory_is_not_a_checkpoint(tmp_path):
    w, _, _ = _model()
    sess = _session({w: W0})
    saver = Saver()
    path = saver.save(sess, str(tmp_path / "m"), 1)
    saver.close()
    Path(path).rename(path + _format.PARTIAL_SUFFIX)
    assert not checkpoint_exists(path)
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        saver.restore(sess, path)
    saver.save(sess, str(tmp_path / "m"), 1)  # a later save cleans up and succeeds
    saver.close()
    assert _names(tmp_path) == ["checkpoint", "m-1"]
    assert state_lib.latest_checkpoint(str(tmp_path)) == path


def test_reading_the_state_waits_for_a_save_in_flight(tmp_path, monkeypatch):
    # A TF1 program saves and at once restores in a new graph or exits.
    release = threading.Event()
    real = _format.write_orbax

    def slow_write(directory, values):
        release.wait(10)
        real(directory, values)

    monkeypatch.setattr(_format, "write_orbax", slow_write)
    w, _, gs = _model()
    sess = _session({w: W0})
    first = Saver().save(sess, str(tmp_path / "m"), 1)
    threading.Timer(0.2, release.set).start()
    assert latest_checkpoint(str(tmp_path)) == first
    np.testing.assert_array_equal(load_variable(first, "w"), W0)


def test_a_resave_that_crashed_midway_loses_no_checkpoint(tmp_path):
    # Re-saving step 7 (a restart's first save) moves the committed
    # model.ckpt-7 aside before renaming the new one in; a crash between
    # the two renames must not lose step 7.
    w, b, gs = _model()
    saver = Saver(max_to_keep=1)
    sess = _session({w: W0, b: np.ones(4, np.float32), gs: 7})
    path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=gs)
    saver.wait_until_finished()
    Path(path).rename(path + _format.PARTIAL_SUFFIX + "-old")  # the crash
    assert latest_checkpoint(str(tmp_path)) == path
    assert Path(path).is_dir()
    restored = tf.Session()
    saver.restore(restored, path)
    np.testing.assert_array_equal(restored.run(w), W0)
    assert int(restored.run(gs)) == 7
    # And the re-save itself, done again, leaves one committed step 7.
    again = saver.save(restored, str(tmp_path / "model.ckpt"), global_step=gs)
    saver.wait_until_finished()
    assert again == path
    assert _format.is_complete(path)
    assert not Path(path + _format.PARTIAL_SUFFIX + "-old").exists()
