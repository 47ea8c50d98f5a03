"""TF1's recurrent cells (``tf.nn.rnn_cell``).

A cell is called as ``output, new_state = cell(inputs, state)``. As in TF1 a
cell with weights takes its variable scope on its first call (its snake-case
class name, made unique in the enclosing variable scope, or the scope given)
and reuses it on every later call, so the variables are named and laid out
as TF1's (``rnn/basic_lstm_cell/kernel`` ``[input + hidden, 4 * hidden]``,
gates ``i, j, f, o``) and TF1 checkpoints restore onto them.
"""

from __future__ import annotations

import collections
import contextlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import jax

from jaxsession.graph import (
    dtypes as dtypes_lib,
    initializers as init_ops,
    variables as vs,
)
from jaxsession.graph.core import Tensor, get_default_graph
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.ops import math as math_ops, nn as nn_ops, random as random_ops
from jaxsession.ops.array import combine, creation
from jaxsession.ops.array.shape import shape as shape_op
from jaxsession.ops.reduction import clip_by_value

__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "DropoutWrapper",
    "GRUCell",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "RNNCell",
    "ResidualWrapper",
]


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """The ``(c, h)`` state of an LSTM: cell state and output."""

    __slots__ = ()

    @property
    def dtype(self) -> Any:
        """The dtype of ``c`` and ``h``.

        Raises:
            TypeError: they differ.
        """
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def _snake(name: str) -> str:
    """TF1's ``to_snake_case``: ``BasicLSTMCell`` -> ``basic_lstm_cell``."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def batch_zeros(size: Any, batch_size: Any, dtype: Any) -> Tensor:
    if isinstance(batch_size, Tensor):
        shape = combine.stack([batch_size, size])
    else:
        shape = [batch_size, size]
    return creation.zeros(shape, dtype=dtype)


def map_structure(fn: Callable[..., Any], *trees: Any) -> Any:
    """``fn`` over the leaves of same-structured trees.

    A loop here rather than ``jax.tree_util.tree_map``, so that the ops it
    makes name the user's line as their creation site, not jax's.
    """
    leaves, treedef = jax.tree_util.tree_flatten(trees[0])
    rest = [treedef.flatten_up_to(t) for t in trees[1:]]
    return treedef.unflatten([fn(*args) for args in zip(leaves, *rest)])


def state_leaves(structure: Any) -> list[Any]:
    """The leaves of a state or state-size structure (tuples and namedtuples)."""
    return jax.tree_util.tree_leaves(structure)


class RNNCell:
    """The abstract cell: ``output, new_state = cell(inputs, state)``.

    Subclasses define ``state_size``, ``output_size`` and ``call``; cells
    with weights define ``build(input_depth)`` creating them with
    ``get_variable`` under the cell's scope.
    """

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        _reuse: Any = None,
        **kwargs: Any,
    ):
        self._name = name
        self._reuse = _reuse
        self._dtype = dtype
        self._trainable = trainable
        self._scope: vs.VariableScope | None = None
        self.built = False

    @property
    def state_size(self) -> Any:
        """Size(s) of the state: an int, a TensorShape or a tuple of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self) -> Any:
        """Size of the output."""
        raise NotImplementedError("Abstract method")

    @property
    def name(self) -> str:
        """The cell's base name (its snake-case class name by default)."""
        return self._name or _snake(type(self).__name__)

    @property
    def trainable_variables(self) -> list[vs.Variable]:
        """The trainable variables under the cell's scope."""
        if self._scope is None:
            return []
        return vs.trainable_variables(self._scope.name + "/")

    trainable_weights = trainable_variables

    @property
    def variables(self) -> list[vs.Variable]:
        """The global variables under the cell's scope."""
        if self._scope is None:
            return []
        return vs.global_variables(self._scope.name + "/")

    weights = variables

    def build(self, input_depth: int) -> None:
        """Creates the cell's variables (none by default)."""

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One step; called under the cell's scope."""
        raise NotImplementedError("Abstract method")

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """Runs one step under the cell's variable scope.

        Args:
            inputs: ``[batch, input_depth]``.
            state: A tensor or structure matching ``state_size``.
            scope: A variable scope to use instead of the cell's own.

        Returns:
            ``(output, new_state)``.

        Raises:
            ValueError: the input depth is unknown or the input is not rank 2.
        """
        inputs = convert_to_tensor(inputs)
        if self._scope is None:
            with vs.variable_scope(scope, default_name=self.name) as s:
                self._scope = s
        reuse = True if self.built else self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
            ns = self._scope.original_name_scope
            graph = get_default_graph()
            with graph.name_scope(ns) if ns else contextlib.nullcontext():
                if not self.built:
                    # A layer's weights take its first inputs' dtype (TF1).
                    self._dtype = self._dtype or inputs.dtype
                    self.build(_input_depth(inputs, self))
                    self.built = True
                return self.call(inputs, state)

    def get_initial_state(
        self, inputs: Any = None, batch_size: Any = None, dtype: Any = None
    ) -> Any:
        """The zero state for ``inputs``' batch (or ``batch_size``)."""
        if inputs is not None:
            inputs = convert_to_tensor(inputs)
            dtype = dtype or inputs.dtype
            batch_size = inputs.shape[0].value
            if batch_size is None:
                batch_size = shape_op(inputs)[0]
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Zero-filled state tensors ``[batch_size, size]`` (``cell.zero_state``).

        Args:
            batch_size: An int or scalar int tensor.
            dtype: The state's dtype.

        Returns:
            Tensors with the structure of ``state_size``.
        """
        dtype = dtypes_lib.as_dtype(dtype)
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return map_structure(
                lambda s: batch_zeros(s, batch_size, dtype), self.state_size
            )


def _input_depth(inputs: Tensor, cell: RNNCell) -> int:
    if inputs.shape.ndims != 2:
        raise ValueError(
            f"{type(cell).__name__} expects inputs of rank 2 [batch, depth], got "
            f"{inputs!r}"
        )
    depth = inputs.shape[1].value
    if depth is None:
        raise ValueError(
            "Input size (depth of inputs) must be accessible via shape inference, "
            f"but saw value None for input={inputs!r}."
        )
    return depth


def _linear(x: Tensor, kernel: Any, bias: Any) -> Tensor:
    return nn_ops.bias_add(math_ops.matmul(x, kernel), bias)


def _plain(tree: Any) -> Any:
    """``tree`` with namedtuples and lists as plain tuples (TF1 unpacks any)."""
    if isinstance(tree, tuple | list):
        return tuple(_plain(x) for x in tree)
    return 0


def check_state(cell: RNNCell, state: Any) -> None:
    """Raises ValueError when ``state`` does not fit ``cell.state_size``.

    Only cells whose ``state_size`` is ints (or tuples of them) are checked.
    """
    sizes = cell.state_size
    if not all(isinstance(s, int) for s in state_leaves(sizes)):
        return
    if _plain(state) != _plain(sizes):
        raise ValueError(
            f"{type(cell).__name__} expects a state of structure {sizes!r} "
            f"(state_size), got {state!r}"
        )
    for s, t in zip(state_leaves(sizes), state_leaves(state)):
        t = convert_to_tensor(t)
        if t.shape.ndims is not None and (
            t.shape.ndims != 2 or t.shape[1].value not in (None, s)
        ):
            raise ValueError(
                f"{type(cell).__name__} expects state tensors of shape "
                f"[batch, {s}], got {t!r}"
            )


class _LayerCell(RNNCell):
    """A cell with weights, an activation and the TF1 constructor arguments."""

    def __init__(
        self,
        num_units: int,
        activation: Callable[[Tensor], Tensor] | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = int(num_units)
        self._activation = activation or math_ops.tanh

    @property
    def state_size(self) -> int:
        """``num_units``."""
        return self._num_units

    @property
    def output_size(self) -> int:
        """``num_units``."""
        return self._num_units

    def _weight(self, name: str, shape: list[int], initializer: Any = None) -> Any:
        return vs.get_variable(
            name,
            shape,
            dtype=self._dtype,
            initializer=initializer,
            trainable=self._trainable,
        )


class BasicRNNCell(_LayerCell):
    """``output = new_state = activation(W [inputs, state] + b)``.

    Variables: ``kernel [input + units, units]``, ``bias [units]``.
    """

    def build(self, input_depth: int) -> None:
        """Creates ``kernel`` and ``bias``."""
        self._kernel = self._weight(
            "kernel", [input_depth + self._num_units, self._num_units]
        )
        self._bias = self._weight(
            "bias", [self._num_units], init_ops.zeros_initializer()
        )

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Tensor]:
        """One step: the new state is also the output."""
        check_state(self, state)
        x = combine.concat([inputs, state], 1)
        out = self._activation(_linear(x, self._kernel, self._bias))
        return out, out


class GRUCell(_LayerCell):
    """The gated recurrent unit (Cho et al. 2014), as TF1's ``GRUCell``.

    Variables: ``gates/kernel [input + units, 2 units]`` and ``gates/bias``
    (initialised to 1.0), ``candidate/kernel [input + units, units]`` and
    ``candidate/bias`` (zeros).
    """

    def __init__(
        self,
        num_units: int,
        activation: Callable[[Tensor], Tensor] | None = None,
        reuse: Any = None,
        kernel_initializer: Any = None,
        bias_initializer: Any = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ):
        super().__init__(num_units, activation, reuse, name, dtype, **kwargs)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    def build(self, input_depth: int) -> None:
        """Creates the ``gates`` and ``candidate`` kernels and biases."""
        n, depth = self._num_units, input_depth + self._num_units
        k_init, b_init = self._kernel_initializer, self._bias_initializer
        with vs.variable_scope("gates"):
            self._gate_kernel = self._weight("kernel", [depth, 2 * n], k_init)
            self._gate_bias = self._weight(
                "bias", [2 * n], b_init or init_ops.constant_initializer(1.0)
            )
        with vs.variable_scope("candidate"):
            self._candidate_kernel = self._weight("kernel", [depth, n], k_init)
            self._candidate_bias = self._weight(
                "bias", [n], b_init or init_ops.zeros_initializer()
            )

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Tensor]:
        """One GRU step: the new state is also the output."""
        check_state(self, state)
        gates = math_ops.sigmoid(
            _linear(
                combine.concat([inputs, state], 1), self._gate_kernel, self._gate_bias
            )
        )
        r, u = combine.split(gates, 2, axis=1)
        x = combine.concat([inputs, r * state], 1)
        c = self._activation(_linear(x, self._candidate_kernel, self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h


def _lstm_state(cell: Any, state: Any, sizes: Sequence[int]) -> tuple[Any, Any]:
    if cell._state_is_tuple:
        check_state(cell, state)
        return state
    state = convert_to_tensor(state)
    if state.shape.ndims != 2 or state.shape[1].value not in (None, sum(sizes)):
        raise ValueError(
            f"{type(cell).__name__} expects a state of shape [batch, {sum(sizes)}] "
            f"(c and h concatenated), got {state!r}"
        )
    return tuple(combine.split(state, list(sizes), axis=1))


def _lstm_new_state(cell: Any, c: Tensor, h: Tensor) -> Any:
    if cell._state_is_tuple:
        return LSTMStateTuple(c, h)
    return combine.concat([c, h], 1)


class BasicLSTMCell(_LayerCell):
    """The basic LSTM cell (no peepholes, no projection), as TF1's.

    Variables: ``kernel [input + units, 4 units]`` and ``bias [4 units]``;
    gates ``i, j, f, o`` in that order, ``forget_bias`` added to ``f``.
    """

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        state_is_tuple: bool = True,
        activation: Callable[[Tensor], Tensor] | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ):
        super().__init__(num_units, activation, reuse, name, dtype, **kwargs)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self) -> Any:
        """``LSTMStateTuple(num_units, num_units)``, or their sum if not a tuple."""
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self) -> int:
        """``num_units``."""
        return self._num_units

    def build(self, input_depth: int) -> None:
        """Creates ``kernel`` and ``bias``."""
        n = self._num_units
        self._kernel = self._weight("kernel", [input_depth + n, 4 * n])
        self._bias = self._weight("bias", [4 * n], init_ops.zeros_initializer())

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One LSTM step: returns ``h`` and the new ``(c, h)``."""
        c, h = _lstm_state(self, state, [self._num_units] * 2)
        gates = _linear(combine.concat([inputs, h], 1), self._kernel, self._bias)
        i, j, f, o = combine.split(gates, 4, axis=1)
        sigmoid, act = math_ops.sigmoid, self._activation
        new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * act(j)
        new_h = act(new_c) * sigmoid(o)
        return new_h, _lstm_new_state(self, new_c, new_h)


class LSTMCell(_LayerCell):
    """The LSTM cell with optional peepholes, cell clipping and projection.

    Variables: ``kernel [input + out, 4 units]``, ``bias``, with peepholes
    ``w_f_diag``, ``w_i_diag``, ``w_o_diag``, with ``num_proj``
    ``projection/kernel [units, num_proj]``; ``out`` is ``num_proj`` or
    ``num_units``. Sharding arguments are accepted and ignored.
    """

    def __init__(
        self,
        num_units: int,
        use_peepholes: bool = False,
        cell_clip: float | None = None,
        initializer: Any = None,
        num_proj: int | None = None,
        proj_clip: float | None = None,
        num_unit_shards: int | None = None,
        num_proj_shards: int | None = None,
        forget_bias: float = 1.0,
        state_is_tuple: bool = True,
        activation: Callable[[Tensor], Tensor] | None = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ):
        super().__init__(num_units, activation, reuse, name, dtype, **kwargs)
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self) -> Any:
        """``LSTMStateTuple(num_units, num_proj or num_units)`` (or their sum)."""
        n, out = self._num_units, self.output_size
        return LSTMStateTuple(n, out) if self._state_is_tuple else n + out

    @property
    def output_size(self) -> int:
        """``num_proj`` or ``num_units``."""
        return self._num_proj or self._num_units

    def build(self, input_depth: int) -> None:
        """Creates the kernel, bias, peephole and projection weights."""
        n, init = self._num_units, self._initializer
        self._kernel = self._weight(
            "kernel", [input_depth + self.output_size, 4 * n], init
        )
        self._bias = self._weight("bias", [4 * n], init_ops.zeros_initializer())
        if self._use_peepholes:
            self._w_f = self._weight("w_f_diag", [n], init)
            self._w_i = self._weight("w_i_diag", [n], init)
            self._w_o = self._weight("w_o_diag", [n], init)
        if self._num_proj is not None:
            with vs.variable_scope("projection"):
                self._proj = self._weight("kernel", [n, self._num_proj], init)

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One LSTM step: returns ``m`` and the new ``(c, m)``."""
        c_prev, m_prev = _lstm_state(self, state, [self._num_units, self.output_size])
        gates = _linear(combine.concat([inputs, m_prev], 1), self._kernel, self._bias)
        i, j, f, o = combine.split(gates, 4, axis=1)
        sigmoid, act = math_ops.sigmoid, self._activation
        if self._use_peepholes:
            c = sigmoid(f + self._forget_bias + self._w_f * c_prev) * c_prev + sigmoid(
                i + self._w_i * c_prev
            ) * act(j)
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        peep = self._w_o * c if self._use_peepholes else 0.0
        m = sigmoid(o + peep) * act(c)
        if self._num_proj is not None:
            m = math_ops.matmul(m, self._proj)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        return m, _lstm_new_state(self, c, m)


class MultiRNNCell(RNNCell):
    """Cells stacked in layers: each cell's output is the next one's input.

    Cell ``i`` runs under the variable scope ``cell_i``.

    Raises:
        ValueError: no cells.
    """

    def __init__(self, cells: Sequence[RNNCell], state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self) -> Any:
        """The cells' state sizes (a tuple, or their sum)."""
        sizes = tuple(c.state_size for c in self._cells)
        if self._state_is_tuple:
            return sizes
        return sum(sum(state_leaves(s)) for s in sizes)

    @property
    def output_size(self) -> Any:
        """The last cell's output size."""
        return self._cells[-1].output_size

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Each cell's zero state, in a tuple (or concatenated)."""
        if not self._state_is_tuple:
            return super().zero_state(batch_size, dtype)
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return tuple(c.zero_state(batch_size, dtype) for c in self._cells)

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Runs each cell on the previous one's output."""
        if self._state_is_tuple:
            check_state(self, state)
            states = list(state)
        else:
            sizes = [sum(state_leaves(c.state_size)) for c in self._cells]
            states = combine.split(convert_to_tensor(state), sizes, axis=1)
        out, new = inputs, []
        for i, cell in enumerate(self._cells):
            with vs.variable_scope(f"cell_{i}"):
                out, s = cell(out, states[i])
            new.append(s)
        if self._state_is_tuple:
            return out, tuple(new)
        return out, combine.concat(new, 1)


class _Wrapper(RNNCell):
    """A cell around another: no scope of its own (TF1's wrapper names)."""

    def __init__(self, cell: RNNCell):
        super().__init__()
        if not isinstance(cell, RNNCell) and not callable(cell):
            raise TypeError(f"The parameter cell is not a RNNCell: {cell!r}")
        self._cell = cell

    @property
    def wrapped_cell(self) -> RNNCell:
        """The wrapped cell."""
        return self._cell

    @property
    def state_size(self) -> Any:
        """The wrapped cell's."""
        return self._cell.state_size

    @property
    def output_size(self) -> Any:
        """The wrapped cell's."""
        return self._cell.output_size

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return self._cell.zero_state(batch_size, dtype)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        return self.call(convert_to_tensor(inputs), state, scope)


def _keep(p: Any) -> bool:
    """Whether ``p`` may drop something (a tensor, or a float below 1)."""
    if isinstance(p, float | int):
        if not 0.0 < p <= 1.0:
            raise ValueError(f"Parameter keep_prob must be between 0 and 1: {p}")
        return p < 1.0
    return True


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and state.

    New masks every step, or with ``variational_recurrent`` one mask per
    run (drawn once, shape ``[1, size]``, as TF1's). The state's ``c`` of an
    ``LSTMStateTuple`` is not dropped (TF1's default filter).

    Raises:
        ValueError: a keep probability outside (0, 1]; or, with
            ``variational_recurrent``, no ``dtype``, or no ``input_size``
            while inputs may be dropped.
    """

    def __init__(
        self,
        cell: RNNCell,
        input_keep_prob: Any = 1.0,
        output_keep_prob: Any = 1.0,
        state_keep_prob: Any = 1.0,
        variational_recurrent: bool = False,
        input_size: Any = None,
        dtype: Any = None,
        seed: int | None = None,
        dropout_state_filter_visitor: Callable[[Any], bool] | None = None,
    ):
        super().__init__(cell)
        self._keeps = (input_keep_prob, output_keep_prob, state_keep_prob)
        drops = [_keep(p) for p in self._keeps]
        self._seed = seed
        self._filter = dropout_state_filter_visitor
        self._noise: dict[int, Any] = {}
        if not variational_recurrent:
            return
        if dtype is None:
            raise ValueError("When variational_recurrent=True, dtype must be provided")
        if drops[0] and input_size is None:
            raise ValueError(
                "When variational_recurrent=True and input_keep_prob < 1.0 or is "
                "unknown, input_size must be provided"
            )
        sizes = (input_size, cell.output_size, cell.state_size)
        for salt, (drop, size) in enumerate(zip(drops, sizes)):
            if drop:
                seed_i = None if seed is None else seed + salt
                self._noise[salt] = map_structure(
                    lambda n, sd=seed_i: random_ops.random_uniform(
                        [1, n], seed=sd, dtype=dtype
                    ),
                    size,
                )

    def _dropout(self, x: Tensor, salt: int, noise: Any = None) -> Tensor:
        keep = self._keeps[salt]
        if noise is not None:
            return x / keep * math_ops.floor(keep + noise)
        seed = None if self._seed is None else self._seed + salt
        return nn_ops.dropout(x, keep_prob=keep, seed=seed)

    def _flags(self, state: Any) -> Any:
        """Which leaves of ``state`` are dropped (TF1's default visitor)."""
        if self._filter is None and isinstance(state, LSTMStateTuple):
            return LSTMStateTuple(False, True)
        if isinstance(state, tuple | list):
            flags = [self._flags(s) for s in state]
            return (
                type(state)(*flags) if hasattr(state, "_fields") else type(state)(flags)
            )
        return True if self._filter is None else bool(self._filter(state))

    def _drop_state(self, state: Any) -> Any:
        leaves, tree = jax.tree_util.tree_flatten(state)
        flags = jax.tree_util.tree_leaves(self._flags(state))
        noise = self._noise.get(2)
        noises = state_leaves(noise) if noise is not None else [None] * len(leaves)
        return tree.unflatten(
            [
                self._dropout(s, 2, n) if drop else s
                for s, drop, n in zip(leaves, flags, noises)
            ]
        )

    def call(self, inputs: Tensor, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """Runs the wrapped cell between dropouts."""
        if _keep(self._keeps[0]):
            inputs = self._dropout(inputs, 0, self._noise.get(0))
        output, new_state = self._cell(inputs, state, scope=scope)
        if _keep(self._keeps[2]):
            new_state = self._drop_state(new_state)
        if _keep(self._keeps[1]):
            output = self._dropout(output, 1, self._noise.get(1))
        return output, new_state


class ResidualWrapper(_Wrapper):
    """Adds a cell's inputs to its outputs (``residual_fn`` to combine them)."""

    def __init__(
        self,
        cell: RNNCell,
        residual_fn: Callable[[Any, Any], Any] | None = None,
    ):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def call(self, inputs: Tensor, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """Runs the wrapped cell and adds its inputs to its output."""
        output, new_state = self._cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        return math_ops.add(inputs, output), new_state
