"""``tf.nn.ctc_loss`` with TF1's signature, computed by ``optax.ctc_loss``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import optax

from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor
from jaxsession.graph.rules import NO_GRADIENT_INPUTS
from jaxsession.ops.array._common import _ints, _value_op
from jaxsession.ops.sparse import SparseTensor

__all__ = ["ctc_loss"]


def _ctc(
    indices: Any,
    values: Any,
    shape: Any,
    logits: Any,
    lengths: Any,
    *,
    time_major: bool,
    ignore_longer: bool,
) -> Any:
    batch, width = _ints(shape, "labels.dense_shape")
    idx = (indices[:, 0], indices[:, 1])
    labels = jnp.zeros((batch, width), jnp.int32).at[idx].set(values, mode="drop")
    present = jnp.zeros((batch, width), logits.dtype).at[idx].set(1, mode="drop")
    if time_major:
        logits = jnp.swapaxes(logits, 0, 1)
    steps, classes = logits.shape[1], logits.shape[2]
    logit_paddings = (jnp.arange(steps)[None, :] >= lengths[:, None]).astype(
        logits.dtype
    )
    # TF1's blank is the last class.
    loss = optax.ctc_loss(
        logits, logit_paddings, labels, 1 - present, blank_id=classes - 1
    )
    if ignore_longer:
        too_long = jnp.sum(present, axis=1) > lengths
        loss = jnp.where(too_long, jnp.zeros((), loss.dtype), loss)
    return loss


def ctc_loss(
    labels: Any,
    inputs: Any = None,
    sequence_length: Any = None,
    preprocess_collapse_repeated: bool = False,
    ctc_merge_repeated: bool = True,
    ignore_longer_outputs_than_inputs: bool = False,
    time_major: bool = True,
    logits: Any = None,
) -> Tensor:
    """The CTC loss of each sequence (``tf.nn.ctc_loss``, TF1's signature).

    Args:
        labels: A 2-D int32 SparseTensor (or SparseTensorValue): row ``b``
            holds sequence ``b``'s labels in ``[0, num_classes - 1)``.
        inputs: Logits, ``[max_time, batch, num_classes]`` (``time_major``)
            or ``[batch, max_time, num_classes]``; the last class is blank.
        sequence_length: int32 ``[batch]`` lengths of the inputs.
        preprocess_collapse_repeated: Must be False (not supported).
        ctc_merge_repeated: Must be True (standard CTC; False unsupported).
        ignore_longer_outputs_than_inputs: Give 0 for sequences whose labels
            outnumber their inputs instead of an error value.
        time_major: The layout of ``inputs``.
        logits: Alias of ``inputs``.

    Returns:
        The negative log-likelihood of each sequence, ``[batch]``.

    Raises:
        ValueError: an unsupported option, or no inputs.
        TypeError: the labels' dense shape is computed on the device.
    """
    if preprocess_collapse_repeated or not ctc_merge_repeated:
        raise ValueError(
            "ctc_loss supports preprocess_collapse_repeated=False and "
            "ctc_merge_repeated=True (standard CTC) only"
        )
    inputs = logits if inputs is None else inputs
    if inputs is None or sequence_length is None:
        raise ValueError("ctc_loss needs inputs (logits) and sequence_length")
    sp = SparseTensor.from_value(labels)
    x = convert_to_tensor(inputs)
    lengths = convert_to_tensor(sequence_length, dtype=dtypes_lib.int32)
    values = convert_to_tensor(sp.values)
    dims = x.shape.as_tuple()
    batch = None if dims is None else dims[1 if time_major else 0]
    attrs = {
        "time_major": time_major,
        "ignore_longer": ignore_longer_outputs_than_inputs,
    }
    with name_scope(None, "CTCLoss"):
        op = _value_op(
            "CTCLoss",
            _ctc,
            [sp.indices, values, sp.dense_shape, x, lengths],
            [2],
            name="CTCLoss",
            attrs=attrs,
            fallback=lambda: [Aval((batch,), x.dtype)],
        )
    return op.outputs[0]


NO_GRADIENT_INPUTS["CTCLoss"] = lambda op: (0, 1, 2, 4)
