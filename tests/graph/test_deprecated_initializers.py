"""TF 1.0-era initializer names and tables_initializer, as TF1 programs call them."""

import jaxsession as tf


def test_old_initializer_names_and_the_tables_initializer_behave_as_tf1():
    v = tf.Variable(1.0, name="v")
    local = tf.Variable(2.0, name="l", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    ops = [
        tf.tables_initializer(),
        tf.initialize_all_tables(),
        tf.initialize_local_variables(),
        tf.initialize_variables([v], name="just_v"),
    ]
    # Op names and types as TensorFlow 2.21 (tf.compat.v1) gives them.
    assert [(op.name, op.type) for op in ops] == [
        ("init_all_tables", "NoOp"),
        ("init_all_tables_1", "NoOp"),
        ("init", "NoOp"),
        ("just_v", "NoOp"),
    ]
    with tf.Session() as sess:
        sess.run(ops[2])
        assert sess.run(local) == 2.0
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"v"]
        sess.run([ops[3], ops[0]])
        assert sess.run(v) == 1.0


def test_the_tables_initializer_runs_what_the_collection_holds():
    counter = tf.Variable(0, name="counter")
    tf.add_to_collection(tf.GraphKeys.TABLE_INITIALIZERS, counter.initializer)
    with tf.Session() as sess:
        sess.run(tf.tables_initializer())
        assert sess.run(counter) == 0
