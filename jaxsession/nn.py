"""``tf.nn``: activations, losses, convolution, pooling and candidate sampling."""

from jaxsession import _nn_rnn_cell as rnn_cell
from jaxsession.library.rnn import *
from jaxsession.library.sampling import *
from jaxsession.ops.conv import *
from jaxsession.ops.conv_variants import *
from jaxsession.ops.ctc import ctc_loss as ctc_loss
from jaxsession.ops.debug import zero_fraction as zero_fraction
from jaxsession.ops.math import sigmoid as sigmoid, tanh as tanh
from jaxsession.ops.nn import *
from jaxsession.ops.normalization import *
from jaxsession.ops.pool import *
