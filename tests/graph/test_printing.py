import jaxsession as tf
from jaxsession.engine.plan import make_plan


def _build():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.Variable(tf.constant([[1.0, 2.0]] * 3), name="w")
    y = tf.matmul(x, w, name="y")
    step = w.assign_add(tf.constant([[1.0, 1.0]] * 3, name="one"), name="step")
    init = tf.global_variables_initializer()
    return x, w, y, step, init


def test_graph_as_text_is_golden():
    _build()
    assert tf.get_default_graph().as_text() == "\n".join(
        [
            "x:0 f32[?,3] = Placeholder",
            "w:0 f32[3,2] = VariableV2 reads(w)",
            "Const:0 f32[3,2] = Const <6 values>",
            "w/Assign:0 f32[3,2] = Assign Const:0 writes(w)",
            "y:0 f32[?,2] = MatMul x:0, w:0 {transpose_a=False, transpose_b=False}",
            "one:0 f32[3,2] = Const <6 values>",
            "step:0 f32[3,2] = AssignAdd one:0 reads(w) writes(w)",
            "init = NoOp ^w/Assign",
        ]
    )


def test_plan_as_text_lists_feeds_state_and_order():
    x, w, y, step, _ = _build()
    plan = make_plan([y], [step.op], [x])
    assert plan.as_text() == "\n".join(
        [
            "feeds: x:0",
            "state reads+writes: w",
            "w:0 f32[3,2] = VariableV2 reads(w)",
            "y:0 f32[?,2] = MatMul x:0, w:0 {transpose_a=False, transpose_b=False}",
            "one:0 f32[3,2] = Const <6 values>",
            "step:0 f32[3,2] = AssignAdd one:0 reads(w) writes(w)",
            "fetch: y:0",
        ]
    )


def test_small_constants_print_their_value():
    tf.constant(2.5, name="c")
    tf.constant([1, 2], name="v")
    assert tf.get_default_graph().as_text() == (
        "c:0 f32[] = Const 2.5\nv:0 i32[2] = Const [1, 2]"
    )
