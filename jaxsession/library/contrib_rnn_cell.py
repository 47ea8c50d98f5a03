"""``tf.contrib.rnn``'s projection and embedding wrappers, and ``LSTMBlockCell``.

Unlike the plain wrappers (``DropoutWrapper``, ...), these have weights and
so a variable scope of their own, in which the wrapped cell then takes its
own: ``rnn/output_projection_wrapper/basic_rnn_cell/kernel`` beside
``rnn/output_projection_wrapper/kernel`` and ``.../bias``, as TF1 names them,
so TF1 checkpoints restore onto them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from jaxsession.graph import initializers as init_ops, variables as vs
from jaxsession.graph.core import Tensor
from jaxsession.library.rnn_cell import LSTMCell, RNNCell, _Wrapper, state_leaves
from jaxsession.ops import math as math_ops, nn as nn_ops
from jaxsession.ops.array.shape import reshape

__all__ = [
    "EmbeddingWrapper",
    "InputProjectionWrapper",
    "LSTMBlockCell",
    "OutputProjectionWrapper",
]


class _ScopedWrapper(_Wrapper):
    """A wrapper with weights, so with the variable scope of a cell of its own."""

    __call__ = RNNCell.__call__

    def __init__(self, cell: RNNCell, reuse: Any = None):
        super().__init__(cell)
        self._reuse = reuse

    def _variable(self, name: str, shape: list[Any], dtype: Any, init: Any) -> Any:
        # Made on the first call only: TF1 builds its _Linear once.
        found = getattr(self, "_" + name, None)
        if found is None:
            found = vs.get_variable(name, shape, dtype=dtype, initializer=init)
            setattr(self, "_" + name, found)
        return found


class OutputProjectionWrapper(_ScopedWrapper):
    """Projects a cell's output to ``output_size`` (``tf.contrib.rnn``).

    Variables: ``kernel [cell.output_size, output_size]`` (the scope's default
    initializer) and ``bias [output_size]`` (zeros).

    Args:
        cell: The RNNCell to wrap.
        output_size: The size of the projected output.
        activation: Optional activation applied to the projection.
        reuse: Reuse the variables of an existing scope.

    Raises:
        TypeError: ``cell`` is not an RNNCell.
        ValueError: ``output_size`` is below 1.
    """

    def __init__(
        self,
        cell: RNNCell,
        output_size: int,
        activation: Callable[[Tensor], Tensor] | None = None,
        reuse: Any = None,
    ):
        super().__init__(cell, reuse)
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._output_size = output_size
        self._activation = activation

    @property
    def output_size(self) -> int:
        """``output_size``."""
        return self._output_size

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Runs the cell, then projects its output."""
        output, new_state = self._cell(inputs, state)
        shape = [output.shape[1].value, self._output_size]
        kernel = self._variable("kernel", shape, output.dtype, None)
        bias = self._variable(
            "bias", shape[1:], output.dtype, init_ops.constant_initializer(0.0)
        )
        projected = nn_ops.bias_add(math_ops.matmul(output, kernel), bias)
        if self._activation is not None:
            projected = self._activation(projected)
        return projected, new_state


class InputProjectionWrapper(_ScopedWrapper):
    """Projects the inputs to ``num_proj`` before the cell (``tf.contrib.rnn``).

    Variable: ``kernel [input depth, num_proj]``, no bias (as TF1).

    Args:
        cell: The RNNCell to wrap.
        num_proj: The size of the projected inputs.
        activation: Optional activation applied to the projection.
        input_size: Deprecated and unused (as TF1).
        reuse: Reuse the variables of an existing scope.

    Raises:
        TypeError: ``cell`` is not an RNNCell.
    """

    def __init__(
        self,
        cell: RNNCell,
        num_proj: int,
        activation: Callable[[Tensor], Tensor] | None = None,
        input_size: Any = None,
        reuse: Any = None,
    ):
        super().__init__(cell, reuse)
        self._num_proj = num_proj
        self._activation = activation

    def call(self, inputs: Tensor, state: Any) -> tuple[Any, Any]:
        """Projects the inputs, then runs the cell."""
        shape = [inputs.shape[1].value, self._num_proj]
        kernel = self._variable("kernel", shape, inputs.dtype, None)
        projected = math_ops.matmul(inputs, kernel)
        if self._activation is not None:
            projected = self._activation(projected)
        return self._cell(projected, state)


class EmbeddingWrapper(_ScopedWrapper):
    """Embeds integer ids ``[batch, 1]`` before the cell (``tf.contrib.rnn``).

    Variable: ``embedding [embedding_classes, embedding_size]`` of the state's
    dtype; ``initializer``, else the scope's, else uniform in ``±sqrt(3)``
    (variance 1), as TF1.

    Args:
        cell: The RNNCell to wrap.
        embedding_classes: The number of ids.
        embedding_size: The size of each embedding.
        initializer: Optional initializer of the embedding.
        reuse: Reuse the variables of an existing scope.

    Raises:
        TypeError: ``cell`` is not an RNNCell.
        ValueError: ``embedding_classes`` or ``embedding_size`` is below 1.
    """

    def __init__(
        self,
        cell: RNNCell,
        embedding_classes: int,
        embedding_size: int,
        initializer: Any = None,
        reuse: Any = None,
    ):
        super().__init__(cell, reuse)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError(
                "Both embedding_classes and embedding_size must be > 0: "
                f"{embedding_classes}, {embedding_size}."
            )
        self._embedding_classes = embedding_classes
        self._embedding_size = embedding_size
        self._initializer = initializer

    def call(self, inputs: Tensor, state: Any) -> tuple[Any, Any]:
        """Looks the ids up, then runs the cell."""
        init = self._initializer or vs.get_variable_scope().initializer
        if init is None:
            init = init_ops.random_uniform_initializer(-math.sqrt(3), math.sqrt(3))
        embedding = self._variable(
            "embedding",
            [self._embedding_classes, self._embedding_size],
            state_leaves(state)[0].dtype,
            init,
        )
        embedded = nn_ops.embedding_lookup(embedding, reshape(inputs, [-1]))
        return self._cell(embedded, state)


class LSTMBlockCell(LSTMCell):
    """TF1's fused LSTM cell (``tf.contrib.rnn.LSTMBlockCell``), as ``LSTMCell``.

    The same step as ``LSTMCell`` with gates ``i, ci, f, o`` and the same
    variables: ``lstm_cell/kernel [input + units, 4 units]``, ``bias``
    (zeros) and, with ``use_peephole``, ``w_i_diag``, ``w_f_diag``,
    ``w_o_diag``; so its checkpoints and ``LSTMCell``'s are interchangeable,
    as in TF1. Differs from TF1: XLA fuses the step, not a custom kernel.

    Args:
        num_units: The number of units.
        forget_bias: Added to the forget gate's pre-activation.
        cell_clip: Clips the cell state to ``±cell_clip`` when above 0.
        use_peephole: Whether to add peephole connections.
        dtype: The variables' dtype (by default the first inputs').
        reuse: Reuse the variables of an existing scope.
        name: The cell's scope name.
    """

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        cell_clip: float | None = None,
        use_peephole: bool = False,
        dtype: Any = None,
        reuse: Any = None,
        name: str = "lstm_cell",
    ):
        clip = cell_clip if cell_clip is not None and cell_clip > 0 else None
        super().__init__(
            num_units,
            use_peepholes=use_peephole,
            cell_clip=clip,
            forget_bias=forget_bias,
            reuse=reuse,
            name=name,
            dtype=dtype,
        )

    def build(self, input_depth: int) -> None:
        """Creates the kernel, the bias and the peepholes (TF1's order)."""
        n = self._num_units
        self._kernel = self._weight("kernel", [input_depth + n, 4 * n])
        self._bias = self._weight("bias", [4 * n], init_ops.constant_initializer(0.0))
        if self._use_peepholes:
            self._w_i = self._weight("w_i_diag", [n])
            self._w_f = self._weight("w_f_diag", [n])
            self._w_o = self._weight("w_o_diag", [n])
