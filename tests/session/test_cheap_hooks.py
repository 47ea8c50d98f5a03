"""The default chief hooks cost nothing on steps where they do nothing."""

import logging

import jaxsession as tf
from jaxsession.engine.executable import executables


class _Grab(tf.train.SessionRunHook):
    def after_create_session(self, session, coord):
        self.session = session


def test_default_hooks_fetch_nothing_and_read_no_device_between_triggers(tmp_path):
    step = tf.train.get_or_create_global_step()
    v = tf.Variable(0.0)
    tf.summary.scalar("v", v)
    train = tf.group(v.assign_add(1.0), step.assign_add(1))
    grab = _Grab()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(tmp_path),
        save_summaries_steps=10,
        log_step_count_steps=10,
        hooks=[grab],
    ) as sess:
        sess.run(train)
        store = grab.session._store
        reads = store.step_device_reads
        for _ in range(25):
            sess.run(train)
        compiled = set(executables(tf.get_default_graph()))
        assert store.step_device_reads == reads
    # Between triggers the merged run is the caller's train op alone: the
    # hooks fetched nothing (no global step, no summary).
    assert any(sig.targets == (train.id,) and not sig.fetches for sig in compiled)


def test_step_counter_rates_and_summary_steps_are_exact(tmp_path, caplog):
    step = tf.train.get_or_create_global_step()
    v = tf.Variable(0.0)
    tf.summary.scalar("v", v)
    train = tf.group(v.assign_add(1.0), step.assign_add(1))
    with caplog.at_level(logging.INFO, "jaxsession"):
        with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_summaries_steps=5, log_step_count_steps=5
        ) as sess:
            for _ in range(12):
                sess.run(train)
    rates = [
        r.getMessage() for r in caplog.records if "global_step/sec" in r.getMessage()
    ]
    # Triggers after steps 1 (starts the clock), 6 and 11: two rates.
    assert len(rates) == 2
    steps = []
    for path in sorted(tmp_path.glob("events.out.tfevents.*")):
        for event in tf.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "v":
                    steps.append((event.step, value.simple_value))
    # Stamped with the step after the run; the summary read v before it.
    assert steps == [(1, 0.0), (6, 5.0), (11, 10.0)]
