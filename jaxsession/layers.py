"""``tf.layers``: TF1's functional layers."""

from jaxsession.library.layers import *
