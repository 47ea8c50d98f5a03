"""``tf.contrib.metrics``' streaming metrics: ``tf.metrics`` with predictions first.

TF1's contrib wrappers take ``(predictions, labels, ...)`` and pass them,
with the rest of their arguments in the same order, to the ``tf.metrics``
function of the same meaning; so do these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jaxsession.graph.core import Tensor
from jaxsession.library import metrics, more_metrics


def _streaming(metric: Callable[..., tuple[Tensor, Tensor]]) -> Callable[..., Any]:
    def streaming(
        predictions: Any, labels: Any, *args: Any, **kwargs: Any
    ) -> tuple[Tensor, Tensor]:
        return metric(labels, predictions, *args, **kwargs)

    streaming.__name__ = streaming.__qualname__ = f"streaming_{metric.__name__}"
    streaming.__doc__ = (
        f"``tf.metrics.{metric.__name__}`` with ``predictions`` first.\n\n"
        "Returns:\n    ``(value, update_op)``."
    )
    return streaming


streaming_accuracy = _streaming(metrics.accuracy)
streaming_auc = _streaming(metrics.auc)
streaming_precision = _streaming(metrics.precision)
streaming_recall = _streaming(metrics.recall)
streaming_mean_squared_error = _streaming(metrics.mean_squared_error)
streaming_mean_absolute_error = _streaming(more_metrics.mean_absolute_error)
streaming_root_mean_squared_error = _streaming(more_metrics.root_mean_squared_error)
streaming_mean = metrics.mean
