"""jaxsession: TensorFlow-1 graphs and sessions, executed by XLA through JAX.

Use it as TF1: ``import jaxsession as tf``.
"""

from jaxsession import errors as errors
from jaxsession import layers as layers
from jaxsession import losses as losses
from jaxsession import nn as nn
from jaxsession import train as train
from jaxsession.graph.core import (
    Graph as Graph,
)
from jaxsession.graph.core import (
    GraphKeys as GraphKeys,
)
from jaxsession.graph.core import (
    Operation as Operation,
)
from jaxsession.graph.core import (
    Tensor as Tensor,
)
from jaxsession.graph.core import (
    add_to_collection as add_to_collection,
)
from jaxsession.graph.core import (
    add_to_collections as add_to_collections,
)
from jaxsession.graph.core import (
    colocate_with as colocate_with,
)
from jaxsession.graph.core import (
    control_dependencies as control_dependencies,
)
from jaxsession.graph.core import (
    device as device,
)
from jaxsession.graph.core import (
    get_collection as get_collection,
)
from jaxsession.graph.core import (
    get_collection_ref as get_collection_ref,
)
from jaxsession.graph.core import (
    get_default_graph as get_default_graph,
)
from jaxsession.graph.core import (
    get_default_session as get_default_session,
)
from jaxsession.graph.core import (
    name_scope as name_scope,
)
from jaxsession.graph.core import (
    reset_default_graph as reset_default_graph,
)
from jaxsession.graph.dtypes import *
from jaxsession.graph.dtypes import DType as DType
from jaxsession.graph.dtypes import as_dtype as as_dtype
from jaxsession.graph.dtypes import bool_ as bool
from jaxsession.graph.gradients import *
from jaxsession.graph.ops import (
    convert_to_tensor as convert_to_tensor,
)
from jaxsession.graph.ops import (
    jax_op as jax_op,
)
from jaxsession.graph.ops.array_ops import *
from jaxsession.graph.ops.control_flow_ops import *
from jaxsession.graph.ops.math_ops import *
from jaxsession.graph.ops.random_ops import *
from jaxsession.graph.ops.state_ops import *
from jaxsession.graph.random import set_random_seed as set_random_seed
from jaxsession.graph.shapes import Dimension as Dimension
from jaxsession.graph.shapes import TensorShape as TensorShape
from jaxsession.graph.variables import (
    AUTO_REUSE as AUTO_REUSE,
)
from jaxsession.graph.variables import (
    Variable as Variable,
)
from jaxsession.graph.variables import (
    VariableScope as VariableScope,
)
from jaxsession.graph.variables import (
    all_variables as all_variables,
)
from jaxsession.graph.variables import (
    assert_variables_initialized as assert_variables_initialized,
)
from jaxsession.graph.variables import (
    constant_initializer as constant_initializer,
)
from jaxsession.graph.variables import (
    get_variable as get_variable,
)
from jaxsession.graph.variables import (
    get_variable_scope as get_variable_scope,
)
from jaxsession.graph.variables import (
    global_variables as global_variables,
)
from jaxsession.graph.variables import (
    global_variables_initializer as global_variables_initializer,
)
from jaxsession.graph.variables import (
    glorot_normal_initializer as glorot_normal_initializer,
)
from jaxsession.graph.variables import (
    glorot_uniform_initializer as glorot_uniform_initializer,
)
from jaxsession.graph.variables import (
    initialize_all_variables as initialize_all_variables,
)
from jaxsession.graph.variables import (
    is_variable_initialized as is_variable_initialized,
)
from jaxsession.graph.variables import (
    local_variables as local_variables,
)
from jaxsession.graph.variables import (
    local_variables_initializer as local_variables_initializer,
)
from jaxsession.graph.variables import (
    model_variables as model_variables,
)
from jaxsession.graph.variables import (
    moving_average_variables as moving_average_variables,
)
from jaxsession.graph.variables import (
    ones_initializer as ones_initializer,
)
from jaxsession.graph.variables import (
    random_normal_initializer as random_normal_initializer,
)
from jaxsession.graph.variables import (
    random_uniform_initializer as random_uniform_initializer,
)
from jaxsession.graph.variables import (
    report_uninitialized_variables as report_uninitialized_variables,
)
from jaxsession.graph.variables import (
    trainable_variables as trainable_variables,
)
from jaxsession.graph.variables import (
    truncated_normal_initializer as truncated_normal_initializer,
)
from jaxsession.graph.variables import (
    variable_scope as variable_scope,
)
from jaxsession.graph.variables import (
    variables_initializer as variables_initializer,
)
from jaxsession.graph.variables import (
    variance_scaling_initializer as variance_scaling_initializer,
)
from jaxsession.graph.variables import (
    zeros_initializer as zeros_initializer,
)
from jaxsession.session.session import (
    InteractiveSession as InteractiveSession,
)
from jaxsession.session.session import (
    Session as Session,
)

__version__ = "0.1.0"
