import re

import numpy as np
import pytest

import jaxsession as tf
from jaxsession.graph import core


def test_names_are_unique_under_name_scopes():
    with tf.name_scope("dense"):
        a = tf.constant(1.0, name="MatMul")
        b = tf.constant(1.0, name="MatMul")
    with tf.name_scope("dense"):
        c = tf.constant(1.0, name="MatMul")
    with tf.name_scope("outer"), tf.name_scope("inner"):
        d = tf.constant(1.0)
    assert [a.op.name, b.op.name, c.op.name, d.op.name] == [
        "dense/MatMul",
        "dense/MatMul_1",
        "dense_1/MatMul",
        "outer/inner/Const",
    ]


def test_name_scope_with_trailing_slash_reenters_and_none_resets():
    with tf.name_scope("s") as scope:
        assert scope == "s/"
    with tf.name_scope(scope):
        a = tf.constant(0, name="x")
    with tf.name_scope("s"), tf.name_scope(None):
        b = tf.constant(0, name="y")
    assert (a.op.name, b.op.name) == ("s/x", "y")


def test_reprs_follow_tf1():
    x = tf.placeholder(tf.float32, [None, 10], name="x")
    assert repr(x) == "<tf.Tensor 'x:0' shape=(?, 10) dtype=float32>"
    assert repr(x.op) == "<tf.Operation 'x' type=Placeholder>"
    assert str(x) == 'Tensor("x:0", shape=(?, 10), dtype=float32)'


def test_bool_of_tensor_raises_type_error():
    x = tf.constant(1.0)
    with pytest.raises(
        TypeError, match=re.escape("Using a `tf.Tensor` as a Python `bool`")
    ):
        bool(x)


def test_get_by_name_and_errors():
    x = tf.placeholder(tf.float32, name="x")
    g = tf.get_default_graph()
    assert g.get_tensor_by_name("x:0") is x
    assert g.get_operation_by_name("x") is x.op
    with pytest.raises(KeyError, match=re.escape("The operation, 'y', does not exist")):
        g.get_tensor_by_name("y:0")
    with pytest.raises(KeyError, match=re.escape("exists but only has 1 outputs")):
        g.get_tensor_by_name("x:1")
    with pytest.raises(ValueError, match="Tensor names must be of the form"):
        g.get_tensor_by_name("x")
    with pytest.raises(KeyError, match="refers to an Operation not in the graph"):
        g.get_operation_by_name("nope")


def test_collections():
    g = tf.get_default_graph()
    tf.add_to_collection("things", 1)
    tf.add_to_collections(["things", "other"], 2)
    assert tf.get_collection("things") == [1, 2]
    assert tf.get_collection("other") == [2]
    ref = tf.get_collection_ref("things")
    ref.append(3)
    assert g.get_collection("things") == [1, 2, 3]
    assert sorted(g.get_all_collection_keys()) == ["other", "things"]
    v1 = tf.Variable(1.0, name="a/v")
    tf.Variable(1.0, name="b/v")
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="a") == [v1]


def test_finalize_names_the_op_and_call_site():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0)
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError) as info:
            tf.constant(2.0, name="late")
    message = str(info.value)
    assert message.startswith(
        "Graph is finalized and cannot be modified: tried to add op 'late' of type Const at "
    )
    assert (
        "test_core.py" in message
        and "test_finalize_names_the_op_and_call_site" in message
    )


def test_control_dependencies_attach_and_clear():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.identity(b, name="c")
        with tf.control_dependencies(None):
            d = tf.identity(b, name="d")
        with tf.control_dependencies([b.op]):
            e = tf.identity(b, name="e")
    assert c.op.control_inputs == (a.op,)
    assert d.op.control_inputs == ()
    assert e.op.control_inputs == (a.op, b.op)


def test_default_graph_stack_and_reset():
    g = tf.Graph()
    with g.as_default():
        assert tf.get_default_graph() is g
        with pytest.raises(
            AssertionError, match=re.escape("Do not use tf.reset_default_graph")
        ):
            tf.reset_default_graph()
    before = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not before


def test_ops_go_to_their_inputs_graph_and_mixing_graphs_fails():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0, name="a")
    with g2.as_default():
        b = tf.constant(1.0, name="b")
        assert tf.identity(a).graph is g1  # as TF1: the inputs' graph wins
        with pytest.raises(ValueError, match="must be from the same graph"):
            tf.add(a, b)


def test_shape_error_names_op_and_shapes():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    y = tf.placeholder(tf.float32, [4, 5], name="y")
    with pytest.raises(ValueError) as info:
        tf.matmul(x, y, name="mm")
    assert "for 'mm' (op: 'MatMul') with input shapes: [2,3], [4,5]." in str(info.value)


def test_unknown_dims_from_different_placeholders_are_compatible():
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [None, 3])
    c = tf.placeholder(tf.float32, [None, 1])
    assert (a + b).shape.as_list() == [None, 3]
    assert (a * c).shape.as_list() == [None, 3]
    assert tf.matmul(a, b, transpose_b=True).shape.as_list() == [None, None]


def test_unknown_rank_placeholder_gives_unknown_rank_output():
    a = tf.placeholder(tf.float32)
    out = a + 1.0
    assert out.shape.ndims is None
    with tf.Session() as sess:
        np.testing.assert_allclose(
            sess.run(out, {a: np.ones((2, 2))}), 2 * np.ones((2, 2))
        )


def test_jax_op_lifts_any_function_with_pytree_outputs():
    import jax.numpy as jnp

    def fn(x, y, *, scale):
        return {"sum": (x + y) * scale, "prod": (x * y, jnp.sum(x))}

    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.constant(np.ones((1, 2), np.float32))
    out = tf.jax_op(fn)(x, y, scale=2.0)
    assert out["sum"].shape.as_list() == [None, 2]
    assert out["prod"][1].shape.as_list() == []
    with tf.Session() as sess:
        got = sess.run(out, {x: [[1.0, 2.0]]})
    np.testing.assert_allclose(got["sum"], [[4.0, 6.0]])
    np.testing.assert_allclose(got["prod"][0], [[1.0, 2.0]])
    assert got["prod"][1] == pytest.approx(3.0)


def test_operation_is_frozen():
    op = tf.constant(1.0).op
    with pytest.raises(AttributeError):
        op.name = "x"


def test_source_info_points_at_user_code():
    c = tf.constant(1.0)
    assert c.op.source.filename.endswith("test_core.py")
    assert c.op.source.function == "test_source_info_points_at_user_code"


def test_check_graph_reports_inconsistent_op_with_window():
    from jaxsession.graph.check import GraphCheckError, check_graph

    g = tf.Graph()
    with g.as_default():
        x = tf.constant(np.ones(3, np.float32), name="x")
        tf.identity(x, name="ok")
        bad = core.Aval((4,), tf.float32)
        g.create_op("Identity", [x], [bad], lambda v: (v,), name="bad")
    with pytest.raises(GraphCheckError) as info:
        check_graph(g)
    text = str(info.value)
    assert (
        "<tf.Operation 'bad' type=Identity> output 0: declared shape (4,), computes (3,)"
        in text
    )
    assert ">> bad:0 f32[4] = Identity x:0" in text
