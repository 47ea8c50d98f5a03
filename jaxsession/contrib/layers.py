"""``tf.contrib.layers``: fully_connected and linear, the Xavier initializers, regularizers."""

from jaxsession.library.contrib_layers import (
    apply_regularization as apply_regularization,
    fully_connected as fully_connected,
    linear as linear,
    variance_scaling_initializer as variance_scaling_initializer,
    xavier_initializer as xavier_initializer,
    xavier_initializer_conv2d as xavier_initializer_conv2d,
)
from jaxsession.library.layers import flatten as flatten
from jaxsession.library.losses import (
    l1_regularizer as l1_regularizer,
    l2_regularizer as l2_regularizer,
)
