"""What interrupted saves and deletions leave is cleaned; an edited manifest is caught."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.checkpoint import _format, saver as saver_lib

W0 = np.arange(6, dtype=np.float32).reshape(2, 3)


def _session():
    w = tf.get_variable("w", initializer=W0)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    return sess, w


def _names(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def _save_once(sess, prefix, step):
    """A new Saver's first save (which cleans), waited for."""
    saver = tf.train.Saver()
    saver.save(sess, prefix, global_step=step)
    saver.close()


def _leftover(path):
    path.mkdir()
    (path / "data").write_bytes(b"x" * 10)


def _half_deleted(path):
    # What a deletion killed midway leaves: some of a checkpoint's files.
    (path / "d").mkdir(parents=True)
    (path / "d" / "0a1b").write_bytes(b"x" * 10)
    (path / "_METADATA").write_text("{}")


def test_the_first_save_removes_its_own_leftovers_and_nothing_else(tmp_path):
    sess, _ = _session()
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    for step in (1, 2):
        saver.save(sess, prefix, global_step=step)
    saver.close()
    # A damaged checkpoint still listed in the state file: committed, kept.
    (Path(f"{prefix}-2") / _format.MANIFEST).unlink()
    # A complete, unlisted checkpoint (kept on disk by retention): kept.
    shutil.copytree(f"{prefix}-1", f"{prefix}-0")
    shutil.rmtree(f"{prefix}-1")
    # What kills left: a write, an Orbax temp dir, a deletion, an aside whose
    # checkpoint was re-saved, and a half-deleted (older version) checkpoint.
    own = [
        "model.ckpt-3.partial",
        "model.ckpt-4.partial.orbax-checkpoint-tmp-1700000000",
        "model.ckpt-5.partial-deleted",
        "model.ckpt-2.partial-old",
    ]
    for name in own:
        _leftover(tmp_path / name)
    own.append("model.ckpt-6")
    _half_deleted(tmp_path / own[-1])
    # Not this Saver's: another prefix, other files.
    foreign = ["other.ckpt-3.partial", "model.ckpt-7.index", "notes"]
    _leftover(tmp_path / foreign[0])
    for name in foreign[1:]:
        (tmp_path / name).write_text("keep")

    again = tf.train.Saver(max_to_keep=2)
    again.save(sess, prefix, global_step=8)
    again.close()
    assert _names(tmp_path) == sorted(
        ["checkpoint", "model.ckpt-0", "model.ckpt-2", "model.ckpt-8", *foreign]
    )
    assert not (Path(f"{prefix}-2") / _format.MANIFEST).exists()


def test_an_aside_whose_checkpoint_is_missing_is_put_back_not_removed(tmp_path):
    sess, w = _session()
    saver = tf.train.Saver()
    path = saver.save(sess, str(tmp_path / "m"), global_step=1)
    saver.close()
    Path(path).rename(path + _format.PARTIAL_SUFFIX + _format.ASIDE)
    _save_once(sess, str(tmp_path / "m"), 2)
    assert _format.is_complete(path)
    assert _names(tmp_path) == ["checkpoint", "m-1", "m-2"]


def test_a_retention_deletion_killed_midway_leaves_nothing_at_the_prefix(
    tmp_path, monkeypatch
):
    sess, _ = _session()
    saver = tf.train.Saver(max_to_keep=1)
    first = saver.save(sess, str(tmp_path / "m"), global_step=1)
    saver.close()
    real = shutil.rmtree

    def killed(path, ignore_errors=False):
        if str(path).endswith(_format.DELETING) and Path(path).exists():
            # The kill: half of the files are gone, the rest stays.
            victim = sorted(p for p in Path(path).rglob("*") if p.is_file())[0]
            victim.unlink()
            raise KeyboardInterrupt
        real(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(shutil, "rmtree", killed)
    saver.save(sess, str(tmp_path / "m"), global_step=2)
    with pytest.raises(KeyboardInterrupt):
        saver.close()
    monkeypatch.undo()
    # The prefix is gone at once; its remains carry the deleting suffix.
    assert _names(tmp_path) == ["checkpoint", "m-1.partial-deleted", "m-2"]
    assert not tf.train.checkpoint_exists(first)
    _save_once(sess, str(tmp_path / "m"), 3)
    assert _names(tmp_path) == ["checkpoint", "m-2", "m-3"]


def _edit_manifest(path, edit):
    file = Path(path) / _format.MANIFEST
    manifest = json.loads(file.read_text())
    edit(manifest)
    file.write_text(json.dumps(manifest))
    return file


def test_an_edited_file_list_is_data_loss_naming_the_manifest(tmp_path):
    sess, w = _session()
    saver = tf.train.Saver()
    path = saver.save(sess, str(tmp_path / "m"), global_step=1)
    saver.close()
    # Dropping a file from the list used to stop that file from being checked.
    file = _edit_manifest(path, lambda m: m["files"].popitem())
    with pytest.raises(tf.errors.DataLossError) as raised:
        saver.restore(sess, path)
    assert str(raised.value) == (
        f"Checkpoint {path} is truncated or corrupted: its manifest {file} fails "
        "its checksum (edited or damaged: its list of files cannot be trusted)"
    )
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_a_manifest_without_a_checksum_still_loads(tmp_path):
    # Checkpoints written before the checksum existed have none.
    sess, w = _session()
    saver = tf.train.Saver()
    path = saver.save(sess, str(tmp_path / "m"), global_step=1)
    saver.close()
    _edit_manifest(path, lambda m: m.pop("checksum"))
    sess.run(w.assign(np.zeros_like(W0)))
    saver.restore(sess, path)
    np.testing.assert_array_equal(sess.run(w), W0)


def test_only_the_chief_cleans(tmp_path, monkeypatch):
    # In a multi-process job a worker's Saver leaves the directory alone.
    sess, _ = _session()
    leftover = tmp_path / "m-3.partial"
    _leftover(leftover)
    monkeypatch.setattr(saver_lib.jax, "process_index", lambda: 1)
    _save_once(sess, str(tmp_path / "m"), 4)  # as process 1 of a job
    assert leftover.exists()
    monkeypatch.undo()
    _save_once(sess, str(tmp_path / "m"), 4)  # as the chief
    assert not leftover.exists()


def test_a_directory_named_like_the_prefix_that_is_no_checkpoint_stays(tmp_path):
    # PTB's trainer: Supervisor(logdir="save"), then saver.save(sess, "save",
    # global_step=...) next to it. The logdir is the user's, not a leftover.
    sess, _ = _session()
    logdir = tmp_path / "save"
    logdir.mkdir()
    for name in ("checkpoint", "graph.pbtxt", "events.out.tfevents.1.host"):
        (logdir / name).write_text("keep")
    _half_deleted(logdir)
    _save_once(sess, str(logdir), 117)
    assert _names(tmp_path) == ["checkpoint", "save", "save-117"]
    assert _names(logdir) == [
        "_METADATA",
        "checkpoint",
        "d",
        "events.out.tfevents.1.host",
        "graph.pbtxt",
    ]
