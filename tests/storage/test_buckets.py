"""Training against gs:// and s3:// buckets, served by local emulators."""

import importlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import jaxsession as tf
from jaxsession import errors


def _model():
    step = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [3], initializer=tf.zeros_initializer())
    loss = tf.reduce_sum(tf.square(w - 1.0))
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return step, w, train


def _mts(ckpt, **kwargs):
    scaffold = tf.train.Scaffold(saver=tf.train.Saver(max_to_keep=2))
    return tf.train.MonitoredTrainingSession(
        checkpoint_dir=ckpt,
        scaffold=scaffold,
        save_checkpoint_steps=2,
        save_summaries_steps=1,
        log_step_count_steps=None,
        **kwargs,
    )


def test_gfile_on_a_bucket(bucket):
    gfile = tf.gfile
    d = f"{bucket}/a/b"
    assert not gfile.Exists(d)
    gfile.MakeDirs(d)
    with gfile.GFile(f"{d}/f.txt", "w") as f:
        f.write("line1\nline2\n")
    with gfile.GFile(f"{d}/g.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert gfile.Exists(d) and gfile.IsDirectory(d)
    with gfile.Open(f"{d}/f.txt") as f:
        assert list(f) == ["line1\n", "line2\n"]
    with gfile.GFile(f"{d}/g.bin", "rb") as f:
        assert f.read() == b"\x00\x01"
        assert f.size() == 2
    assert gfile.ListDirectory(d) == ["f.txt", "g.bin"]
    assert gfile.Glob(f"{d}/*.txt") == [f"{d}/f.txt"]
    stat = gfile.Stat(f"{d}/f.txt")
    assert stat.length == 12 and not stat.is_directory and stat.mtime_nsec > 0
    gfile.Copy(f"{d}/f.txt", f"{d}/c.txt")
    with pytest.raises(errors.AlreadyExistsError, match=re.escape(f"{d}/c.txt")):
        gfile.Copy(f"{d}/f.txt", f"{d}/c.txt")
    gfile.Rename(f"{d}/c.txt", f"{d}/r.txt")
    assert gfile.ListDirectory(d) == ["f.txt", "g.bin", "r.txt"]
    gfile.Remove(f"{d}/r.txt")
    assert not gfile.Exists(f"{d}/r.txt")
    assert list(gfile.Walk(f"{bucket}/a")) == [
        (f"{bucket}/a", ["b"], []),
        (d, [], ["f.txt", "g.bin"]),
    ]
    missing = f"{d}/missing"
    with pytest.raises(errors.NotFoundError, match=re.escape(f"{missing}; No such")):
        gfile.GFile(missing).read()
    with pytest.raises(errors.NotFoundError, match=re.escape(missing)):
        gfile.Remove(missing)
    with pytest.raises(errors.UnimplementedError, match="mode 'a'"):
        gfile.GFile(f"{d}/f.txt", "a").write("x")
    gfile.DeleteRecursively(f"{bucket}/a")
    assert not gfile.Exists(f"{bucket}/a") and gfile.Glob(f"{bucket}/a/*") == []


# s3:// goes through a local staging directory: same steps, more copying.
@pytest.mark.parametrize(
    "bucket", ["gs", pytest.param("s3", marks=pytest.mark.slow)], indirect=True
)
def test_monitored_training_session_saves_to_a_bucket_and_resumes(bucket):
    ckpt = f"{bucket}/run"
    step, w, train = _model()
    with _mts(ckpt) as sess:
        for _ in range(3):
            sess.run(train)
    # Checkpoints at 0, 2 and the final 3; max_to_keep=2 leaves 2 and 3.
    assert tf.train.latest_checkpoint(ckpt) == f"{ckpt}/model.ckpt-3"
    state = tf.train.get_checkpoint_state(ckpt)
    assert state.all_model_checkpoint_paths == [
        f"{ckpt}/model.ckpt-2",
        f"{ckpt}/model.ckpt-3",
    ]
    names = tf.gfile.ListDirectory(ckpt)
    assert [n for n in names if n.startswith("model.ckpt")] == [
        "model.ckpt-2",
        "model.ckpt-3",
    ]
    assert "checkpoint" in names and "graph.pbtxt" in names
    assert 'name: "w"' in tf.gfile.GFile(f"{ckpt}/graph.pbtxt").read()
    assert dict(tf.train.list_variables(ckpt))["w"] == [3]
    expected = np.ones(3) - 0.8**3
    np.testing.assert_allclose(tf.train.load_variable(ckpt, "w"), expected, rtol=1e-5)

    events = [
        e
        for path in tf.gfile.Glob(f"{ckpt}/events.out.tfevents.*")
        for e in tf.train.summary_iterator(path)
    ]
    assert any(e.graph_def for e in events)
    losses = [
        (e.step, v.simple_value)
        for e in events
        for v in e.summary.value
        if v.tag == "loss"
    ]
    assert [s for s, _ in losses] == [1, 2, 3]
    np.testing.assert_allclose(losses[0][1], 3.0)

    tf.reset_default_graph()
    tf.summary.FileWriterCache.clear()
    step, w, train = _model()
    with _mts(ckpt) as sess:
        assert sess.run(step) == 3
        np.testing.assert_allclose(sess.run(w), expected, rtol=1e-5)
        sess.run(train)
    assert tf.train.latest_checkpoint(ckpt) == f"{ckpt}/model.ckpt-4"
    assert tf.train.get_checkpoint_state(ckpt).all_model_checkpoint_paths == [
        f"{ckpt}/model.ckpt-3",
        f"{ckpt}/model.ckpt-4",
    ]


def test_file_writer_events_land_in_the_bucket_at_each_flush(bucket):
    logdir = f"{bucket}/logs"
    writer = tf.summary.FileWriter(logdir)
    summary = tf.summary.Summary(
        value=[tf.summary.Summary.Value(tag="x", simple_value=2.5)]
    )
    writer.add_summary(summary, 7)
    writer.flush()
    [path] = tf.gfile.Glob(f"{logdir}/events.out.tfevents.*")
    assert path == writer.event_file_path
    events = list(tf.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2"
    assert [(e.step, e.summary.value[0].simple_value) for e in events[1:]] == [(7, 2.5)]
    writer.add_summary(summary, 8)
    writer.close()
    assert [e.step for e in tf.train.summary_iterator(path)][1:] == [7, 8]


@pytest.mark.slow  # a fresh interpreter
def test_events_left_unflushed_reach_the_bucket_at_exit(buckets, tmp_path):
    logdir = f"{buckets['gs']}/exit-flush"
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import jaxsession as tf

            writer = tf.summary.FileWriter({logdir!r})
            value = tf.summary.Summary.Value(tag="x", simple_value=1.5)
            writer.add_summary(tf.summary.Summary(value=[value]), 3)
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(tf.__file__).parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    [path] = tf.gfile.Glob(f"{logdir}/events.out.tfevents.*")
    assert [e.step for e in tf.train.summary_iterator(path)] == [0, 3]


def test_write_graph_to_a_bucket(bucket):
    tf.constant(1.0, name="c")
    path = tf.train.write_graph(tf.get_default_graph(), bucket, "g.pb", as_text=False)
    assert path == f"{bucket}/g.pb"
    assert tf.gfile.Stat(path).length > 0


def test_a_missing_client_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)
    registry = importlib.import_module("fsspec.registry")
    monkeypatch.delitem(registry._registry, "s3", raising=False)
    with pytest.raises(
        errors.UnimplementedError, match=re.escape("pip install 'jaxsession[s3]'")
    ):
        tf.gfile.Exists("s3://bucket/x")


def test_a_multi_process_save_to_s3_is_refused_before_writing():
    from jaxsession.checkpoint import _format

    with pytest.raises(errors.UnimplementedError, match="multi-process save to s3"):
        _format.write_orbax("s3://bucket/m-1.partial", {"w": np.zeros(2)}, key="k1")
