"""CheckpointSaverHook and CheckpointSaverListener (TF1_BEHAVIOUR §4.2, cases X18-X39)."""

import re

import pytest

import jaxsession as tf
from jaxsession.checkpoint import latest_checkpoint, load_variable
from jaxsession.session._global_step import increment_global_step
from jaxsession.session.checkpoint_hooks import (
    CheckpointSaverHook,
    CheckpointSaverListener,
)
from jaxsession.session.monitored_session import SingularMonitoredSession
from jaxsession.session.scaffold import Scaffold
from tests.helpers.clock import FakeClock
from tests.helpers.recording_hook import run_hooked
from tests.helpers.tensorboard import session_logs


class RecordingListener(CheckpointSaverListener):
    """Logs ``(callback, step)`` and whether the checkpoint of ``step`` was on disk."""

    def __init__(self, directory, calls=None, name=None):
        self.directory = str(directory)
        self.calls = [] if calls is None else calls
        self.name = name
        self.stop = False

    def _log(self, *entry):
        self.calls.append(((self.name,) if self.name else ()) + entry)

    def counts(self):
        if self.name:
            names = [c[1] for c in self.calls if c[0] == self.name]
        else:
            names = [c[0] for c in self.calls]
        return {
            n: names.count(n) for n in ("begin", "before_save", "after_save", "end")
        }

    def begin(self):
        self._log("begin")

    def before_save(self, session, global_step_value):
        self._log("before_save", global_step_value)

    def after_save(self, session, global_step_value):
        on_disk = latest_checkpoint(self.directory)
        assert on_disk is not None and on_disk.endswith(f"-{global_step_value}")
        self._log("after_save", global_step_value)
        return self.stop

    def end(self, session, global_step_value):
        self._log("end", global_step_value)


class Driver:
    """begin -> Session + init -> [after_create_session] -> hooked runs -> end."""

    def __init__(self, hooks, after_create_session=False):
        self.hooks = hooks
        for hook in hooks:
            hook.begin()
        self.scaffold = Scaffold().finalize()
        self.session = tf.Session()
        self.session.run(self.scaffold.init_op)
        if after_create_session:
            for hook in hooks:
                hook.after_create_session(self.session, None)
        self.stop_requested = False

    def run(self, fetches):
        result, ctx = run_hooked(self.session, self.hooks, fetches)
        self.stop_requested = self.stop_requested or ctx.stop_requested
        return result

    def end(self):
        for hook in self.hooks:
            hook.end(self.session)


def saved_step(directory):
    """The global step stored in the latest checkpoint of ``directory``, after saves land."""
    for saver in tf.get_collection(tf.GraphKeys.SAVERS):
        saver.wait_until_finished()
    return int(load_variable(latest_checkpoint(str(directory)), "global_step"))


# -- arguments ----------------------------------------------------------------------------


def test_x19_x21_arguments(tmp_path):
    saver_like = object()
    with pytest.raises(
        ValueError, match=re.escape("You cannot provide both saver and scaffold.")
    ):
        CheckpointSaverHook(
            str(tmp_path), save_secs=10, saver=saver_like, scaffold=Scaffold()
        )
    with pytest.raises(
        ValueError,
        match=re.escape("Either every_secs or every_steps should be provided."),
    ):
        CheckpointSaverHook(str(tmp_path))
    with pytest.raises(
        ValueError, match=re.escape("Can not provide both every_secs and every_steps.")
    ):
        CheckpointSaverHook(str(tmp_path), save_secs=10, save_steps=10)
    # save_graph_def is accepted and kept (the graph writer uses it).
    hook = CheckpointSaverHook(str(tmp_path), save_steps=1, save_graph_def=False)
    assert hook._save_graph_def is False


def test_needs_a_global_step(tmp_path):
    with pytest.raises(
        RuntimeError,
        match=re.escape("Global step should be created to use CheckpointSaverHook."),
    ):
        CheckpointSaverHook(str(tmp_path), save_steps=1).begin()


def test_saver_resolution_errors(tmp_path):
    tf.train.get_or_create_global_step()
    hook = CheckpointSaverHook(str(tmp_path), save_steps=1)
    hook.begin()
    with pytest.raises(RuntimeError, match=re.escape("No items in collection savers.")):
        hook._get_saver()
    tf.add_to_collection(tf.GraphKeys.SAVERS, object())
    tf.add_to_collection(tf.GraphKeys.SAVERS, object())
    with pytest.raises(
        RuntimeError, match=re.escape("More than one item in collection savers.")
    ):
        hook._get_saver()


# -- cadence ---------------------------------------------------------------------------------


def test_x18_saves_with_the_collection_saver_when_none_given(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    hook = CheckpointSaverHook(str(tmp_path), save_steps=1)
    driver = Driver([hook])
    driver.run(train)
    assert saved_step(tmp_path) == 1


@pytest.mark.parametrize("period", [{"save_secs": 2}, {"save_steps": 2}])
def test_x22_x30_first_run_saves_without_after_create_session(tmp_path, period):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    driver = Driver([CheckpointSaverHook(str(tmp_path), **period)])
    driver.run(train)
    assert saved_step(tmp_path) == 1


def test_x28_save_secs_periodically(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    clock = FakeClock()
    driver = Driver([CheckpointSaverHook(str(tmp_path), save_secs=2, clock=clock)])
    t0 = clock.now
    expected = []
    for at, ckpt in ((0, 1), (0.5, 1), (2.5, 3), (2.6, 3), (2.7, 3), (10, 6)):
        clock.now = t0 + at
        driver.run(train)
        expected.append(ckpt)
    # Re-run the sequence reading the checkpoint after each run.
    tf.reset_default_graph()
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    clock = FakeClock()
    driver = Driver(
        [CheckpointSaverHook(str(tmp_path / "b"), save_secs=2, clock=clock)]
    )
    got = []
    for at in (0, 0.5, 2.5, 2.6, 2.7, 10):
        clock.now = t0 + at
        driver.run(train)
        got.append(saved_step(tmp_path / "b"))
    assert got == expected == [1, 1, 3, 3, 3, 6]


def test_x31_save_steps_periodically(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    driver = Driver([CheckpointSaverHook(str(tmp_path), save_steps=2)])
    got = []
    for _ in range(5):
        driver.run(train)
        got.append(saved_step(tmp_path))
    assert got == [1, 1, 3, 3, 5]


def test_x34_saves_before_the_first_train_step(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    driver = Driver(
        [CheckpointSaverHook(str(tmp_path), save_steps=2)], after_create_session=True
    )
    assert saved_step(tmp_path) == 0
    driver.run(train)
    assert saved_step(tmp_path) == 0
    driver.run(train)
    assert saved_step(tmp_path) == 2


def test_x37_x39_steps_per_run(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(5)
    hook = CheckpointSaverHook(str(tmp_path), save_steps=10)
    hook._set_steps_per_run(5)
    driver = Driver([hook])
    driver.run(train)
    assert saved_step(tmp_path) == 5
    driver.run(train)
    assert saved_step(tmp_path) == 5
    driver.end()
    assert saved_step(tmp_path) == 10


def test_end_saves_unless_this_step_was_saved(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    listener = RecordingListener(tmp_path)
    driver = Driver(
        [CheckpointSaverHook(str(tmp_path), save_steps=2, listeners=[listener])],
        after_create_session=True,
    )
    driver.run(train)
    driver.run(train)
    driver.end()
    # Saved at 0 (creation) and 2 (periodic); end found step 2 saved already.
    assert listener.calls == [
        ("begin",),
        ("before_save", 0),
        ("after_save", 0),
        ("before_save", 2),
        ("after_save", 2),
        ("end", 2),
    ]


# -- listeners in a monitored session ---------------------------------------------------------


def test_x24_listener_with_monitored_session(tmp_path):
    gs = tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    scaffold = Scaffold()
    listener = RecordingListener(tmp_path)
    hook = CheckpointSaverHook(
        str(tmp_path), save_steps=1, scaffold=scaffold, listeners=[listener]
    )
    with SingularMonitoredSession(
        hooks=[hook], scaffold=scaffold, checkpoint_dir=str(tmp_path)
    ) as sess:
        sess.run(train)
        sess.run(train)
        assert int(sess.raw_session().run(gs)) == 2
    assert listener.counts() == {
        "begin": 1,
        "before_save": 3,
        "after_save": 3,
        "end": 1,
    }
    assert listener.calls[-1] == ("end", 2)
    assert saved_step(tmp_path) == 2


def test_x25_listener_stops_training_in_after_save(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    scaffold = Scaffold()
    listener = RecordingListener(tmp_path)
    hook = CheckpointSaverHook(
        str(tmp_path), save_steps=1, scaffold=scaffold, listeners=[listener]
    )
    with SingularMonitoredSession(hooks=[hook], scaffold=scaffold) as sess:
        sess.run(train)
        assert not sess.should_stop()
        sess.run(train)
        assert not sess.should_stop()
        listener.stop = True
        sess.run(train)
        assert sess.should_stop()


def test_listener_stop_at_creation_and_end_is_ignored(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    scaffold = Scaffold()
    listener = RecordingListener(tmp_path)
    listener.stop = True
    hook = CheckpointSaverHook(
        str(tmp_path), save_steps=100, scaffold=scaffold, listeners=[listener]
    )
    with SingularMonitoredSession(hooks=[hook], scaffold=scaffold) as sess:
        assert not sess.should_stop()
        sess.run(train)
        assert not sess.should_stop()
    assert [c for c in listener.calls if c[0] == "after_save"] == [
        ("after_save", 0),
        ("after_save", 1),
    ]


def test_x27_two_listeners_with_default_saver(tmp_path):
    gs = tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    calls = []
    a = RecordingListener(tmp_path, calls, name="a")
    b = RecordingListener(tmp_path, calls, name="b")
    hook = CheckpointSaverHook(str(tmp_path), save_steps=1, listeners=[a, b])
    with SingularMonitoredSession(hooks=[hook], checkpoint_dir=str(tmp_path)) as sess:
        sess.run(train)
        sess.run(train)
    for listener in (a, b):
        assert listener.counts() == {
            "begin": 1,
            "before_save": 3,
            "after_save": 3,
            "end": 1,
        }
    # Listeners are called in order around each save.
    assert [c[:2] for c in calls[:6]] == [
        ("a", "begin"),
        ("b", "begin"),
        ("a", "before_save"),
        ("b", "before_save"),
        ("a", "after_save"),
        ("b", "after_save"),
    ]
    tf.get_default_graph()._unsafe_unfinalize()
    with SingularMonitoredSession(checkpoint_dir=str(tmp_path)) as sess:
        assert int(sess.run(gs)) == 2


# -- events ----------------------------------------------------------------------------------


def test_checkpoint_session_logs_in_tensorboard(tmp_path):
    tf.train.get_or_create_global_step()
    train = increment_global_step(1)
    driver = Driver(
        [CheckpointSaverHook(str(tmp_path), save_steps=2)], after_create_session=True
    )
    for _ in range(3):
        driver.run(train)
    driver.end()
    prefix = str(tmp_path / "model.ckpt")
    assert session_logs(tmp_path) == [
        ("CHECKPOINT", 0, prefix),
        ("CHECKPOINT", 2, prefix),
        ("CHECKPOINT", 3, prefix),
    ]


def test_x40_global_step_under_a_variable_scope(tmp_path):
    # TF1 uses create_global_step() inside the scope; here the variable is made
    # directly (create_global_step ignores the variable scope for now).
    with tf.variable_scope("foo"):
        gs = tf.get_variable(
            "global_step",
            shape=[],
            dtype=tf.int64,
            initializer=tf.zeros_initializer(),
            trainable=False,
            collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP],
        )
    assert gs.op.name == "foo/global_step"
    train = increment_global_step(1)
    driver = Driver([CheckpointSaverHook(str(tmp_path), save_steps=2)])
    got = []
    for _ in range(5):
        driver.run(train)
        for saver in tf.get_collection(tf.GraphKeys.SAVERS):
            saver.wait_until_finished()
        latest = latest_checkpoint(str(tmp_path))
        got.append(int(load_variable(latest, "foo/global_step")))
    assert got == [1, 1, 3, 3, 5]


@pytest.mark.parametrize("save_graph_def", [True, False])
def test_save_graph_def_writes_graph_pbtxt_with_shapes(tmp_path, save_graph_def):
    from google.protobuf import text_format
    from tensorboardX.proto.graph_pb2 import GraphDef

    step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    tf.reduce_sum(x, name="total")
    inc = increment_global_step(1)
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path), save_graph_def=save_graph_def
    ) as sess:
        sess.run(inc)
    path = tmp_path / "graph.pbtxt"
    assert path.exists() is save_graph_def
    if save_graph_def:
        graph_def = text_format.Parse(path.read_text(), GraphDef())
        nodes = {node.name: node for node in graph_def.node}
        assert nodes["total"].op == "Sum"
        assert nodes["total"].input[0] == "x"
        assert step.op.name in nodes
        dims = nodes["x"].attr["_output_shapes"].list.shape[0].dim
        assert [d.size for d in dims] == [-1, 3]
