"""``tf.debugging``: assertions, numeric checks and value tests."""

from jaxsession.ops.check_ops import *  # noqa: F403
from jaxsession.ops.debug import (
    Assert as Assert,
    check_numerics as check_numerics,
    verify_tensor_all_finite as assert_all_finite,  # noqa: F401  (TF1's name)
)
from jaxsession.ops.math import (
    is_finite as is_finite,
    is_inf as is_inf,
    is_nan as is_nan,
)
