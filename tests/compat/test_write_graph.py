"""Graph.as_graph_def, Session.graph_def and tf.train.write_graph as TF1 programs use them."""

from google.protobuf import text_format
from tensorboardX.proto.graph_pb2 import GraphDef

import jaxsession as tf


def _build():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.name_scope("layer"):
        w = tf.Variable(tf.zeros([3, 2]), name="w")
        y = tf.matmul(x, w, name="y")
    with tf.device("/cpu:0"):
        z = tf.nn.relu(y, name="z")
    return z


def test_as_graph_def_lists_every_op_with_type_inputs_and_device():
    _build()
    graph = tf.get_default_graph()
    graph_def = graph.as_graph_def()
    assert isinstance(graph_def, GraphDef)
    nodes = {n.name: n for n in graph_def.node}
    assert [n.name for n in graph_def.node] == [
        op.name for op in graph.get_operations()
    ]
    assert (nodes["x"].op, list(nodes["x"].input)) == ("Placeholder", [])
    assert nodes["layer/w"].op == "VariableV2"
    assert (nodes["layer/y"].op, list(nodes["layer/y"].input)) == (
        "MatMul",
        ["x", "layer/w"],
    )
    assert (nodes["z"].op, list(nodes["z"].input), nodes["z"].device) == (
        "Relu",
        ["layer/y"],
        "/device:CPU:0",
    )
    # As TF1: shapes only when asked for.
    assert "_output_shapes" not in nodes["z"].attr
    shaped = {n.name: n for n in graph.as_graph_def(add_shapes=True).node}
    dims = [d.size for d in shaped["z"].attr["_output_shapes"].list.shape[0].dim]
    assert dims == [-1, 2]


def test_as_graph_def_from_version_gives_the_ops_added_since():
    _build()
    graph = tf.get_default_graph()
    version = graph.version
    tf.identity(graph.get_tensor_by_name("z:0"), name="out")
    assert [n.name for n in graph.as_graph_def(from_version=version).node] == ["out"]


def test_session_graph_def_and_write_graph_text_and_binary(tmp_path):
    _build()
    with tf.Session() as sess:
        graph_def = sess.graph_def
    names = [n.name for n in graph_def.node]
    assert names[0] == "x" and {"layer/w", "layer/y", "z"} <= set(names)
    logdir = tmp_path / "new" / "dir"
    path = tf.train.write_graph(graph_def, str(logdir), "graph.pbtxt")
    assert path == str(logdir / "graph.pbtxt")
    text = (logdir / "graph.pbtxt").read_text()
    assert 'name: "layer/y"' in text and 'op: "MatMul"' in text
    assert text_format.Parse(text, GraphDef()) == graph_def
    path = tf.train.write_graph(
        tf.get_default_graph(), str(logdir), "graph.pb", as_text=False
    )
    parsed = GraphDef.FromString((logdir / "graph.pb").read_bytes())
    assert [n.name for n in parsed.node] == names
    assert parsed.node[names.index("z")].device == "/device:CPU:0"
