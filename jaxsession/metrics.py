"""``tf.metrics``: streaming metrics returning ``(value, update_op)``."""

from jaxsession.graph.metrics_impl import (
    accuracy as accuracy,
    auc as auc,
    mean as mean,
    mean_squared_error as mean_squared_error,
    precision as precision,
    recall as recall,
)
