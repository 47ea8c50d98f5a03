"""``tf.metrics``: streaming metrics returning ``(value, update_op)``."""

from jaxsession.library.metrics import (
    accuracy as accuracy,
    auc as auc,
    mean as mean,
    mean_squared_error as mean_squared_error,
    precision as precision,
    recall as recall,
)
from jaxsession.library.more_metrics import *  # noqa: F403
