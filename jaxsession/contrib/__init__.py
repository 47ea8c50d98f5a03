"""``tf.contrib``: the parts of TF1's contrib that training programs use most.

Only ``tf.contrib.rnn``, ``tf.contrib.layers``, ``tf.contrib.metrics``,
``tf.contrib.legacy_seq2seq`` (its decoder and losses),
``tf.contrib.seq2seq`` (``sequence_loss`` only) and
``tf.contrib.tensorboard.plugins.projector`` (see their modules). Other
contrib packages (slim, learn, ...) are not provided: import
errors name them.
"""

from jaxsession.contrib import (
    layers as layers,
    legacy_seq2seq as legacy_seq2seq,
    metrics as metrics,
    rnn as rnn,
    seq2seq as seq2seq,
    tensorboard as tensorboard,
)
