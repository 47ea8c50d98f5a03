"""TF1's switches between graph and eager behaviour: here always graph mode.

jaxsession is TF1's graph-and-session model, so the switches that turn TF2
behaviour off are accepted and do nothing, and the ones that would turn
eager execution on raise.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "disable_eager_execution",
    "disable_resource_variables",
    "disable_tensor_equality",
    "disable_v2_behavior",
    "disable_v2_tensorshape",
    "enable_eager_execution",
    "enable_v2_behavior",
    "executing_eagerly",
]

_EAGER_HINT = (
    "jaxsession runs TF1 graphs in sessions; eager execution is not available. "
    "Build the graph and run it with tf.Session, or call any JAX function "
    "directly for eager work."
)


def executing_eagerly() -> bool:
    """False: ops build graph nodes (``tf.executing_eagerly``)."""
    return False


def disable_eager_execution() -> None:
    """Does nothing: graph mode is the only mode."""


def disable_v2_behavior() -> None:
    """Does nothing: TF1 behaviour is the only behaviour."""


def disable_resource_variables() -> None:
    """Does nothing: variables behave as TF1's ref variables do."""


def disable_v2_tensorshape() -> None:
    """Does nothing: shapes are TF1 ``TensorShape``s of ``Dimension``s."""


def disable_tensor_equality() -> None:
    """Does nothing: tensors compare by identity, as in TF1."""


def enable_eager_execution(*args: Any, **kwargs: Any) -> None:
    """Raises: eager execution is not available.

    Raises:
        NotImplementedError: always, with what to do instead.
    """
    raise NotImplementedError(f"tf.enable_eager_execution: {_EAGER_HINT}")


def enable_v2_behavior() -> None:
    """Raises: TF2 behaviour (eager by default) is not available.

    Raises:
        NotImplementedError: always, with what to do instead.
    """
    raise NotImplementedError(f"tf.enable_v2_behavior: {_EAGER_HINT}")
