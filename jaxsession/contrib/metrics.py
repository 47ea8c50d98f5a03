"""``tf.contrib.metrics``: the streaming metrics (``tf.metrics``, predictions first)."""

from jaxsession.library.contrib_metrics import (
    streaming_accuracy as streaming_accuracy,
    streaming_auc as streaming_auc,
    streaming_mean as streaming_mean,
    streaming_mean_absolute_error as streaming_mean_absolute_error,
    streaming_mean_squared_error as streaming_mean_squared_error,
    streaming_precision as streaming_precision,
    streaming_recall as streaming_recall,
    streaming_root_mean_squared_error as streaming_root_mean_squared_error,
)
