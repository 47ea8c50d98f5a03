"""State packing, graphs that grow after a run, and the compilation cache."""

import re

import jax
import numpy as np
import pytest

import jaxsession as tf
from jaxsession.engine import executable as executable_lib
from jaxsession.engine.packing import PACK_MAX_ELEMENTS
from jaxsession.engine.state import StateKey


def _runner(sess, fetches):
    """The session's runner for ``fetches`` run without feeds."""
    [runner] = sess._prepare(fetches).runners.values()
    return runner


def _packs(sess):
    return {k: b for k, b in sess._store.buffers.items() if k.kind == "pack"}


def test_many_variables_travel_as_one_buffer_per_dtype():
    floats = [
        tf.Variable(np.full((i % 3 + 1, 2), i, np.float32), name=f"f{i}")
        for i in range(40)
    ]
    ints = [tf.Variable(np.int32(i), name=f"i{i}") for i in range(10)]
    step = tf.group(
        *[v.assign(tf.convert_to_tensor(v) * 0.5 + 1.0).op for v in floats],
        *[v.assign_add(3).op for v in ints],
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(step)
        runner = _runner(sess, step)
        # Two packs in, the same two out: the call's size does not grow with
        # the number of variables.
        assert runner.keys == runner.out and len(runner.out) == 2
        assert len(_packs(sess)) == 2
        values = sess.variable_values()
        for i, v in enumerate(floats):
            x = np.full((i % 3 + 1, 2), i, np.float32)
            for _ in range(3):
                x = x * 0.5 + 1.0
            np.testing.assert_allclose(np.asarray(values[v]), x, rtol=1e-6)
            assert values[v].shape == (i % 3 + 1, 2)
        assert [int(values[v]) for v in ints] == [i + 9 for i in range(10)]
        assert sess.run(floats[7]).shape == (2, 2)
        assert sess.run(ints[4]) == 13


def test_variable_values_are_cached_until_the_state_changes():
    a = tf.Variable(np.zeros(3, np.float32), name="a")
    b = tf.Variable(np.ones(2, np.float32), name="b")
    step = a.assign_add(tf.ones([3])).op
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.variable_values()
        assert sess.variable_values()[a] is first[a]  # no new call, no copy
        sess.run(step)
        second = sess.variable_values()
        assert second[a] is not first[a]
        np.testing.assert_allclose(np.asarray(first[a]), np.zeros(3))
        np.testing.assert_allclose(np.asarray(second[a]), np.ones(3))
        np.testing.assert_allclose(np.asarray(second[b]), np.ones(2))


def test_set_variable_values_and_load_write_single_packed_variables():
    a = tf.Variable(np.zeros(3, np.float32), name="a")
    b = tf.Variable(np.zeros((2, 2), np.float32), name="b")
    n = tf.Variable(np.int32(0), name="n")
    total = tf.reduce_sum(tf.convert_to_tensor(a)) + tf.reduce_sum(
        tf.convert_to_tensor(b)
    )
    with tf.Session() as sess:
        sess.run(a.initializer)
        assert not sess.is_initialized(b)
        sess.set_variable_values({b: np.full((2, 2), 2.0), n: 7})
        assert sess.is_initialized(b) and sess.run(n) == 7
        np.testing.assert_allclose(sess.run(total), 8.0)
        a.load(np.array([1.0, 2.0, 3.0]), sess)
        np.testing.assert_allclose(sess.run(total), 14.0)
        np.testing.assert_allclose(sess.run(b), np.full((2, 2), 2.0))
        # A bad value changes nothing, even the good values given with it.
        with pytest.raises(ValueError, match=re.escape("does not fit variable 'b'")):
            sess.set_variable_values({a: np.zeros(3), b: np.zeros(4)})
        with pytest.raises(ValueError):
            sess.set_variable_values({a: np.zeros(3), n: np.array("x")})
        np.testing.assert_allclose(sess.run(a), [1.0, 2.0, 3.0])
        # A value already on the device is taken as it is.
        sess.set_variable_values({a: jax.numpy.arange(3.0)})
        np.testing.assert_allclose(sess.run(a), [0.0, 1.0, 2.0])


def test_large_variables_stay_loose_and_small_ones_share_a_pack():
    big = tf.Variable(np.zeros(PACK_MAX_ELEMENTS + 1, np.float32), name="big")
    small = tf.Variable(np.zeros(4, np.float32), name="small")
    layout = executable_lib.state_layout(tf.get_default_graph())
    assert layout.slot(big) is None
    assert layout.slot(small).size == 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert set(sess._store.buffers) == {StateKey.loose(big), StateKey.pack(0)}


def test_ops_and_variables_added_after_a_run_are_usable_in_the_next_run():
    g = tf.get_default_graph()
    v = tf.Variable(1.0, name="v")
    double = v.assign(tf.convert_to_tensor(v) * 2.0).op
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(double)
        compiled = list(executable_lib.executables(g).values())
        # The graph grows while the session is open.
        w = tf.Variable(np.array([5.0, 6.0], np.float32), name="w")
        both = tf.convert_to_tensor(v) + tf.reduce_sum(tf.convert_to_tensor(w))
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"w"]
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match=re.escape("Attempting to use uninitialized value w"),
        ):
            sess.run(both)
        assert sess.run(v) == 2.0  # the failed run changed nothing
        sess.run(tf.variables_initializer([w]))
        assert sess.run(both) == 13.0
        sess.run(double)
        assert sess.run(both) == 15.0
        # The new variable got a pack of its own; earlier runs did not retrace.
        layout = executable_lib.state_layout(g)
        assert layout.slot(w).pack != layout.slot(v).pack
        assert all(e.trace_count == 1 for e in compiled)
        assert sess.run(tf.report_uninitialized_variables()).tolist() == []
    with tf.Session() as sess:  # a new session sees the grown graph
        sess.run(tf.global_variables_initializer())
        assert sess.run(both) == 12.0


@pytest.fixture
def compile_cache_config(monkeypatch):
    """Caches even tiny programs; restores JAX's cache settings afterwards."""
    from jax.experimental.compilation_cache import compilation_cache

    names = (
        "jax_compilation_cache_dir",
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    )
    saved = {n: getattr(jax.config, n) for n in names}
    monkeypatch.delenv(executable_lib.COMPILATION_CACHE_ENV, raising=False)
    monkeypatch.setattr(executable_lib, "_cache_dir_set", None)
    jax.config.update("jax_compilation_cache_dir", None)  # an earlier test's
    compilation_cache.reset_cache()
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    yield
    for n, value in saved.items():
        jax.config.update(n, value)
    compilation_cache.reset_cache()


def _train_op():
    x = tf.Variable(np.arange(3, dtype=np.float32), name="x")
    step = tf.train.get_or_create_global_step()
    return tf.group(x.assign(tf.convert_to_tensor(x) * 1.5).op, step.assign_add(1).op)


def test_monitored_training_session_keeps_compiled_programs_per_user(
    tmp_path, compile_cache_config, monkeypatch
):
    # Never in the checkpoint directory: a file planted in a shared one
    # would be loaded and run as compiled code.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user_cache"))
    checkpoint_dir = tmp_path / "run"
    train_op = _train_op()
    with tf.train.MonitoredTrainingSession(
        checkpoint_dir=str(checkpoint_dir),
        save_checkpoint_secs=None,
        save_summaries_steps=None,
        log_step_count_steps=None,
    ) as sess:
        sess.run(train_op)
        cache = tmp_path / "user_cache" / "jaxsession" / "jax_compilation_cache"
        assert jax.config.jax_compilation_cache_dir == str(cache)
    assert not (checkpoint_dir / executable_lib.COMPILATION_CACHE_SUBDIR).exists()
    # Closed: the (possibly temporary) directory no longer receives programs.
    assert jax.config.jax_compilation_cache_dir is None
    entries = [p.name for p in cache.iterdir()]
    assert entries, "no compiled program was written to the cache"
    assert any(name.startswith("jit_") for name in entries)


def test_compilation_cache_directory_from_env_or_user_wins(
    tmp_path, compile_cache_config, monkeypatch
):
    enable = executable_lib.enable_compilation_cache
    monkeypatch.setenv(executable_lib.COMPILATION_CACHE_ENV, str(tmp_path / "env"))
    assert enable(tmp_path / "ckpt") == str(tmp_path / "env")
    assert (tmp_path / "env").is_dir() and not (tmp_path / "ckpt").exists()
    monkeypatch.setenv(executable_lib.COMPILATION_CACHE_ENV, "off")
    assert enable(tmp_path / "ckpt") == str(tmp_path / "env")  # left as it was
    monkeypatch.delenv(executable_lib.COMPILATION_CACHE_ENV)
    assert enable(tmp_path / "ckpt") == str(tmp_path / "ckpt")
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
    assert enable(tmp_path / "other") == str(tmp_path / "mine")
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")
