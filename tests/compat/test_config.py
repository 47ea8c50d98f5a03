"""ConfigProto and friends: accepted, mapped to JAX settings, one-time warnings."""

import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import pytest

import jaxsession as tf
from jaxsession.session import config as config_lib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    monkeypatch.setattr(config_lib, "_warned", set())


def test_config_proto_builds_like_a_proto():
    config = tf.ConfigProto(
        allow_soft_placement=True,
        log_device_placement=False,
        device_count={"GPU": 0},
        intra_op_parallelism_threads=2,
        gpu_options=tf.GPUOptions(per_process_gpu_memory_fraction=0.4),
    )
    config.gpu_options.allow_growth = True
    config.inter_op_parallelism_threads = 4
    assert config.allow_soft_placement and config.device_count == {"GPU": 0}
    assert config.gpu_options.allow_growth
    assert config.gpu_options.per_process_gpu_memory_fraction == 0.4
    assert config.graph_options.optimizer_options.opt_level == tf.OptimizerOptions.L1
    assert tf.ConfigProto() == tf.ConfigProto()
    assert tf.ConfigProto(allow_soft_placement=True) != tf.ConfigProto()
    assert repr(tf.GPUOptions(allow_growth=True)) == "GPUOptions(allow_growth=True)"
    with pytest.raises(AttributeError, match='ConfigProto has no "allow_soft" field'):
        tf.ConfigProto(allow_soft=True)
    with pytest.raises(AttributeError, match='GPUOptions has no "growth" field'):
        config.gpu_options.growth = True


def test_plan_maps_gpu_options_and_device_count():
    config = tf.ConfigProto(
        allow_soft_placement=True,
        log_device_placement=True,
        device_count={"gpu": 0, "CPU": 4},
        intra_op_parallelism_threads=2,
        gpu_options=tf.GPUOptions(
            allow_growth=True,
            per_process_gpu_memory_fraction=0.5,
            visible_device_list="1",
            force_gpu_compatible=True,
        ),
    )
    env, jax_config, no_effect = config_lib.plan_settings(config)
    assert env == {
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "XLA_CLIENT_MEM_FRACTION": "0.5",
    }
    assert jax_config == {
        "jax_cuda_visible_devices": "1",
        "jax_platforms": "cpu",
        "jax_num_cpu_devices": 4,
    }
    assert no_effect == [
        "intra_op_parallelism_threads",
        "log_device_placement",
        "gpu_options.force_gpu_compatible",
    ]
    assert config_lib.plan_settings(tf.ConfigProto(allow_soft_placement=True)) == (
        {},
        {},
        [],
    )


def test_session_with_config_warns_once_about_what_has_no_effect(caplog):
    jax.devices()  # the backend has started: memory settings come too late
    config = tf.ConfigProto(
        intra_op_parallelism_threads=2, gpu_options=tf.GPUOptions(allow_growth=True)
    )
    x = tf.constant(2.0) * 3.0
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        with tf.Session(config=config) as sess:
            assert sess.run(x) == 6.0
        tf.Session(config=config).close()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "ConfigProto.intra_op_parallelism_threads=2 has no effect in jaxsession: XLA "
        "compiles and places the whole computation.",
        "ConfigProto maps to the environment variable XLA_PYTHON_CLIENT_PREALLOCATE=false, "
        "but the JAX backend has already started, so it has no effect; create the "
        "Session before any JAX computation, or set it before starting the program.",
    ]


def test_session_rejects_a_config_that_is_not_a_config_proto():
    with pytest.raises(
        TypeError,
        match=re.escape("config must be a tf.ConfigProto, but got <class 'dict'>"),
    ):
        tf.Session(config={"allow_soft_placement": True})


def test_config_before_backend_start_sets_jax_settings():
    source = textwrap.dedent(
        """
        import os, sys
        sys.path.insert(0, ".")
        import jaxsession as tf
        config = tf.ConfigProto(device_count={"CPU": 3},
                                gpu_options=tf.GPUOptions(allow_growth=True,
                                                          per_process_gpu_memory_fraction=0.3))
        with tf.Session(config=config) as sess:
            print(sess.run(tf.constant(1.0) + 1.0))
        import jax
        print(len(jax.devices("cpu")), os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"],
              os.environ["XLA_CLIENT_MEM_FRACTION"])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2.0", "3", "false", "0.3"]


def test_run_accepts_run_options_and_run_metadata():
    x = tf.placeholder(tf.float32, [])
    y = x * 2.0
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        assert sess.run(y, {x: 3.0}, options=options, run_metadata=metadata) == 6.0
        call = sess.make_callable(y, [x], accept_options=True)
        assert call(4.0, options=options, run_metadata=metadata) == 8.0
    assert tf.RunOptions.FULL_TRACE == 3 and options.trace_level == 3
    assert tf.RunMetadata().SerializeToString() == b""


@pytest.mark.gpu
def test_gpu_memory_fraction_sets_the_allocator_limit():
    source = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, ".")
        import jaxsession as tf
        fraction = float(sys.argv[1])
        config = tf.ConfigProto(gpu_options=tf.GPUOptions(per_process_gpu_memory_fraction=fraction))
        with tf.Session(config=config) as sess:
            sess.run(tf.constant(1.0) + 1.0)
        import jax
        print(jax.devices("gpu")[0].memory_stats()["bytes_limit"])
        """
    )
    limits = []
    for fraction in ("0.2", "0.4"):
        proc = subprocess.run(
            [sys.executable, "-c", source, fraction],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr
        limits.append(int(proc.stdout.split()[-1]))
    assert limits[1] / limits[0] == pytest.approx(2.0, rel=0.05)
