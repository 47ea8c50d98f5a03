"""Per-op-type rule tables and build-time constant values.

The tables are filled by the op-family modules when they are imported (as
JAX's ``dce_rules``/``pp_eqn_rules`` are); the engine, the printer and the
checker only read them. Nothing here imports the rest of the graph package,
so every graph module can use it.
"""

from __future__ import annotations

import bisect
import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from jaxsession.graph import dtypes as dtypes_lib

if TYPE_CHECKING:
    from jaxsession.graph.core import Operation, Tensor

# Tensor -> its value when known while building (TF1's constant_value).
_CONSTANTS: weakref.WeakKeyDictionary[Tensor, np.ndarray] = weakref.WeakKeyDictionary()

# Per-op-type rule tables, filled by the op-family modules at import.
PRINT_RULES: dict[str, Callable[[Operation], str]] = {}
# Ops evaluated on the host before the device call, from the session's state
# (variable status, iterators): op type -> fn(op, ctx, input_values) -> a
# tuple with one value per output. ``ctx`` is the session: it has
# ``is_initialized(variable)`` and a ``resources`` dict. Their inputs must be
# fed or constant; their outputs enter the device call like feeds.
HOST_OPS: dict[str, Callable[[Operation, Any, list[Any]], tuple[Any, ...]]] = {}
# The key a closed session leaves in its resources, so host ops that would
# make new state (a queue) in a run that raced the close refuse instead.
SESSION_CLOSED = ("session", "closed")


def add_resource(resources: dict[Any, Any], key: Any, value: Any) -> bool:
    """Stores a host op's new state ``value`` under ``key`` unless the session closed.

    The close is checked after the store, so a close racing this call either
    sees and stops the value or is seen here; nothing is left running.

    Returns:
        False when the session closed: ``value`` was stopped and not kept.
    """
    resources[key] = value
    if SESSION_CLOSED not in resources:
        return True
    resources.pop(key, None)
    stop = getattr(value, "stop", None)
    if stop is not None:
        stop()
    return False


# Ops evaluated on the host after the device call (summaries): op type ->
# fn(op, input_values) -> NumPy value. Their inputs are fetched from the
# device (or are earlier host ops' outputs); they never run on the device.
HOST_POST_OPS: dict[str, Callable[[Operation, list[Any]], Any]] = {}
# Post ops of one type that are cheaper evaluated together (a run's many
# histograms): op type -> fn(ops, input values of each) -> per op, its value
# or the error it raises. Used for the ops whose inputs all come from the
# device call.
HOST_POST_BATCHES: dict[
    str, Callable[[list[Operation], list[list[Any]]], list[Any]]
] = {}
# Ops that TF1 runs on any dtype and that run here as post ops when an input
# is a string, since strings never reach the device: op type -> as above.
HOST_STRING_OPS: dict[str, Callable[[Operation, list[Any]], Any]] = {}
# Gradients (TF1's ``ops.NotDifferentiable`` and gradient functions that return
# None). ``tf.gradients`` gives None for an x whose every path to the ys goes
# through one of these; the lowerings' JAX derivatives are zero along them.
# Op types with no gradient into any input.
NOT_DIFFERENTIABLE: set[str] = set()
# Op type -> fn(op) -> the indices of the inputs that get no gradient.
NO_GRADIENT_INPUTS: dict[str, Callable[[Operation], tuple[int, ...]]] = {}
# Op types whose value is never known while building even when their inputs
# are (a placeholder_with_default can be fed): never constant-folded.
NOT_FOLDABLE: set[str] = set()
# Run-time checks (``tf.Assert``, ``tf.check_numerics``): op type -> (index of
# the op's first report output, fn(op, report values) -> the error to raise).
# The first report value is a bool scalar, True when the check passed. The
# engine fetches the reports of the checks a run makes; when one failed, the
# run keeps every variable it read at its start value and raises the first
# failed check's error after the call.
CHECK_OPS: dict[str, tuple[int, Callable[[Operation, list[Any]], Exception]]] = {}
# Ops with a host effect (printing, Python callbacks): never folded or
# evaluated while building, so the effect happens when a run runs them.
EFFECT_OPS: set[str] = set()
# Each graph's EFFECT_OPS ops by creation id. An op made after its inputs
# and after one of them may hold it in a region (a tf.Print in a while_loop
# body): it is never folded either.
_EFFECT_IDS: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()


def note_effect_op(op: Operation) -> None:
    """Records ``op`` (an EFFECT_OPS op) for ``may_enclose_effect``."""
    _EFFECT_IDS.setdefault(op.graph, []).append(op.id)


def may_enclose_effect(op: Operation) -> bool:
    """Whether an effect op was made between ``op``'s inputs and ``op``."""
    ids = _EFFECT_IDS.get(op.graph)
    if not ids:
        return False
    after = max((t.op.id for t in op.inputs), default=-1)
    i = bisect.bisect_right(ids, after)
    return i < len(ids) and ids[i] < op.id


# Op type -> fn(op) -> ((y, i), ...): ``y``'s value is also the op's output
# ``i`` (a gradient op computes its ys on the way). A run that needs both
# takes ``y`` from there, so a forward loop XLA cannot merge runs once.
PRIMAL_OUTPUTS: dict[str, Callable[[Operation], tuple[tuple[Any, int], ...]]] = {}

# Summaries that TF1's input layer adds where only a higher layer can build
# them: ``tf.train.batch`` & co. log how full their queue is. Filled by
# ``library/summary_ops.py``: fn(size, capacity, min_after_dequeue, name),
# ``size`` the queue's int32 size tensor; a missing entry adds nothing.
QUEUE_FILL_SUMMARY: list[Callable[[Tensor, int, int, str], Any]] = []

# Called after every run that may have host effects (EFFECT_OPS in its
# graph), once the device is done: flush what the effects buffered.
AFTER_RUN: list[Callable[[], None]] = []
_REPLAYING = [0]


@contextlib.contextmanager
def replaying() -> Iterator[None]:
    """Marks lowerings traced inside it as a gradient's re-evaluated forward pass.

    Effect ops traced there (``tf.Print``) tell their effect apart from the
    run's own, so a run that makes both shows it once.
    """
    _REPLAYING[0] += 1
    try:
        yield
    finally:
        _REPLAYING[0] -= 1


def is_replaying() -> bool:
    """Whether a gradient's forward pass is being traced (``replaying``)."""
    return _REPLAYING[0] > 0


# -- static shape rules ----------------------------------------------------------

# Static shapes where ``jax.eval_shape`` cannot decide (an input of unknown
# rank), as TF1's per-op shape functions give them: op type ->
# fn(input_shapes, attrs) -> one shape per output (a tuple with None for
# unknown dims, or None for unknown rank), or None to keep the inferred ones.
# ``make_op`` refines what eval_shape inferred with them; the op-family
# modules fill the table at import.
ShapeRule = Callable[
    [list[tuple[int | None, ...] | None], dict[str, Any]],
    list[tuple[int | None, ...] | None] | None,
]
SHAPE_RULES: dict[str, ShapeRule] = {}


# Fed tensors whose values are compile-time constants of the run (a sparse
# placeholder's dense shape): the run signature holds the fed value, and
# ops see it as NumPy while traced, as if it were a constant.
_STATIC_FEEDS: weakref.WeakSet[Tensor] = weakref.WeakSet()


def mark_static_feed(tensor: Tensor) -> None:
    """Makes ``tensor``'s fed value part of the run signature (see above)."""
    _STATIC_FEEDS.add(tensor)


def has_static_feeds() -> bool:
    """Whether any graph has a static feed (else run keys skip the lookup)."""
    return bool(_STATIC_FEEDS)


def is_static_feed(tensor: Any) -> bool:
    """Whether ``tensor``'s fed value is a compile-time constant of the run."""
    try:
        return tensor in _STATIC_FEEDS
    except TypeError:
        return False


def host_post_function(op: Operation) -> Callable[[Operation, list[Any]], Any] | None:
    """The host function of ``op`` if it runs after the device call, else None."""
    fn = HOST_POST_OPS.get(op.type)
    if fn is None and op.type in HOST_STRING_OPS:
        if any(t.dtype is dtypes_lib.string for t in op.inputs):
            return HOST_STRING_OPS[op.type]
    return fn


def constant_value(tensor: Any) -> np.ndarray | None:
    """The value of ``tensor`` if it is known while building, else None."""
    try:
        return _CONSTANTS.get(tensor)
    except TypeError:  # not weak-referenceable: no Tensor
        return None


def set_constant(tensor: Tensor, value: np.ndarray) -> None:
    """Records the build-time value of ``tensor`` (for Const-like ops)."""
    _CONSTANTS[tensor] = value
