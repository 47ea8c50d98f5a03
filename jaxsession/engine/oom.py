"""The device ran out of memory in a run: TF1's ``ResourceExhaustedError``, naming tensors.

XLA reports only the bytes it failed to allocate; TF1's OOM names the
tensor. A compiled step has no tensor-by-tensor allocation, so the error
lists the largest tensors of the step instead (fed values at their fed
shapes, the others at their static shapes): where memory went.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxsession import errors
from jaxsession.engine.plan import Plan
from jaxsession.graph.core import Tensor


def is_out_of_memory(error: BaseException) -> bool:
    """Whether a runtime error is the device running out of memory."""
    return errors.code_of(error) == errors.RESOURCE_EXHAUSTED


def out_of_memory_error(
    error: BaseException, plan: Plan | None, feeds: Mapping[Tensor, Any]
) -> errors.ResourceExhaustedError:
    """The ResourceExhaustedError of a run whose device call ran out of memory.

    Args:
        error: The runtime's error (``RESOURCE_EXHAUSTED: Out of memory ...``).
        plan: The run's plan (its ops' outputs are sized), or None.
        feeds: The fed values.

    Returns:
        The error to raise (``from error``), listing the largest tensors.
    """
    sizes: dict[Tensor, tuple[tuple[int, ...], int]] = {}
    for tensor, value in feeds.items():
        shape = tuple(np.shape(value))
        sizes[tensor] = (shape, _bytes(shape, tensor))
    for op in plan.ops if plan is not None else ():
        for tensor in op.outputs:
            shape = tensor.shape.as_tuple()
            if tensor not in sizes and shape is not None and None not in shape:
                sizes[tensor] = (shape, _bytes(shape, tensor))
    largest = sorted(sizes.items(), key=lambda item: -item[1][1])
    listed = [
        f"{t.name} {errors.format_shape(shape)} {t.dtype.name} ({_human(size)})"
        for t, (shape, size) in largest
    ]
    first = str(error).strip().splitlines()[0].rstrip(".")
    return errors.ResourceExhaustedError(
        None,
        None,
        f"OOM when running the step: {first}. The largest tensors of the step: "
        f"{errors.format_list(listed) or 'none known'}",
    )


def _bytes(shape: tuple[int, ...], tensor: Tensor) -> int:
    return int(np.prod(shape, dtype=np.float64)) * tensor.dtype.size


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
