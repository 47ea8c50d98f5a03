"""``tf.contrib.legacy_seq2seq``'s decoder and losses, ``tf.contrib.seq2seq``'s loss.

The parts char-level language models use: a decoder over a list of
per-step inputs that calls a cell once a step (sharing its variables), and
cross-entropy summed or averaged over steps with per-step weights (over
lists of steps for ``legacy_seq2seq``, over ``[batch, time]`` tensors for
``seq2seq``). The attention and embedding decoders of ``legacy_seq2seq``
and ``seq2seq``'s decoders and attention are not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.variables import get_variable_scope, variable_scope
from jaxsession.ops import math as math_ops, nn as nn_ops
from jaxsession.ops.array.shape import reshape, shape
from jaxsession.ops.reduction import count_nonzero, reduce_sum

LossFunction = Callable[..., Tensor]


def rnn_decoder(
    decoder_inputs: Sequence[Any],
    initial_state: Any,
    cell: Any,
    loop_function: Callable[[Tensor, int], Tensor] | None = None,
    scope: Any = None,
) -> tuple[list[Tensor], Any]:
    """Runs ``cell`` over ``decoder_inputs``, one call a step, sharing its variables.

    Args:
        decoder_inputs: A list of ``[batch, input_size]`` tensors, one a step.
        initial_state: The cell's state before the first step.
        cell: An RNN cell (``tf.nn.rnn_cell``).
        loop_function: ``loop_function(prev_output, i)`` gives step ``i``'s
            input from the previous step's output (decoding by feeding back);
            then only the first of ``decoder_inputs`` is used.
        scope: Variable scope (default ``rnn_decoder``).

    Returns:
        ``(outputs, state)``: the cell's output at each step, its last state.
    """
    with variable_scope(scope or "rnn_decoder"):
        state, outputs, prev = initial_state, [], None
        for i, inp in enumerate(decoder_inputs):
            if loop_function is not None and prev is not None:
                with variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            if i > 0:
                get_variable_scope().reuse_variables()
            output, state = cell(inp, state)
            outputs.append(output)
            if loop_function is not None:
                prev = output
    return outputs, state


def sequence_loss_by_example(
    logits: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    average_across_timesteps: bool = True,
    softmax_loss_function: LossFunction | None = None,
    name: str | None = None,
) -> Tensor:
    """Weighted cross-entropy of each example, summed over the steps.

    Args:
        logits: A list of ``[batch, classes]`` logits, one a step.
        targets: A list of ``[batch]`` int class ids, one a step.
        weights: A list of ``[batch]`` float weights, one a step.
        average_across_timesteps: Divide by the total weight of each example.
        softmax_loss_function: ``fn(labels=, logits=)`` in place of sparse
            softmax cross-entropy.
        name: Name scope (default ``sequence_loss_by_example``).

    Returns:
        A ``[batch]`` tensor: each example's loss.

    Raises:
        ValueError: the three lists differ in length.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(
            "Lengths of logits, weights, and targets must be the same "
            f"{len(logits)}, {len(weights)}, {len(targets)}."
        )
    with name_scope(name, "sequence_loss_by_example", [*logits, *targets, *weights]):
        terms = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                crossent = nn_ops.sparse_softmax_cross_entropy_with_logits(
                    labels=reshape(target, [-1]), logits=logit
                )
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            terms.append(crossent * weight)
        total = math_ops.add_n(terms)
        if average_across_timesteps:
            # The epsilon keeps examples whose weights are all 0 finite.
            total = total / (math_ops.add_n(list(weights)) + 1e-12)
    return total


def sequence_loss(
    logits: Sequence[Any],
    targets: Sequence[Any],
    weights: Sequence[Any],
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    softmax_loss_function: LossFunction | None = None,
    name: str | None = None,
) -> Tensor:
    """``sequence_loss_by_example`` summed over the batch (and averaged, by default).

    Args:
        logits: As for ``sequence_loss_by_example``.
        targets: As for ``sequence_loss_by_example``.
        weights: As for ``sequence_loss_by_example``.
        average_across_timesteps: As for ``sequence_loss_by_example``.
        average_across_batch: Divide by the batch size.
        softmax_loss_function: As for ``sequence_loss_by_example``.
        name: Name scope (default ``sequence_loss``).

    Returns:
        A scalar loss.
    """
    with name_scope(name, "sequence_loss", [*logits, *targets, *weights]):
        cost = reduce_sum(
            sequence_loss_by_example(
                logits,
                targets,
                weights,
                average_across_timesteps=average_across_timesteps,
                softmax_loss_function=softmax_loss_function,
            )
        )
        if not average_across_batch:
            return cost
        batch = shape(convert_to_tensor(targets[0]))[0]
        return cost / math_ops.cast(batch, cost.dtype)


def _check_rank(x: Tensor, what: str, dims: str) -> None:
    if x.shape.ndims != dims.count(" x ") + 1:
        raise ValueError(f"{what} must be a [{dims}] tensor")


def dense_sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function: LossFunction | None = None,
    name: str | None = None,
) -> Tensor:
    """Weighted cross-entropy of ``[batch, time]`` steps (``tf.contrib.seq2seq.sequence_loss``).

    Averages divide by the summed weights, sums by the count of nonzero
    weights; either gives 0 where that is 0 (TF1.15's ``div_no_nan``).

    Args:
        logits: ``[batch, time, classes]`` floats.
        targets: ``[batch, time]`` int class ids.
        weights: ``[batch, time]`` floats.
        average_across_timesteps: Average over time (weighted).
        average_across_batch: Average over the batch (weighted).
        sum_over_timesteps: Sum over time, divided by the nonzero weights.
        sum_over_batch: Sum over the batch, divided by the nonzero weights.
        softmax_loss_function: ``fn(labels=, logits=)`` in place of sparse
            softmax cross-entropy (flattened to ``[batch * time]`` rows).
        name: Name scope (default ``sequence_loss``).

    Returns:
        A scalar, ``[batch]`` or ``[time]`` or ``[batch, time]`` tensor,
        depending on which axes are reduced.

    Raises:
        ValueError: a rank is wrong, or an axis is both averaged and summed.
    """
    logits, targets, weights = (
        convert_to_tensor(x) for x in (logits, targets, weights)
    )
    _check_rank(logits, "Logits", "batch_size x sequence_length x num_decoder_symbols")
    _check_rank(targets, "Targets", "batch_size x sequence_length")
    _check_rank(weights, "Weights", "batch_size x sequence_length")
    for axis, averaged, summed in (
        ("timesteps", average_across_timesteps, sum_over_timesteps),
        ("batch", average_across_batch, sum_over_batch),
    ):
        if averaged and summed:
            raise ValueError(
                f"average_across_{axis} and sum_over_{axis} cannot be set to True "
                "at same time."
            )
    with name_scope(name, "sequence_loss", [logits, targets, weights]):
        flat = reshape(logits, [-1, shape(logits)[2]])
        labels = reshape(targets, [-1])
        if softmax_loss_function is None:
            crossent = nn_ops.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=flat
            )
        else:
            crossent = softmax_loss_function(labels=labels, logits=flat)
        crossent = crossent * reshape(weights, [-1])

        def averaged(axis: Any) -> Tensor:
            return math_ops.div_no_nan(
                reduce_sum(crossent, axis=axis), reduce_sum(weights, axis=axis)
            )

        def summed(axis: Any) -> Tensor:
            count = count_nonzero(weights, axis=axis)
            return math_ops.div_no_nan(
                reduce_sum(crossent, axis=axis), math_ops.cast(count, crossent.dtype)
            )

        if average_across_timesteps and average_across_batch:
            return averaged(None)
        if sum_over_timesteps and sum_over_batch:
            return summed(None)
        crossent = reshape(crossent, shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            return averaged([0] if average_across_batch else [1])
        if sum_over_timesteps or sum_over_batch:
            return summed([0] if sum_over_batch else [1])
        return crossent
