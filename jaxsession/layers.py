"""``tf.layers``: TF1's functional layers and the layer classes behind them."""

from jaxsession.library.layer_classes import *
from jaxsession.library.layers import *
