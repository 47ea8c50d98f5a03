"""``tf.train``: optimizers, learning-rate schedules and the global step."""

from jaxsession.graph.learning_rate_decay import *
from jaxsession.graph.optimizers import *
from jaxsession.graph.variables import (
    assert_global_step as assert_global_step,
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
)
