"""jaxsession: TensorFlow-1 graphs and sessions, executed by XLA through JAX.

Use it as TF1: ``import jaxsession as tf``.
"""

from jaxsession import (
    app as app,
    contrib as contrib,
    data as data,
    debugging as debugging,
    errors as errors,
    flags as flags,
    gfile as gfile,
    image as image,
    initializers as initializers,
    io as io,
    layers as layers,
    linalg as linalg,
    logging as logging,
    losses as losses,
    math as math,
    metrics as metrics,
    mixed_precision as mixed_precision,
    nn as nn,
    python_io as python_io,
    random as random,
    sparse as sparse,
    summary as summary,
    tpu as tpu,
    train as train,
)
from jaxsession.engine import infeed as _infeed  # registers the iterator host ops
from jaxsession.graph.core import (
    Graph as Graph,
    GraphKeys as GraphKeys,
    Operation as Operation,
    Tensor as Tensor,
    add_to_collection as add_to_collection,
    add_to_collections as add_to_collections,
    colocate_with as colocate_with,
    control_dependencies as control_dependencies,
    device as device,
    get_collection as get_collection,
    get_collection_ref as get_collection_ref,
    get_default_graph as get_default_graph,
    get_default_session as get_default_session,
    name_scope as name_scope,
    reset_default_graph as reset_default_graph,
)
from jaxsession.graph.dtypes import *
from jaxsession.graph.dtypes import DType as DType, as_dtype as as_dtype, bool_ as bool
from jaxsession.graph.eager import *
from jaxsession.graph.gradients import *
from jaxsession.graph.initializers import (
    constant_initializer as constant_initializer,
    glorot_normal_initializer as glorot_normal_initializer,
    glorot_uniform_initializer as glorot_uniform_initializer,
    ones_initializer as ones_initializer,
    random_normal_initializer as random_normal_initializer,
    random_uniform_initializer as random_uniform_initializer,
    truncated_normal_initializer as truncated_normal_initializer,
    variance_scaling_initializer as variance_scaling_initializer,
    zeros_initializer as zeros_initializer,
)
from jaxsession.graph.make_op import (
    convert_to_tensor as convert_to_tensor,
    jax_op as jax_op,
)
from jaxsession.graph.placement import DeviceSpec as DeviceSpec
from jaxsession.graph.random import set_random_seed as set_random_seed
from jaxsession.graph.shapes import Dimension as Dimension, TensorShape as TensorShape
from jaxsession.graph.variables import (
    AUTO_REUSE as AUTO_REUSE,
    Variable as Variable,
    VariableScope as VariableScope,
    all_variables as all_variables,
    assert_variables_initialized as assert_variables_initialized,
    get_variable as get_variable,
    get_variable_scope as get_variable_scope,
    global_variables as global_variables,
    global_variables_initializer as global_variables_initializer,
    initialize_all_tables as initialize_all_tables,
    initialize_all_variables as initialize_all_variables,
    initialize_local_variables as initialize_local_variables,
    initialize_variables as initialize_variables,
    is_variable_initialized as is_variable_initialized,
    local_variables as local_variables,
    local_variables_initializer as local_variables_initializer,
    model_variables as model_variables,
    moving_average_variables as moving_average_variables,
    report_uninitialized_variables as report_uninitialized_variables,
    tables_initializer as tables_initializer,
    trainable_variables as trainable_variables,
    variable_scope as variable_scope,
    variables_initializer as variables_initializer,
)
from jaxsession.input.queues import (
    FIFOQueue as FIFOQueue,
    PaddingFIFOQueue as PaddingFIFOQueue,
    PriorityQueue as PriorityQueue,
    QueueBase as QueueBase,
    RandomShuffleQueue as RandomShuffleQueue,
)
from jaxsession.input.readers import (
    FixedLengthRecordReader as FixedLengthRecordReader,
    IdentityReader as IdentityReader,
    ReaderBase as ReaderBase,
    TextLineReader as TextLineReader,
    TFRecordReader as TFRecordReader,
    WholeFileReader as WholeFileReader,
)
from jaxsession.library.initializers import (
    orthogonal_initializer as orthogonal_initializer,
)
from jaxsession.ops.array.combine import *
from jaxsession.ops.array.creation import *
from jaxsession.ops.array.indexing import *
from jaxsession.ops.array.shape import *
from jaxsession.ops.check_ops import *
from jaxsession.ops.control_flow import *
from jaxsession.ops.debug import *
from jaxsession.ops.functional import *
from jaxsession.ops.image import random_crop as random_crop
from jaxsession.ops.linalg import *
from jaxsession.ops.math import *
from jaxsession.ops.parsing import (
    FixedLenFeature as FixedLenFeature,
    FixedLenSequenceFeature as FixedLenSequenceFeature,
    VarLenFeature as VarLenFeature,
    decode_base64 as decode_base64,
    decode_csv as decode_csv,
    decode_raw as decode_raw,
    encode_base64 as encode_base64,
    parse_example as parse_example,
    parse_single_example as parse_single_example,
    parse_single_sequence_example as parse_single_sequence_example,
    read_file as read_file,
)
from jaxsession.ops.random import *
from jaxsession.ops.reduction import *
from jaxsession.ops.scatter import *
from jaxsession.ops.script_ops import *
from jaxsession.ops.sparse import *
from jaxsession.ops.state import *
from jaxsession.ops.tensor_array import TensorArray as TensorArray
from jaxsession.session.config import (
    ConfigProto as ConfigProto,
    GPUOptions as GPUOptions,
    GraphOptions as GraphOptions,
    OptimizerOptions as OptimizerOptions,
    RunMetadata as RunMetadata,
    RunOptions as RunOptions,
)
from jaxsession.session.session import (
    InteractiveSession as InteractiveSession,
    Session as Session,
)
from jaxsession.session.summary_writer import (
    Event as Event,
    SessionLog as SessionLog,
    Summary as Summary,
)

__version__ = "0.1.0"

import sys as _sys

from jaxsession import compat as compat

# tf.compat.v1 is this namespace: ``jaxsession.compat.v1`` and
# ``import jaxsession.compat.v1 as tf`` both give this module.
compat.v1 = _sys.modules[__name__]
_sys.modules[__name__ + ".compat.v1"] = compat.v1
