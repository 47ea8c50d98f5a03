"""TF1's ``tf.contrib.layers`` pieces that training programs use most.

``fully_connected`` (variables ``<scope>/weights`` and ``<scope>/biases``, ReLU
by default), the Xavier and contrib variance-scaling initializers, and
``apply_regularization``. ``tf.contrib`` itself left TensorFlow with 2.0;
these keep programs written against it running unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jaxsession.graph import (
    dtypes as dtypes_lib,
    initializers as init_ops,
    variables as vs,
)
from jaxsession.graph.core import (
    GraphKeys,
    Tensor,
    add_to_collection,
    get_collection,
    name_scope,
)
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.ops import math as math_ops, nn as nn_ops
from jaxsession.ops.array.creation import constant

__all__ = [
    "apply_regularization",
    "fully_connected",
    "linear",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
]

_ZEROS = init_ops.zeros_initializer()
_MODES = {"FAN_IN": "fan_in", "FAN_OUT": "fan_out", "FAN_AVG": "fan_avg"}
# contrib's truncated normal has stddev sqrt(1.3 * factor / n); the core
# initializer divides by the truncated unit normal's stddev instead.
_TRUNCATED_STD = 0.87962566103423978


def variance_scaling_initializer(
    factor: float = 2.0,
    mode: str = "FAN_IN",
    uniform: bool = False,
    seed: int | None = None,
    dtype: Any = None,
) -> init_ops.Initializer:
    """Variance scaling as contrib had it: ``factor / n`` of the fans ``mode`` names.

    Uniform in ``[-sqrt(3 * factor / n), sqrt(3 * factor / n)]``, else a
    normal truncated at two stddevs of stddev ``sqrt(1.3 * factor / n)``.

    Raises:
        TypeError: ``mode`` is not FAN_IN, FAN_OUT or FAN_AVG.
    """
    if mode not in _MODES:
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")
    if dtype is not None:
        _check_floating(dtypes_lib.as_dtype(dtype))
    if uniform:
        return _FloatingOnly(factor, _MODES[mode], "uniform", seed, dtype)
    scale = 1.3 * factor * _TRUNCATED_STD**2
    return _FloatingOnly(scale, _MODES[mode], "truncated_normal", seed, dtype)


def _check_floating(dtype: dtypes_lib.DType) -> None:
    if not dtype.is_floating:
        raise TypeError(
            f"Cannot create initializer for non-floating point type ({dtype.name})."
        )


class _FloatingOnly(init_ops.variance_scaling_initializer):
    """The core variance scaling, refusing integer variables as contrib did."""

    def _build(self, shape: tuple[int, ...], dtype: dtypes_lib.DType) -> Tensor:
        _check_floating(dtype)
        return super()._build(shape, dtype)


def xavier_initializer(
    uniform: bool = True, seed: int | None = None, dtype: Any = None
) -> init_ops.Initializer:
    """Glorot/Xavier: variance scaling with factor 1 over the mean of the fans."""
    return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


xavier_initializer_conv2d = xavier_initializer


def fully_connected(
    inputs: Any,
    num_outputs: int,
    activation_fn: Callable[[Tensor], Tensor] | None = nn_ops.relu,
    normalizer_fn: Callable[..., Tensor] | None = None,
    normalizer_params: dict[str, Any] | None = None,
    weights_initializer: Any = None,
    weights_regularizer: Any = None,
    biases_initializer: Any = _ZEROS,
    biases_regularizer: Any = None,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Sequence[str] | None = None,
    trainable: bool = True,
    scope: str | None = None,
) -> Tensor:
    """``activation_fn(inputs @ weights + biases)`` on the last axis.

    Variables ``<scope>/weights`` (Xavier uniform by default) and
    ``<scope>/biases`` (none with a ``normalizer_fn`` or without a
    ``biases_initializer``) join MODEL_VARIABLES; inputs of rank > 2
    contract their last axis.

    Raises:
        ValueError: the last dimension of ``inputs`` is unknown.
    """
    if not isinstance(num_outputs, int):
        raise ValueError(
            f"num_outputs type should be one of (int,), got {num_outputs}."
        )
    with vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        x = convert_to_tensor(inputs)
        rank = x.shape.ndims
        if rank is not None and rank < 2:
            raise ValueError(
                f"Input 0 of layer fully_connected is incompatible with the layer: "
                f"expected min_ndim=2, found ndim={rank} (inputs {x.name!r}, shape "
                f"{x.shape})."
            )
        depth = x.shape[-1].value if rank else None
        if depth is None:
            raise ValueError(
                f"The last dimension of the inputs to fully_connected should be "
                f"defined. Found None (inputs {x.name!r}, shape {x.shape})."
            )
        weights = _model_variable(
            "weights",
            [depth, num_outputs],
            x.dtype,
            weights_initializer or xavier_initializer(),
            weights_regularizer,
            variables_collections,
            trainable,
        )
        if rank == 2:
            outputs = math_ops.matmul(x, weights)
        else:
            outputs = math_ops.tensordot(x, weights, [[rank - 1], [0]])
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        elif biases_initializer is not None:
            biases = _model_variable(
                "biases",
                [num_outputs],
                x.dtype,
                biases_initializer,
                biases_regularizer,
                variables_collections,
                trainable,
            )
            outputs = nn_ops.bias_add(outputs, biases)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        for collection in outputs_collections or ():
            add_to_collection(collection, outputs)
        return outputs


def linear(inputs: Any, num_outputs: int, **kwargs: Any) -> Tensor:
    """``fully_connected`` with no activation (``tf.contrib.layers.linear``).

    As TF1's ``functools.partial``: the scope is ``fully_connected`` and
    ``activation_fn`` may still be given.
    """
    kwargs.setdefault("activation_fn", None)
    return fully_connected(inputs, num_outputs, **kwargs)


def _model_variable(
    name: str,
    shape: list[int],
    dtype: Any,
    initializer: Any,
    regularizer: Any,
    collections: Any,
    trainable: bool,
) -> vs.Variable:
    extra = collections.get(name) if isinstance(collections, dict) else collections
    names = [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES, *(extra or ())]
    if trainable:
        names.append(GraphKeys.TRAINABLE_VARIABLES)
    return vs.get_variable(
        name,
        shape,
        dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=list(dict.fromkeys(names)),
    )


def apply_regularization(
    regularizer: Callable[[Any], Any], weights_list: Any = None
) -> Tensor:
    """The sum of ``regularizer`` over the weights, added to REGULARIZATION_LOSSES.

    Args:
        regularizer: A function of one weight tensor (a None result counts 0).
        weights_list: The weights; by default the WEIGHTS collection.

    Raises:
        ValueError: no weights, or a penalty that is not a scalar.
    """
    if not weights_list:
        weights_list = get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with name_scope("get_regularization_penalty") as scope:
        penalties = []
        for w in weights_list:
            p = regularizer(w)
            p = constant(0.0) if p is None else convert_to_tensor(p)
            if p.shape.ndims != 0:
                raise ValueError(
                    "regularizer must return a scalar Tensor instead of a Tensor "
                    f"with rank {p.shape.ndims} (for weights {w.name!r})."
                )
            penalties.append(p)
        total = math_ops.add_n(penalties, name=scope)
    add_to_collection(GraphKeys.REGULARIZATION_LOSSES, total)
    return total
