"""TF1's recurrent drivers: ``dynamic_rnn``, ``static_rnn``, bidirectional forms.

``dynamic_rnn`` builds the cell's step once and runs it as one ``lax.scan``
over time (``ops/functional.py: scan_loop``), not unrolled. With
``sequence_length`` each batch entry's output is zero and its state frozen
from its length on, as TF1's. The backward direction of the bidirectional
forms scans in reverse with the same masking, which equals TF1's
reverse-run-reverse of each sequence's valid prefix without gathering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

from jaxsession.graph import dtypes as dtypes_lib, variables as vs
from jaxsession.graph.core import Tensor
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.library.rnn_cell import (
    RNNCell,
    batch_zeros,
    check_state,
    map_structure,
    state_leaves,
)
from jaxsession.ops import math as math_ops
from jaxsession.ops.array import combine, creation
from jaxsession.ops.array.shape import shape as shape_op, transpose
from jaxsession.ops.functional import scan_loop

# The stacked drivers are tf.contrib.rnn's only: not in tf.nn's star import.
__all__ = [
    "bidirectional_dynamic_rnn",
    "dynamic_rnn",
    "static_bidirectional_rnn",
    "static_rnn",
]


def _check_cell(cell: Any, what: str = "cell") -> None:
    if not isinstance(cell, RNNCell):
        raise TypeError(f"{what} must be an instance of RNNCell, saw: {cell!r}")


def _batch_major(x: Tensor) -> Tensor:
    """Swaps the first two axes (batch and time)."""
    rank = x.shape.ndims
    if rank is None or rank < 3:
        raise ValueError(
            f"Shape {x.shape} must have rank at least 3: dynamic_rnn inputs are "
            f"[batch, time, depth] (or [time, batch, depth]), got {x!r}"
        )
    return transpose(x, [1, 0, *range(2, rank)])


def _sequence_length(sequence_length: Any) -> Tensor | None:
    if sequence_length is None:
        return None
    seq = math_ops.cast(convert_to_tensor(sequence_length), dtypes_lib.int32)
    if seq.shape.ndims not in (None, 1):
        raise ValueError(
            "sequence_length must be a vector of length batch_size, but saw shape: "
            f"{seq.shape}"
        )
    return seq


def _checked_lengths(inputs: Any, sequence_length: Any, time_major: bool) -> Any:
    """``inputs`` with their first leaf passed through the lengths check."""
    leaves, tree = jax.tree_util.tree_flatten(inputs)
    seq = _sequence_length(sequence_length)
    first = combine.check_sequence_lengths(
        convert_to_tensor(leaves[0]), seq, int(not time_major), int(time_major)
    )
    return jax.tree_util.tree_unflatten(tree, [first, *leaves[1:]])


def _batch_size(flat: Sequence[Tensor], axis: int) -> Any:
    for x in flat:
        d = x.shape[axis].value
        if d is not None:
            return d
    return shape_op(flat[0])[axis]


def _initial_state(cell: RNNCell, initial_state: Any, dtype: Any, batch: Any) -> Any:
    if initial_state is not None:
        return map_structure(convert_to_tensor, initial_state)
    if dtype is None:
        raise ValueError(
            "If no initial_state is provided, argument `dtype` must be specified"
        )
    return cell.zero_state(batch, dtype)


def _masked(time: Tensor, seq: Tensor | None, new: Any, old: Any) -> Any:
    """``old`` where ``time >= seq`` for each batch row, else ``new``."""
    if seq is None:
        return new
    done = math_ops.greater_equal(time, seq)
    return map_structure(lambda n, o: math_ops.where(done, o, n), new, old)


def _zero_output(cell: RNNCell, batch: Any, dtype: Any) -> Any:
    return map_structure(lambda s: batch_zeros(s, batch, dtype), cell.output_size)


def _run(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any,
    initial_state: Any,
    dtype: Any,
    time_major: bool,
    reverse: bool,
) -> tuple[Any, Any]:
    """The body of ``dynamic_rnn`` under its variable scope."""
    _check_cell(cell)
    in_leaves, in_tree = jax.tree_util.tree_flatten(inputs)
    flat = [convert_to_tensor(x) for x in in_leaves]
    if not time_major:
        flat = [_batch_major(x) for x in flat]
    else:
        for x in flat:
            if x.shape.ndims is None or x.shape.ndims < 3:
                _batch_major(x)
    for x, given in zip(flat, in_leaves):
        if x.shape[-1].value is None:
            raise ValueError(
                "Input size (depth of inputs) must be accessible via shape "
                f"inference, but saw value None for input={given!r}."
            )
    seq = _sequence_length(sequence_length)
    batch = _batch_size(flat, 1)
    state = _initial_state(cell, initial_state, dtype, batch)
    check_state(cell, state)
    s_leaves, s_tree = jax.tree_util.tree_flatten(state)
    out_dtype = s_leaves[0].dtype if s_leaves else flat[0].dtype
    zero_out = _zero_output(cell, batch, out_dtype) if seq is not None else None
    out_tree = []

    def step(carry: list[Tensor], xs: list[Tensor]) -> Any:
        *x, time = xs
        old = jax.tree_util.tree_unflatten(s_tree, carry)
        out, new = cell(jax.tree_util.tree_unflatten(in_tree, x), old)
        out_leaves, tree = jax.tree_util.tree_flatten(out)
        out_tree.append(tree)
        new_leaves = jax.tree_util.tree_leaves(new)
        if len(new_leaves) != len(carry):
            raise ValueError(
                f"The cell returned a state {new!r} that does not fit its input "
                f"state {old!r}"
            )
        if seq is not None:
            out_leaves = _masked(time, seq, out_leaves, state_leaves(zero_out))
            new_leaves = _masked(time, seq, new_leaves, carry)
        return new_leaves, out_leaves

    final, ys = scan_loop(
        step, s_leaves, flat, reverse=reverse, with_index=True, name="rnn"
    )
    if not time_major:
        ys = [_batch_major(y) for y in ys]
    outputs = jax.tree_util.tree_unflatten(out_tree[0], ys)
    return outputs, jax.tree_util.tree_unflatten(s_tree, final)


def dynamic_rnn(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: Any = None,
) -> tuple[Any, Any]:
    """Runs ``cell`` over the time axis of ``inputs`` (``tf.nn.dynamic_rnn``).

    Compiles to one XLA loop. With ``sequence_length``, outputs past each
    sequence's length are zero and its state is the one at its length.

    Args:
        cell: An ``RNNCell``.
        inputs: ``[batch, time, depth]`` (``[time, batch, depth]`` if
            ``time_major``), or a nested structure of such tensors.
        sequence_length: Optional int vector ``[batch]``.
        initial_state: A state matching ``cell.state_size``; zeros if None.
        dtype: The state's dtype when ``initial_state`` is None.
        parallel_iterations: Ignored.
        swap_memory: Ignored.
        time_major: Whether ``inputs`` and the outputs are time-major.
        scope: Variable scope (default "rnn").

    Returns:
        ``(outputs, final_state)``: outputs ``[batch, time, output_size]``
        (time-major if ``time_major``).

    Raises:
        TypeError: ``cell`` is not an RNNCell.
        ValueError: inputs of rank < 3 or of unknown depth, no ``dtype`` and
            no ``initial_state``, a ``sequence_length`` that is not a vector,
            or a state that does not fit ``cell.state_size``.
    """
    with vs.variable_scope(scope or "rnn"):
        return _run(
            cell, inputs, sequence_length, initial_state, dtype, time_major, False
        )


def bidirectional_dynamic_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: Any = None,
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """A forward and a backward ``dynamic_rnn`` over ``inputs``.

    The backward cell reads each sequence from its last valid step to its
    first; its outputs are given in input order (as TF1's after its reverse).

    Args:
        cell_fw: The forward cell (variables under ``bidirectional_rnn/fw``).
        cell_bw: The backward cell (under ``bidirectional_rnn/bw``).
        inputs: As ``dynamic_rnn``.
        sequence_length: Optional int vector ``[batch]``.
        initial_state_fw: The forward initial state.
        initial_state_bw: The backward initial state.
        dtype: The states' dtype when an initial state is None.
        parallel_iterations: Ignored.
        swap_memory: Ignored.
        time_major: Whether ``inputs`` and the outputs are time-major.
        scope: Variable scope (default "bidirectional_rnn").

    Returns:
        ``((output_fw, output_bw), (state_fw, state_bw))``.

    Raises:
        TypeError, ValueError: as ``dynamic_rnn``.
    """
    _check_cell(cell_fw, "cell_fw")
    _check_cell(cell_bw, "cell_bw")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw"):
            out_fw, state_fw = _run(
                cell_fw,
                inputs,
                sequence_length,
                initial_state_fw,
                dtype,
                time_major,
                False,
            )
        with vs.variable_scope("bw"):
            if sequence_length is not None:
                # TF1 reverses with ReverseSequence, which fails the run on a
                # length beyond the steps; the masked reverse scan would not.
                inputs = _checked_lengths(inputs, sequence_length, time_major)
            out_bw, state_bw = _run(
                cell_bw,
                inputs,
                sequence_length,
                initial_state_bw,
                dtype,
                time_major,
                True,
            )
    return (out_fw, out_bw), (state_fw, state_bw)


def _static_inputs(inputs: Any) -> list[Tensor]:
    if not isinstance(inputs, list | tuple):
        raise TypeError(f"inputs must be a sequence, got {inputs!r}")
    if not inputs:
        raise ValueError("inputs must not be empty")
    out = [convert_to_tensor(x) for x in inputs]
    for x in out:
        if x.shape.ndims != 2:
            raise ValueError(
                f"static_rnn inputs must be [batch, depth] tensors, got {x!r}"
            )
    return out


def _unrolled(
    cell: RNNCell,
    inputs: list[Tensor],
    initial_state: Any,
    dtype: Any,
    seq: Tensor | None,
    reverse: bool,
) -> tuple[list[Tensor], Any]:
    _check_cell(cell)
    batch = _batch_size(inputs, 0)
    state = _initial_state(cell, initial_state, dtype, batch)
    check_state(cell, state)
    zero_out = None
    if seq is not None:
        zero_out = _zero_output(cell, batch, state_leaves(state)[0].dtype)
    outputs: list[Any] = [None] * len(inputs)
    order = range(len(inputs) - 1, -1, -1) if reverse else range(len(inputs))
    for t in order:
        out, new = cell(inputs[t], state)
        if seq is not None:
            time = creation.constant(t, dtypes_lib.int32)
            out = _masked(time, seq, out, zero_out)
            # By leaves: a given state may be a plain tuple, the cell's a namedtuple.
            leaves, tree = jax.tree_util.tree_flatten(new)
            new = tree.unflatten(_masked(time, seq, leaves, state_leaves(state)))
        outputs[t], state = out, new
    return outputs, state


def static_rnn(
    cell: RNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: Any = None,
) -> tuple[list[Tensor], Any]:
    """Runs ``cell`` over a Python list of inputs, unrolled (``tf.nn.static_rnn``).

    Args:
        cell: An ``RNNCell``; its variables are created once and reused.
        inputs: A list of ``[batch, depth]`` tensors, one per time step.
        initial_state: A state matching ``cell.state_size``; zeros if None.
        dtype: The state's dtype when ``initial_state`` is None.
        sequence_length: Optional int vector ``[batch]``.
        scope: Variable scope (default "rnn").

    Returns:
        ``(outputs, final_state)``, outputs a list like ``inputs``.

    Raises:
        TypeError: ``inputs`` is not a list, ``cell`` not an RNNCell.
        ValueError: empty inputs, inputs not of rank 2, or as ``dynamic_rnn``.
    """
    flat = _static_inputs(inputs)
    with vs.variable_scope(scope or "rnn"):
        seq = _sequence_length(sequence_length)
        return _unrolled(cell, flat, initial_state, dtype, seq, False)


def static_bidirectional_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Sequence[Any],
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: Any = None,
) -> tuple[list[Tensor], Any, Any]:
    """A forward and a backward ``static_rnn``; outputs concatenated per step.

    Args:
        cell_fw: The forward cell (variables under ``bidirectional_rnn/fw``).
        cell_bw: The backward cell (under ``bidirectional_rnn/bw``).
        inputs: A list of ``[batch, depth]`` tensors.
        initial_state_fw: The forward initial state.
        initial_state_bw: The backward initial state.
        dtype: The states' dtype when an initial state is None.
        sequence_length: Optional int vector ``[batch]``.
        scope: Variable scope (default "bidirectional_rnn").

    Returns:
        ``(outputs, state_fw, state_bw)``; each output is ``[batch, fw + bw]``.

    Raises:
        TypeError, ValueError: as ``static_rnn``.
    """
    flat = _static_inputs(inputs)
    _check_cell(cell_fw, "cell_fw")
    _check_cell(cell_bw, "cell_bw")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        seq = _sequence_length(sequence_length)
        with vs.variable_scope("fw"):
            out_fw, state_fw = _unrolled(
                cell_fw, flat, initial_state_fw, dtype, seq, False
            )
        with vs.variable_scope("bw"):
            out_bw, state_bw = _unrolled(
                cell_bw, flat, initial_state_bw, dtype, seq, True
            )
    outputs = [combine.concat([f, b], 1) for f, b in zip(out_fw, out_bw)]
    return outputs, state_fw, state_bw


def _check_stack(
    cells_fw: Any, cells_bw: Any, initial_states_fw: Any, initial_states_bw: Any
) -> None:
    """TF1's argument checks of the stacked bidirectional drivers."""
    for cells, what in ((cells_fw, "fw"), (cells_bw, "bw")):
        if not cells:
            raise ValueError(
                f"Must specify at least one {what} cell for BidirectionalRNN."
            )
        if not isinstance(cells, list):
            raise ValueError(
                f"cells_{what} must be a list of RNNCells (one per layer)."
            )
    if len(cells_fw) != len(cells_bw):
        raise ValueError("Forward and Backward cells must have the same depth.")
    for states, what in ((initial_states_fw, "fw"), (initial_states_bw, "bw")):
        if states is not None and (
            not isinstance(states, list) or len(states) != len(cells_fw)
        ):
            raise ValueError(
                f"initial_states_{what} must be a list of state tensors (one per layer)."
            )


def _stacked(
    layer: Callable[..., tuple[Any, Any, Any]],
    cells_fw: list[RNNCell],
    cells_bw: list[RNNCell],
    inputs: Any,
    initial_states_fw: list[Any] | None,
    initial_states_bw: list[Any] | None,
    scope: Any,
) -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
    """Runs ``layer`` per pair of cells, each on the outputs of the one below."""
    _check_stack(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    states_fw, states_bw, x = [], [], inputs
    with vs.variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with vs.variable_scope(f"cell_{i}") as at:
                x, state_fw, state_bw = layer(
                    cell_fw,
                    cell_bw,
                    x,
                    initial_states_fw[i] if initial_states_fw else None,
                    initial_states_bw[i] if initial_states_bw else None,
                    at,
                )
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return x, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_rnn(
    cells_fw: list[RNNCell],
    cells_bw: list[RNNCell],
    inputs: Sequence[Any],
    initial_states_fw: list[Any] | None = None,
    initial_states_bw: list[Any] | None = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: Any = None,
) -> tuple[list[Tensor], tuple[Any, ...], tuple[Any, ...]]:
    """Layers of ``static_bidirectional_rnn``, each reading the one below.

    Variables: ``stack_bidirectional_rnn/cell_<i>/{fw,bw}/...`` (TF1's).

    Args:
        cells_fw: The forward cell of each layer.
        cells_bw: The backward cell of each layer.
        inputs: A list of ``[batch, depth]`` tensors.
        initial_states_fw: Optional list of each layer's forward state.
        initial_states_bw: Optional list of each layer's backward state.
        dtype: The states' dtype when an initial state is None.
        sequence_length: Optional int vector ``[batch]``.
        scope: Variable scope (default "stack_bidirectional_rnn").

    Returns:
        ``(outputs, states_fw, states_bw)``: the top layer's outputs and a
        tuple of each layer's final forward and backward states.

    Raises:
        ValueError: no cells, not lists, different depths, or initial states
            that are not one per layer.
    """

    def layer(
        cell_fw: RNNCell, cell_bw: RNNCell, x: Any, fw: Any, bw: Any, at: Any
    ) -> Any:
        return static_bidirectional_rnn(
            cell_fw,
            cell_bw,
            x,
            initial_state_fw=fw,
            initial_state_bw=bw,
            sequence_length=sequence_length,
            dtype=dtype,
            scope=at,
        )

    return _stacked(
        layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope
    )


def stack_bidirectional_dynamic_rnn(
    cells_fw: list[RNNCell],
    cells_bw: list[RNNCell],
    inputs: Any,
    initial_states_fw: list[Any] | None = None,
    initial_states_bw: list[Any] | None = None,
    dtype: Any = None,
    sequence_length: Any = None,
    parallel_iterations: int | None = None,
    time_major: bool = False,
    scope: Any = None,
    swap_memory: bool = False,
) -> tuple[Tensor, tuple[Any, ...], tuple[Any, ...]]:
    """Layers of ``bidirectional_dynamic_rnn``, each reading the one below.

    Each layer's forward and backward outputs are concatenated on the last
    axis for the next. Variables:
    ``stack_bidirectional_rnn/cell_<i>/bidirectional_rnn/{fw,bw}/...`` (TF1's).

    Args:
        cells_fw: The forward cell of each layer.
        cells_bw: The backward cell of each layer.
        inputs: ``[batch, time, depth]`` (``[time, batch, depth]`` if time-major).
        initial_states_fw: Optional list of each layer's forward state.
        initial_states_bw: Optional list of each layer's backward state.
        dtype: The states' dtype when an initial state is None.
        sequence_length: Optional int vector ``[batch]``.
        parallel_iterations: Ignored.
        time_major: Whether ``inputs`` and the outputs are time-major.
        scope: Variable scope (default "stack_bidirectional_rnn").
        swap_memory: Ignored.

    Returns:
        ``(outputs, states_fw, states_bw)``: the top layer's concatenated
        outputs and a tuple of each layer's final states.

    Raises:
        ValueError: as ``stack_bidirectional_rnn``, or as ``dynamic_rnn``.
    """

    def layer(
        cell_fw: RNNCell, cell_bw: RNNCell, x: Any, fw: Any, bw: Any, at: Any
    ) -> Any:
        outputs, (state_fw, state_bw) = bidirectional_dynamic_rnn(
            cell_fw,
            cell_bw,
            x,
            initial_state_fw=fw,
            initial_state_bw=bw,
            sequence_length=sequence_length,
            dtype=dtype,
            time_major=time_major,
        )
        return combine.concat(list(outputs), 2), state_fw, state_bw

    return _stacked(
        layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope
    )
