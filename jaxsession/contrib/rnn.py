"""``tf.contrib.rnn``: TF1's recurrent cells and unrolled RNNs under their contrib names."""

from jaxsession._nn_rnn_cell import *
from jaxsession.library.contrib_rnn_cell import (
    EmbeddingWrapper as EmbeddingWrapper,
    InputProjectionWrapper as InputProjectionWrapper,
    LSTMBlockCell as LSTMBlockCell,
    OutputProjectionWrapper as OutputProjectionWrapper,
)
from jaxsession.library.rnn import (
    stack_bidirectional_dynamic_rnn as stack_bidirectional_dynamic_rnn,
    stack_bidirectional_rnn as stack_bidirectional_rnn,
    static_bidirectional_rnn as static_bidirectional_rnn,
    static_rnn as static_rnn,
)
