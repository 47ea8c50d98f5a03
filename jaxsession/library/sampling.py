"""Candidate samplers and the sampled losses built on them (``tf.nn.nce_loss``).

A sampler op draws ``num_sampled`` classes on the device from
``op_key(run_key, seed)``: new classes every run, reproducible from the graph
and op seeds. It also returns the expected counts that the sampled losses
subtract (as logs) from their logits, with TF1's formulas. With
``unique=True`` repeated draws are rejected a chunk at a time; the classes
kept and the number of draws counted are those of TF1's one-draw-at-a-time
loop over the same stream of draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxsession.graph import dtypes as dtypes_lib, random as random_lib
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import Tensor, name_scope
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.shapes import TensorShape
from jaxsession.ops import math as math_ops, nn as nn_ops, reduction as reduction_ops
from jaxsession.ops.array import shape as shape_ops

__all__ = [
    "log_uniform_candidate_sampler",
    "nce_loss",
    "sampled_softmax_loss",
    "uniform_candidate_sampler",
]


class CandidateSamplerOutput(NamedTuple):
    """What a candidate sampler returns (TF1's three outputs)."""

    sampled_candidates: Tensor
    true_expected_count: Tensor
    sampled_expected_count: Tensor


# -- distributions: draw(key, n, range_max) -> int32 ids, prob(ids, range_max) --


def _draw_uniform(key: Any, n: int, range_max: int) -> Any:
    return jax.random.randint(key, (n,), 0, range_max, jnp.int32)


def _prob_uniform(ids: Any, range_max: int) -> Any:
    return jnp.full(jnp.shape(ids), 1.0 / range_max, jnp.float32)


def _draw_log_uniform(key: Any, n: int, range_max: int) -> Any:
    # TF1's LogUniformSampler, floor(exp(u * log(range_max + 1))) - 1, computed
    # from the top as (range_max + 1) * exp(-w * log(range_max + 1)) with
    # w = 1 - u carrying 46 random bits: in float32 one uniform's 2**-23 grid
    # cannot tell the rare high classes apart, this resolves them to ~1e-7.
    hi, lo = jax.random.uniform(key, (2, n), jnp.float32)
    w = (1 - hi) - lo * 2.0**-23
    x = (range_max + 1) * jnp.exp(-w * math.log1p(range_max))
    return jnp.clip(jnp.floor(x).astype(jnp.int32) - 1, 0, range_max - 1)


def _prob_log_uniform(ids: Any, range_max: int) -> Any:
    # (log(k + 2) - log(k + 1)) / log(range_max + 1), without cancellation.
    k = jnp.asarray(ids).astype(jnp.float32)
    return jnp.log1p(1.0 / (k + 1.0)) / math.log1p(range_max)


_DISTRIBUTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "uniform": (_draw_uniform, _prob_uniform),
    "log_uniform": (_draw_log_uniform, _prob_log_uniform),
}


# -- unique sampling ---------------------------------------------------------------


def _chunk_size(num_sampled: int) -> int:
    return max(2 * num_sampled, 64)


def _first_occurrences(values: Any) -> Any:
    """Whether each entry is the first of its value in ``values``."""
    order = jnp.argsort(values, stable=True)
    ordered = values[order]
    first = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
    return jnp.zeros(values.shape, bool).at[order].set(first)


def _seen(accepted: Any, values: Any) -> Any:
    """Whether each of ``values`` is in ``accepted`` (padded with -1)."""
    ordered = jnp.sort(accepted)
    at = jnp.clip(jnp.searchsorted(ordered, values), 0, accepted.size - 1)
    return ordered[at] == values


def _unique_draws(
    key: Any, draw: Callable[..., Any], num_sampled: int, range_max: int
) -> tuple[Any, Any]:
    """``num_sampled`` distinct classes in order of first draw, and the draws used."""
    chunk = _chunk_size(num_sampled)

    def body(state: tuple[Any, ...]) -> tuple[Any, ...]:
        accepted, count, tries, key = state
        key, sub = jax.random.split(key)
        values = draw(sub, chunk, range_max)
        new = _first_occurrences(values) & ~_seen(accepted, values)
        slot = (count + jnp.cumsum(new) - 1).astype(jnp.int32)
        take = new & (slot < num_sampled)
        accepted = accepted.at[jnp.where(take, slot, num_sampled)].set(
            values, mode="drop"
        )
        total = (count + jnp.sum(new)).astype(jnp.int32)
        # The draw that completes the set ends TF1's loop; later ones are unused.
        last = jnp.argmax(take & (slot == num_sampled - 1)).astype(jnp.int32)
        used = jnp.where(total >= num_sampled, last + 1, chunk).astype(jnp.int32)
        return accepted, jnp.minimum(total, num_sampled), tries + used, key

    init = (jnp.full((num_sampled,), -1, jnp.int32), jnp.int32(0), jnp.int32(0), key)
    accepted, _, tries, _ = lax.while_loop(
        lambda state: state[1] < num_sampled, body, init
    )
    return accepted, tries


def _expected_count(p: Any, num_sampled: int, tries: Any) -> Any:
    # TF1's ExpectedCountHelper: p * num_sampled when no draw was rejected
    # (always so with unique=False), else P(class drawn at least once in tries).
    tries = jnp.asarray(tries, jnp.float32)
    return jnp.where(
        tries == num_sampled, p * num_sampled, -jnp.expm1(tries * jnp.log1p(-p))
    )


def _candidate_sampler(
    true_classes: Any,
    *,
    key: Any,
    seed: tuple[int, int],
    distribution: str,
    num_sampled: int,
    unique: bool,
    range_max: int,
) -> tuple[Any, Any, Any]:
    key = random_lib.op_key(key, seed)
    draw, prob = _DISTRIBUTIONS[distribution]
    if unique:
        sampled, tries = _unique_draws(key, draw, num_sampled, range_max)
    else:
        sampled, tries = draw(key, num_sampled, range_max), num_sampled
    true_count = _expected_count(prob(true_classes, range_max), num_sampled, tries)
    sampled_count = _expected_count(prob(sampled, range_max), num_sampled, tries)
    return sampled, true_count, sampled_count


def _check_true_classes(true_classes: Tensor, num_true: int, name: str) -> None:
    if not true_classes.dtype.is_integer:
        raise TypeError(
            f"{name}: true_classes must be int64 class ids, got {true_classes!r}"
        )
    shape = true_classes.shape
    if shape.ndims is not None and (
        shape.ndims != 2 or shape[1].value not in (None, num_true)
    ):
        raise ValueError(
            f"{name}: true_classes must have shape [batch_size, num_true={num_true}], "
            f"got {true_classes!r}"
        )


def _sampler_op(
    op_type: str,
    distribution: str,
    true_classes: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: int | None,
    name: str | None,
) -> CandidateSamplerOutput:
    name = name or op_type
    true_classes = convert_to_tensor(
        true_classes, dtype_hint=dtypes_lib.int64, name="true_classes"
    )
    _check_true_classes(true_classes, int(num_true), name)
    if int(num_sampled) < 1 or int(range_max) < 1:
        raise ValueError(
            f"{name}: num_sampled and range_max must be >= 1, got num_sampled="
            f"{num_sampled}, range_max={range_max}"
        )
    if unique and int(num_sampled) > int(range_max):
        raise ValueError(
            f"{name}: Sampler's range is too small: unique=True needs num_sampled "
            f"<= range_max, got num_sampled={num_sampled}, range_max={range_max}"
        )
    attrs = {
        "seed": random_lib.get_seed(seed),
        "distribution": distribution,
        "num_sampled": int(num_sampled),
        "unique": bool(unique),
        "range_max": int(range_max),
    }
    op = make_op(
        op_type,
        _candidate_sampler,
        [true_classes],
        name=name,
        attrs=attrs,
        random=True,
        out_dtypes=[dtypes_lib.int64, dtypes_lib.float32, dtypes_lib.float32],
    )
    return CandidateSamplerOutput(*op.outputs)


def log_uniform_candidate_sampler(
    true_classes: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: int | None = None,
    name: str | None = None,
) -> CandidateSamplerOutput:
    """Samples classes from a log-uniform (Zipfian) distribution over [0, range_max).

    ``P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1)``, which suits
    classes sorted by decreasing frequency. Expected counts are ``P * num_sampled``
    when no draw was rejected, else ``1 - (1 - P) ** num_tries`` with
    ``num_tries`` the draws it took to find ``num_sampled`` distinct classes.

    Differs from TF1: draws use float32 (TF1: double), so a class k's
    frequency is off by up to about ``1e-7 * k`` relative (1% at k = 1e5).

    Args:
        true_classes: ``[batch_size, num_true]`` int64 target classes.
        num_true: Number of target classes per example.
        num_sampled: Number of classes to sample.
        unique: Whether the sampled classes are distinct.
        range_max: Number of possible classes.
        seed: Op seed (combined with the graph seed, TF1's rules).
        name: Op name.

    Returns:
        ``(sampled_candidates [num_sampled] int64, true_expected_count
        [batch_size, num_true] float32, sampled_expected_count [num_sampled]
        float32)``; no gradient flows through them.

    Raises:
        TypeError: ``true_classes`` is not integer.
        ValueError: a bad shape or size, or ``unique`` with ``num_sampled >
            range_max``.
    """
    return _sampler_op(
        "LogUniformCandidateSampler",
        "log_uniform",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name,
    )


def uniform_candidate_sampler(
    true_classes: Any,
    num_true: int,
    num_sampled: int,
    unique: bool,
    range_max: int,
    seed: int | None = None,
    name: str | None = None,
) -> CandidateSamplerOutput:
    """Samples classes uniformly from [0, range_max).

    Arguments, results and errors as ``log_uniform_candidate_sampler``, with
    ``P(k) = 1 / range_max``.
    """
    return _sampler_op(
        "UniformCandidateSampler",
        "uniform",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name,
    )


# -- sampled losses ---------------------------------------------------------------


def _sampled_logits(
    true_w: Any,
    sampled_w: Any,
    true_b: Any,
    sampled_b: Any,
    inputs: Any,
    labels: Any,
    sampled: Any,
    true_count: Any,
    sampled_count: Any,
    *,
    remove_accidental_hits: bool,
) -> tuple[Any, Any]:
    batch, num_true = labels.shape
    dt = inputs.dtype
    true_w = true_w.astype(dt).reshape(batch, num_true, -1)
    true_logits = jnp.einsum("bd,btd->bt", inputs, true_w)
    true_logits = true_logits + true_b.astype(dt).reshape(batch, num_true)
    sampled_logits = inputs @ sampled_w.astype(dt).T + sampled_b.astype(dt)
    if remove_accidental_hits:
        hits = jnp.any(labels[:, :, None] == sampled[None, None, :], axis=1)
        # TF1 adds -FLT_MAX; the dtype's own lowest value keeps float16 finite.
        sampled_logits = sampled_logits + jnp.where(hits, jnp.finfo(dt).min, 0)
    true_logits = true_logits - jnp.log(true_count).astype(dt)
    sampled_logits = sampled_logits - jnp.log(sampled_count).astype(dt)
    logits = jnp.concatenate([true_logits, sampled_logits], axis=1)
    targets = jnp.concatenate(
        [jnp.full_like(true_logits, 1 / num_true), jnp.zeros_like(sampled_logits)],
        axis=1,
    )
    return logits, targets


def _shards(weights: Any) -> list[Any]:
    if isinstance(weights, list | tuple):
        if not weights:
            raise ValueError("weights must be a tensor or a non-empty list of shards")
        return list(weights)
    return [weights]


def _check_loss_args(labels: Tensor, inputs: Tensor, num_true: int) -> None:
    if not labels.dtype.is_integer:
        raise TypeError(f"labels must be integer class ids, got {labels!r}")
    lshape = labels.shape
    if lshape.ndims is not None and (
        lshape.ndims != 2 or lshape[1].value not in (None, num_true)
    ):
        raise ValueError(
            f"labels must have shape [batch_size, num_true={num_true}], got {labels!r}"
        )
    if inputs.shape.ndims not in (None, 2):
        raise ValueError(f"inputs must have shape [batch_size, dim], got {inputs!r}")
    if not inputs.dtype.is_floating:
        raise TypeError(f"inputs must be a float tensor, got {inputs!r}")


def _sampled_values(values: Any) -> list[Tensor]:
    values = list(values)
    if len(values) != 3:
        raise ValueError(
            "sampled_values must be (sampled_candidates, true_expected_count, "
            f"sampled_expected_count), got {len(values)} values"
        )
    sampled = convert_to_tensor(values[0], dtype_hint=dtypes_lib.int64)
    counts = [convert_to_tensor(v, dtype=dtypes_lib.float32) for v in values[1:]]
    # As TF1: no gradient flows into the sampled values, which may be the user's.
    sampled, *counts = (shape_ops.stop_gradient(v) for v in (sampled, *counts))
    return [math_ops.cast(sampled, dtypes_lib.int64), *counts]


def _compute_sampled_logits(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int,
    sampled_values: Any,
    remove_accidental_hits: bool,
    partition_strategy: str,
    seed: int | None = None,
) -> tuple[Tensor, Tensor]:
    """TF1's ``_compute_sampled_logits``: ``(logits, targets)`` of ``[batch, T + S]``."""
    weights = _shards(weights)
    labels = convert_to_tensor(labels, dtype_hint=dtypes_lib.int64, name="labels")
    inputs = convert_to_tensor(inputs, name="inputs")
    _check_loss_args(labels, inputs, int(num_true))
    labels = math_ops.cast(labels, dtypes_lib.int64)
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(
            labels, num_true, num_sampled, True, num_classes, seed=seed
        )
    sampled, true_count, sampled_count = _sampled_values(sampled_values)
    labels_flat = shape_ops.reshape(labels, [-1])
    lookups = [
        nn_ops.embedding_lookup(params, ids, partition_strategy=partition_strategy)
        for params in (weights, biases)
        for ids in (labels_flat, sampled)
    ]
    true_w, sampled_w, true_b, sampled_b = lookups
    shape = _logits_shape(labels, inputs, sampled, int(num_true))
    op = make_op(
        "SampledLogits",
        _sampled_logits,
        [
            true_w,
            sampled_w,
            true_b,
            sampled_b,
            inputs,
            labels,
            sampled,
            true_count,
            sampled_count,
        ],
        name="compute_sampled_logits",
        attrs={"remove_accidental_hits": bool(remove_accidental_hits)},
        out_avals=[Aval(shape, inputs.dtype)] * 2,
    )
    return op.outputs[0], op.outputs[1]


def _logits_shape(
    labels: Tensor, inputs: Tensor, sampled: Tensor, num_true: int
) -> tuple[int | None, int | None]:
    # Declared, not inferred: a known batch size against an unknown one is fine.
    batch = labels.shape[:1] if labels.shape.ndims else TensorShape([None])
    rows = inputs.shape[:1] if inputs.shape.ndims else TensorShape([None])
    if not batch.is_compatible_with(rows):
        raise ValueError(
            f"labels and inputs must have the same batch size, got {labels!r} and "
            f"{inputs!r}"
        )
    num_sampled = sampled.shape[0].value if sampled.shape.ndims == 1 else None
    cols = None if num_sampled is None else num_true + num_sampled
    return (batch.merge_with(rows)[0].value, cols)


def nce_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = False,
    partition_strategy: str = "mod",
    name: str = "nce_loss",
) -> Tensor:
    """Noise-contrastive estimation loss (``tf.nn.nce_loss``), one value per example.

    Logits of the true classes and of ``num_sampled`` sampled classes, each
    minus the log of its expected count, go through a sigmoid cross-entropy
    with targets ``1 / num_true`` (true) and 0 (sampled), summed per row.

    Args:
        weights: ``[num_classes, dim]`` tensor or variable, or a list of shards
            of it split along dim 0 as ``partition_strategy`` says.
        biases: ``[num_classes]`` tensor or variable (or a list of shards).
        labels: ``[batch_size, num_true]`` integer target classes.
        inputs: ``[batch_size, dim]`` float activations.
        num_sampled: Number of classes to sample per batch.
        num_classes: Number of possible classes.
        num_true: Number of target classes per example.
        sampled_values: A sampler's 3-tuple; by default
            ``log_uniform_candidate_sampler`` with ``unique=True``.
        remove_accidental_hits: Mask sampled classes equal to a true class.
        partition_strategy: "mod" or "div" for sharded ``weights``/``biases``.
        name: Name scope.

    Returns:
        A ``[batch_size]`` tensor of per-example losses.

    Raises:
        TypeError: non-integer labels or non-float inputs.
        ValueError: bad shapes, ``sampled_values`` or ``partition_strategy``.
    """
    with name_scope(name, "nce_loss"):
        logits, targets = _compute_sampled_logits(
            weights,
            biases,
            labels,
            inputs,
            num_sampled,
            num_classes,
            num_true,
            sampled_values,
            remove_accidental_hits,
            partition_strategy,
        )
        losses = nn_ops.sigmoid_cross_entropy_with_logits(
            labels=targets, logits=logits, name="sampled_losses"
        )
        return reduction_ops.reduce_sum(losses, axis=1)


def sampled_softmax_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = True,
    partition_strategy: str = "mod",
    name: str = "sampled_softmax_loss",
    seed: int | None = None,
) -> Tensor:
    """Softmax cross-entropy over the true and sampled classes (``tf.nn.sampled_softmax_loss``).

    Logits as in ``nce_loss``; the target puts ``1 / num_true`` on each true
    class. A training-time approximation of the full softmax loss.

    Args:
        weights: ``[num_classes, dim]`` tensor or variable, or a list of shards.
        biases: ``[num_classes]`` tensor or variable (or a list of shards).
        labels: ``[batch_size, num_true]`` integer target classes.
        inputs: ``[batch_size, dim]`` float activations.
        num_sampled: Number of classes to sample per batch.
        num_classes: Number of possible classes.
        num_true: Number of target classes per example.
        sampled_values: A sampler's 3-tuple; by default
            ``log_uniform_candidate_sampler`` with ``unique=True``.
        remove_accidental_hits: Mask sampled classes equal to a true class.
        partition_strategy: "mod" or "div" for sharded ``weights``/``biases``.
        name: Name scope.
        seed: Op seed of the default sampler.

    Returns:
        A ``[batch_size]`` tensor of per-example losses.

    Raises:
        TypeError: non-integer labels or non-float inputs.
        ValueError: bad shapes, ``sampled_values`` or ``partition_strategy``.
    """
    with name_scope(name, "sampled_softmax_loss"):
        logits, targets = _compute_sampled_logits(
            weights,
            biases,
            labels,
            inputs,
            num_sampled,
            num_classes,
            num_true,
            sampled_values,
            remove_accidental_hits,
            partition_strategy,
            seed=seed,
        )
        targets = shape_ops.stop_gradient(targets, name="labels_stop_gradient")
        return nn_ops.softmax_cross_entropy_with_logits_v2(
            labels=targets, logits=logits
        )
