"""``tf.initializers``: initializer classes and the variable-initializer ops."""

from jaxsession.graph.initializers import (
    constant_initializer as constant,
    glorot_normal_initializer as glorot_normal,
    glorot_uniform_initializer as glorot_uniform,
    he_normal as he_normal,
    he_uniform as he_uniform,
    ones_initializer as ones,
    random_normal_initializer as random_normal,
    random_uniform_initializer as random_uniform,
    truncated_normal_initializer as truncated_normal,
    variance_scaling_initializer as variance_scaling,
    zeros_initializer as zeros,
)
from jaxsession.graph.variables import (
    global_variables_initializer as global_variables,
    local_variables_initializer as local_variables,
    variables_initializer as variables,
)
from jaxsession.library.initializers import (
    identity_initializer as identity,
    lecun_normal as lecun_normal,
    lecun_uniform as lecun_uniform,
    orthogonal_initializer as orthogonal,
)

__all__ = [
    "constant",
    "global_variables",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "local_variables",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variables",
    "variance_scaling",
    "zeros",
]
