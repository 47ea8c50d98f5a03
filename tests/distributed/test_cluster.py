"""One-process tests of the cluster config, TF1's cluster idiom and the mesh."""

import json
import pickle

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.distributed import health, kv, lifecycle, process, tf1_cluster
from jaxsession.engine import mesh as mesh_lib
from tests.distributed import _mlp


@pytest.fixture
def data_parallel():
    mesh_lib.set_data_parallel(True)
    yield
    mesh_lib.set_data_parallel(None)


def test_cluster_spec_lists_jobs_and_addresses():
    spec = tf.train.ClusterSpec({"worker": ["a:1", "b:2"], "chief": {0: "c:3"}})
    assert spec.jobs == ["worker", "chief"]
    assert spec.num_tasks("worker") == 2
    assert spec.task_address("worker", 1) == "b:2"
    assert spec.job_tasks("chief") == ["c:3"]
    assert spec.as_dict() == {"worker": ["a:1", "b:2"], "chief": ["c:3"]}
    assert tf.train.ClusterSpec(spec) == spec
    with pytest.raises(ValueError, match=r"No task with index 5 in job 'worker'"):
        spec.task_address("worker", 5)
    with pytest.raises(ValueError, match=r"No such job in cluster: 'ps'"):
        spec.num_tasks("ps")


def test_workers_map_to_processes_coordinated_by_the_first():
    spec = tf.train.ClusterSpec({"worker": ["h0:2222", "h1:2222", "h2:2222"]})
    config = tf1_cluster.config_from_cluster(spec, "worker", 2, heartbeat_timeout=7)
    assert config == process.ClusterConfig("h0:2222", 3, 2, heartbeat_timeout=7)


def test_a_chief_job_is_process_zero():
    spec = tf.train.ClusterSpec({"worker": ["w0:1", "w1:1"], "chief": ["c:1"]})
    assert tf1_cluster.config_from_cluster(spec, "chief", 0).process_id == 0
    config = tf1_cluster.config_from_cluster(spec, "worker", 1)
    assert (config.coordinator_address, config.num_processes, config.process_id) == (
        "c:1",
        3,
        2,
    )


def test_a_ps_job_is_accepted_and_its_tasks_stay_out_of_the_job():
    spec = tf.train.ClusterSpec({"ps": ["p:1"], "worker": ["w:1", "w:2"]})
    config = tf1_cluster.config_from_cluster(spec, "worker", 1)
    assert (config.coordinator_address, config.num_processes, config.process_id) == (
        "w:1",
        2,
        1,
    )
    ps = tf.train.Server(spec, job_name="ps", task_index=0)
    assert ps.target == "" and ps.server_def is None
    assert not process.is_initialized()
    # ps.join() blocks until a signal: tests/distributed/test_ps_join.py.
    with pytest.raises(ValueError, match=r"Task ps:3 is not in cluster"):
        tf.train.Server(spec, job_name="ps", task_index=3)
    with pytest.raises(ValueError, match=r"Unsupported job\(s\) \['evaluator'\]"):
        tf1_cluster.config_from_cluster(
            tf.train.ClusterSpec({"evaluator": ["e:1"], "worker": ["w:1"]}), "worker", 0
        )


def test_a_task_outside_the_cluster_is_an_error():
    spec = tf.train.ClusterSpec({"worker": ["w:1"]})
    with pytest.raises(ValueError, match=r"Task worker:3 is not in cluster"):
        tf1_cluster.config_from_cluster(spec, "worker", 3)


def test_tf_config_is_read():
    text = json.dumps(
        {
            "cluster": {"chief": ["c:5"], "worker": ["w:5", "v:5"]},
            "task": {"type": "worker", "index": 0},
        }
    )
    config = tf1_cluster.config_from_tf_config(text)
    assert (config.coordinator_address, config.num_processes, config.process_id) == (
        "c:5",
        3,
        1,
    )
    assert tf1_cluster.config_from_tf_config("") is None
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        tf1_cluster.config_from_tf_config("{nope")
    with pytest.raises(ValueError, match="no task type"):
        tf1_cluster.config_from_tf_config(json.dumps({"cluster": {"worker": ["w:1"]}}))


def test_a_one_worker_server_is_one_process():
    server = tf.train.Server(
        tf.train.ClusterSpec({"worker": ["localhost:1"]}),
        job_name="worker",
        task_index=0,
    )
    assert server.target == ""
    assert not process.is_initialized()
    assert tf.train.Server.create_local_server().target == ""
    with pytest.raises(
        tf.errors.UnimplementedError,
        match="join\\(\\) on worker task 0 is not supported",
    ):
        server.join()


def test_one_process_is_the_chief():
    lifecycle.initialize("")
    assert not process.is_initialized()
    assert process.resolve_is_chief(None) is True
    assert process.resolve_is_chief(False) is False
    assert process.log_prefix() == "[process 0/1 chief]"
    assert process.log_prefix(False) == "[process 0/1 worker]"


def test_key_wait_without_a_job_says_so():
    with pytest.raises(RuntimeError, match=r"jax\.distributed is not initialized"):
        kv.key_wait("k", 0.1, "nothing")


def test_a_lost_peer_is_unavailable_but_never_retried_by_a_monitored_session():
    error = health.PeerLostError(None, None, "lost process 1 of 2", [1])
    assert isinstance(error, tf.errors.UnavailableError)
    assert error.error_code == tf.errors.UNAVAILABLE
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.message, copy.lost_processes) == (
        health.PeerLostError,
        "lost process 1 of 2",
        [1],
    )

    class RaiseOnce(tf.train.SessionRunHook):
        def __init__(self, exception):
            self.exception = exception

        def before_run(self, run_context):
            exception, self.exception = self.exception, None
            if exception is not None:
                raise exception

    step = tf.train.get_or_create_global_step()
    increment = tf.assign_add(step, 1)
    # A plain UnavailableError is a preemption: the session is re-created.
    with tf.train.MonitoredSession(
        hooks=[RaiseOnce(tf.errors.UnavailableError(None, None, "preempted"))]
    ) as sess:
        assert sess.run(increment) == 1
    with pytest.raises(health.PeerLostError, match="lost process 1 of 2") as raised:
        with tf.train.MonitoredSession(hooks=[RaiseOnce(error)]) as sess:
            sess.run(increment)
    assert raised.value is error


def test_no_mesh_unless_asked_on_one_process():
    assert mesh_lib.active_mesh() is None
    with tf.Session() as sess:
        assert sess.mesh is None


def test_data_parallel_over_local_devices_trains_like_one_device(data_parallel):
    def train(dp):
        tf.reset_default_graph()
        mesh_lib.set_data_parallel(dp)
        x, y, loss, train_op, _ = _mlp.build()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [
                sess.run([loss, train_op], dict(zip((x, y), _mlp.global_batch(i))))[0]
                for i in range(3)
            ]
            return np.array(losses), _mlp.variables(sess), sess.mesh

    plain_losses, plain_vars, no_mesh = train(False)
    dp_losses, dp_vars, mesh = train(True)
    assert no_mesh is None
    assert mesh.shape == {"data": 4}
    np.testing.assert_allclose(dp_losses, plain_losses, atol=1e-5)
    for name, value in plain_vars.items():
        np.testing.assert_allclose(dp_vars[name], value, atol=1e-5, err_msg=name)


def test_data_parallel_feeds_and_fetches(data_parallel):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    scale = tf.placeholder(tf.float32, [2], name="scale")
    doubled = x * scale
    with tf.Session() as sess:
        xs = np.arange(8, dtype=np.float32).reshape(4, 2)
        out, total = sess.run(
            [doubled, tf.reduce_sum(doubled)],
            {x: xs, scale: np.array([2.0, 3.0], np.float32)},
        )
        np.testing.assert_allclose(out, xs * [2.0, 3.0])
        assert total == pytest.approx(float((xs * [2.0, 3.0]).sum()))
        with pytest.raises(ValueError) as info:
            sess.run(doubled, {x: xs[:3], scale: np.ones(2, np.float32)})
        assert "shape (3, 2) for 'x:0'" in str(info.value)
        assert "multiple of 4, this process's parts of the batch" in str(info.value)


def test_data_parallel_state_is_replicated(data_parallel):
    v = tf.Variable(np.ones(3, np.float32), name="v")
    step = tf.assign_add(v, tf.ones(3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        [value] = sess.variable_values().values()
        assert value.sharding.is_fully_replicated
        assert len(value.sharding.device_set) == 4
        np.testing.assert_allclose(sess.run(v), [2.0, 2.0, 2.0])
