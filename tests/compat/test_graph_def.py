"""The graph tab: Graph -> GraphDef, written by FileWriter, read by TensorBoard."""

import re

import pytest
from tensorboardX.proto.types_pb2 import DataType

import jaxsession as tf
from jaxsession.graph.graph_def import graph_to_graph_def
from tests.helpers.events import read_events

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="tensorboard is not installed (the test extra has it)",
)


def _graph():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(tf.ones([3, 2]), name="w")
    y = tf.matmul(x, w, name="y")
    values, indices = tf.nn.top_k(y, k=1, name="top")
    with tf.control_dependencies([values.op]):
        z = tf.identity(indices, name="z")
    return z


def _nodes(graph_def):
    return {n.name: n for n in graph_def.node}


def _shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


def test_graph_def_has_names_types_inputs_shapes_and_dtypes():
    _graph()
    nodes = _nodes(graph_to_graph_def(tf.get_default_graph()))
    assert list(nodes) == [op.name for op in tf.get_default_graph().get_operations()]
    x, y, top, z = nodes["x"], nodes["y"], nodes["top"], nodes["z"]
    assert (x.op, list(x.input), _shapes(x)) == ("Placeholder", [], [[-1, 3]])
    assert x.attr["dtype"].type == DataType.DT_FLOAT
    assert (y.op, list(y.input), _shapes(y)) == ("MatMul", ["x", "w"], [[-1, 2]])
    assert y.attr["T"].type == DataType.DT_FLOAT
    assert top.op == "TopKV2" and _shapes(top) == [[-1, 1], [-1, 1]]
    # Output 1 is "op:1"; control inputs come last with "^".
    assert list(z.input) == ["top:1", "^top"]
    assert z.attr["T"].type == DataType.DT_INT32
    assert nodes["w"].op == "VariableV2" and _shapes(nodes["w"]) == [[3, 2]]
    assert "w" in nodes["w/Assign"].input


def test_file_writer_graph_is_read_by_tensorboard(tmp_path):
    _graph()
    with tf.summary.FileWriter(str(tmp_path / "a"), graph=tf.get_default_graph()):
        pass
    writer = tf.summary.FileWriter(str(tmp_path / "b"))
    writer.add_graph(tf.get_default_graph(), global_step=7)
    writer.close()
    for logdir in ("a", "b"):
        acc = event_accumulator.EventAccumulator(str(tmp_path / logdir))
        acc.Reload()
        assert acc.Tags()["graph"] is True
        nodes = _nodes(acc.Graph())
        assert list(nodes["y"].input) == ["x", "w"]
        assert _shapes(nodes["z"]) == [[-1, 1]]
    steps = [e.step for e in read_events(tmp_path / "b") if e.graph_def]
    assert steps == [7]


def test_add_graph_accepts_graph_def_and_rejects_other_types(tmp_path):
    _graph()
    graph_def = graph_to_graph_def(tf.get_default_graph())
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_graph(None, graph_def=graph_def)
        with pytest.raises(
            TypeError, match=re.escape("`Graph` or the deprecated `GraphDef`, got str")
        ):
            writer.add_graph("graph")
        with pytest.raises(ValueError, match="not both"):
            writer.add_graph(tf.get_default_graph(), graph_def=graph_def)
    events = [e for e in read_events(tmp_path) if e.graph_def]
    assert len(events) == 1 and events[0].graph_def == graph_def.SerializeToString()


def test_session_graph_def_and_write_graph(tmp_path):
    from google.protobuf import text_format
    from tensorboardX.proto.graph_pb2 import GraphDef

    _graph()
    with tf.Session() as sess:
        graph_def = sess.graph_def
        # TF1 tutorials pass sess.graph_def as FileWriter's second argument.
        with tf.summary.FileWriter(str(tmp_path / "logs"), sess.graph_def):
            pass
    assert graph_def.node[0].name == "x" and len(graph_def.node) > 5
    path = tf.train.write_graph(tf.get_default_graph(), str(tmp_path), "graph.pbtxt")
    assert path == str(tmp_path / "graph.pbtxt")
    assert (
        text_format.Parse((tmp_path / "graph.pbtxt").read_text(), GraphDef())
        == graph_def
    )
    tf.train.write_graph(graph_def, str(tmp_path), "graph.pb", as_text=False)
    assert GraphDef.FromString((tmp_path / "graph.pb").read_bytes()) == graph_def
    events = [e for e in read_events(tmp_path / "logs") if e.graph_def]
    assert GraphDef.FromString(events[0].graph_def) == graph_def
