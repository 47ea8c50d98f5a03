"""``tf.random``: the TF1 random ops under their ``tf.random`` names."""

from typing import Any

from jaxsession.graph import dtypes as _dtypes
from jaxsession.graph.core import Tensor as _Tensor
from jaxsession.graph.random import set_random_seed as set_random_seed
from jaxsession.library.sampling import (
    log_uniform_candidate_sampler as log_uniform_candidate_sampler,
    uniform_candidate_sampler as uniform_candidate_sampler,
)
from jaxsession.ops.random import (
    multinomial as multinomial,
    random_gamma as gamma,
    random_normal as normal,
    random_shuffle as shuffle,
    random_uniform as uniform,
    truncated_normal as truncated_normal,
)

__all__ = [
    "categorical",
    "gamma",
    "log_uniform_candidate_sampler",
    "multinomial",
    "normal",
    "set_random_seed",
    "shuffle",
    "truncated_normal",
    "uniform",
    "uniform_candidate_sampler",
]


def categorical(
    logits: Any,
    num_samples: Any,
    dtype: Any = None,
    seed: int | None = None,
    name: str | None = None,
) -> _Tensor:
    """Draws class indices from categorical distributions (``tf.random.categorical``).

    Args:
        logits: ``[batch, num_classes]`` unnormalized log-probabilities.
        num_samples: Number of draws per row.
        dtype: Integer type of the result (int64 by default).
        seed: Op seed.
        name: Op name.

    Returns:
        An int tensor ``[batch, num_samples]``.
    """
    return multinomial(
        logits, num_samples, seed=seed, name=name, output_dtype=dtype or _dtypes.int64
    )
