"""A character-level LSTM language model, written as TF1 programs wrote it.

A TF1 program: only ``import jaxsession as tf`` differs. Two
``BasicLSTMCell`` layers in a ``MultiRNNCell`` (each in a
``DropoutWrapper`` fed a ``keep_prob`` placeholder), run by
``tf.nn.dynamic_rnn`` over an embedding of text the program generates from
a small grammar; a softmax layer, the mean cross entropy, Adam with
gradient clipping. After training it samples text one character
at a time, feeding the LSTM state back through placeholders. Prints
``key value`` lines; with ``--fixed-init`` every weight starts from a fixed
pattern, so a run on TensorFlow prints the same losses.
"""

# Written as TF1 programs were (%-formatting), which lint rules would modernize.
# ruff: noqa: UP031

import argparse

import numpy as np

import jaxsession as tf

SUBJECTS = ["the cat", "a dog", "my friend", "the old man", "she", "he"]
VERBS = ["sees", "likes", "finds", "wants", "hears"]
OBJECTS = ["the ball", "a bird", "the red door", "some tea", "the sea"]


def make_text(n_sentences=400, seed=0):
    rng = np.random.RandomState(seed)
    words = []
    for _ in range(n_sentences):
        words.append(
            "%s %s %s."
            % (
                SUBJECTS[rng.randint(len(SUBJECTS))],
                VERBS[rng.randint(len(VERBS))],
                OBJECTS[rng.randint(len(OBJECTS))],
            )
        )
    return " ".join(words)


def batches(ids, batch_size, num_steps):
    """Contiguous (input, target) windows, as the PTB tutorial's reader cut them."""
    n = (len(ids) - 1) // (batch_size * num_steps) * batch_size * num_steps
    x = ids[:n].reshape(batch_size, -1)
    y = ids[1 : n + 1].reshape(batch_size, -1)
    for i in range(x.shape[1] // num_steps):
        yield (
            x[:, i * num_steps : (i + 1) * num_steps],
            y[:, i * num_steps : (i + 1) * num_steps],
        )


def fixed_initializer(shape, dtype=None, partition_info=None):
    """The same weights on every framework: a sine pattern of the shape."""
    n = int(np.prod(shape))
    values = np.sin(np.arange(n) * 0.37 + n % 7) * (1.0 / np.sqrt(shape[0]))
    return tf.constant(values.reshape(shape), dtype=dtype or tf.float32)


def build_cell(hidden, layers, keep_prob):
    cells = []
    for _ in range(layers):
        cell = tf.nn.rnn_cell.BasicLSTMCell(hidden)
        cells.append(tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep_prob))
    return tf.nn.rnn_cell.MultiRNNCell(cells)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--num_steps", type=int, default=20)
    parser.add_argument("--keep_prob", type=float, default=0.9)
    parser.add_argument("--fixed-init", action="store_true")
    args = parser.parse_args()
    tf.set_random_seed(0)

    text = make_text()
    chars = sorted(set(text))
    vocab = len(chars)
    ids = np.array([chars.index(c) for c in text], dtype=np.int32)

    x = tf.placeholder(tf.int32, [None, None], name="x")
    y = tf.placeholder(tf.int32, [None, None], name="y")
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")
    init = fixed_initializer if args.fixed_init else None
    with tf.variable_scope("model", initializer=init):
        embedding = tf.get_variable("embedding", [vocab, args.hidden])
        inputs = tf.nn.embedding_lookup(embedding, x)
        cell = build_cell(args.hidden, args.layers, keep_prob)
        outputs, final_state = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
        softmax_w = tf.get_variable("softmax_w", [args.hidden, vocab])
        softmax_b = tf.get_variable(
            "softmax_b", [vocab], initializer=tf.zeros_initializer()
        )
        flat = tf.reshape(outputs, [-1, args.hidden])
        logits = tf.matmul(flat, softmax_w) + softmax_b
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(y, [-1]), logits=logits
        )
    )
    tvars = tf.trainable_variables()
    grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), 5.0)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(0.01).apply_gradients(
        zip(grads, tvars), global_step=global_step
    )

    # Sampling: one character at a time, the state fed back by the program.
    one = tf.placeholder(tf.int32, [1, 1], name="one")
    state_in = cell.zero_state(1, tf.float32)
    with tf.variable_scope("model", reuse=True):
        step_out, state_out = tf.nn.dynamic_rnn(
            cell,
            tf.nn.embedding_lookup(embedding, one),
            initial_state=state_in,
        )
        next_logits = tf.matmul(step_out[:, -1], softmax_w) + softmax_b
    next_id = tf.argmax(next_logits, axis=1)

    print("vocab %d" % vocab)
    print("variables %s" % " ".join(v.op.name for v in tvars))
    print("outputs_shape %s" % outputs.get_shape())
    print("state_c_shape %s" % final_state[-1].c.get_shape())

    data = list(batches(ids, args.batch_size, args.num_steps))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        keep = 1.0 if args.fixed_init else args.keep_prob
        for i in range(args.steps):
            xb, yb = data[i % len(data)]
            value, _, step = sess.run(
                [loss, train_op, global_step], {x: xb, y: yb, keep_prob: keep}
            )
            print("step %d loss %.5f" % (step, value))
        xb, yb = data[0]
        print("final_loss %.5f" % sess.run(loss, {x: xb, y: yb}))

        state = sess.run(state_in)
        current = chars.index("t")
        sample = ["t"]
        for _ in range(40):
            feed = {one: [[current]]}
            for i, (c, h) in enumerate(state_in):  # as the PTB tutorial fed it
                feed[c] = state[i].c
                feed[h] = state[i].h
            current, state = sess.run([next_id, state_out], feed)
            current = int(current[0])
            sample.append(chars[current])
        print("sample %s" % "".join(sample))


if __name__ == "__main__":
    main()
