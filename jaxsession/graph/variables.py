"""Variables, variable scopes, collections, initializer ops and the global step.

A Variable's value lives in the Session (on device between runs); the graph
holds ops that read it (``v:0``, the snapshot every plain use reads) and ops
that write it (its initializer ``v/Assign``, ``assign``, optimizers).

Differs from TF1: ``initialized_value()`` is the initial-value tensor, not a
``cond`` on whether the variable is initialized.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from jaxsession.graph import dtypes as dtypes_lib, shapes, variable_ops
from jaxsession.graph.avals import Aval
from jaxsession.graph.core import (
    GraphKeys,
    Operation,
    Tensor,
    _session_for,
    get_default_graph,
)
from jaxsession.graph.initializers import glorot_uniform_initializer, zeros_initializer
from jaxsession.graph.make_op import convert_to_tensor, make_op
from jaxsession.graph.rules import HOST_OPS

logger = logging.getLogger("jaxsession")


class Variable:
    """A mutable tensor whose value persists across runs (``tf.Variable``).

    Args:
        initial_value: A Tensor, array, number, or a callable returning one.
        trainable: Add to TRAINABLE_VARIABLES (the optimizers' default list).
        collections: Collections to add to (default GLOBAL_VARIABLES).
        validate_shape: Require the initial value's shape to be fully known.
        name: Op name of the variable.
        dtype: Convert the initial value to this dtype.
        expected_shape: Unused (TF1 compatibility).
        shape: Static shape, to declare a less specific shape than the value's.
        sharding: Optional ``jax.sharding.PartitionSpec`` over named mesh axes
            (see ``jaxsession.train.set_mesh_shape``): the variable lives split
            over them. Without a mesh (one device) it has no effect.
    """

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        collections: Sequence[str] | None = None,
        validate_shape: bool = True,
        caching_device: Any = None,
        name: str | None = None,
        variable_def: Any = None,
        dtype: Any = None,
        expected_shape: Any = None,
        import_scope: str | None = None,
        constraint: Callable[[Tensor], Tensor] | None = None,
        use_resource: bool | None = None,
        synchronization: Any = None,
        aggregation: Any = None,
        shape: Any = None,
        sharding: Any = None,
    ):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        graph = get_default_graph()
        self._graph = graph
        self._trainable = trainable
        self._constraint = constraint
        self.sharding = sharding
        with graph.name_scope(name or "Variable") as scope:
            op_name = scope[:-1]
            with graph.name_scope(op_name + "/"), graph.control_dependencies(None):
                if callable(initial_value):
                    initial_value = initial_value()
                self._initial_value = convert_to_tensor(
                    initial_value, dtype=dtype, name="initial_value"
                )
            value_shape = self._initial_value.shape
            if shape is not None:
                declared = shapes.as_shape(shape)
                if not declared.is_compatible_with(value_shape):
                    raise ValueError(
                        f"initial value of shape {value_shape} is not compatible with "
                        f"the declared shape {declared} of variable '{op_name}'"
                    )
                value_shape = declared
            if validate_shape and not value_shape.is_fully_defined():
                raise ValueError(
                    f"initial_value must have a shape specified: {self._initial_value!r} "
                    f"(variable '{op_name}')"
                )
            self._aval = Aval(value_shape.as_tuple(), self._initial_value.dtype)
            with graph.name_scope(None), graph.control_dependencies(None):
                self._snapshot = variable_ops.read_op(
                    self, scope, "VariableV2"
                ).outputs[0]
                # TF1 colocates the initializer with the variable (same device).
                with (
                    graph.name_scope(op_name + "/"),
                    graph.colocate_with(self._snapshot),
                ):
                    self._initializer_op = variable_ops.assign_op(
                        self, self._initial_value, "Assign", validate_shape
                    )
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        graph.add_to_collections(collections, self)

    # -- identity ---------------------------------------------------------------

    @property
    def name(self) -> str:
        """``"op_name:0"``, as TF1."""
        return self._snapshot.name

    @property
    def op(self) -> Operation:
        """The variable's op (its name is the variable's op name)."""
        return self._snapshot.op

    @property
    def graph(self) -> Any:
        """The graph the variable belongs to."""
        return self._graph

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The element type."""
        return self._aval.dtype

    @property
    def shape(self) -> shapes.TensorShape:
        """The static shape."""
        return shapes.TensorShape(self._aval.shape)

    def get_shape(self) -> shapes.TensorShape:
        """The static shape."""
        return self.shape

    @property
    def device(self) -> str:
        """The device recorded on the variable's op (XLA places the value)."""
        return self._snapshot.op.device

    @property
    def trainable(self) -> bool:
        """Whether the variable was created trainable."""
        return self._trainable

    @property
    def constraint(self) -> Callable[[Tensor], Tensor] | None:
        """The projection applied after optimizer updates, if any."""
        return self._constraint

    @property
    def initializer(self) -> Operation:
        """The op that assigns the initial value."""
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        """The tensor the initializer assigns."""
        return self._initial_value

    def initialized_value(self) -> Tensor:
        """The initial value (see the module docstring)."""
        return self._initial_value

    # -- reads and writes ---------------------------------------------------------

    def _as_graph_element(self) -> Tensor:
        return self._snapshot

    def _as_tensor(self) -> Tensor:
        graph = self._graph
        if graph._current_control_inputs():
            # A use under control dependencies must see writes it is ordered after.
            return variable_ops.read_op(self, f"{self.op.name}/read").outputs[0]
        return self._snapshot

    def value(self) -> Tensor:
        """A tensor with the variable's value."""
        return self._as_tensor()

    def read_value(self) -> Tensor:
        """A new read op (ordered by the current control dependencies)."""
        return variable_ops.read_op(self, f"{self.op.name}/read").outputs[0]

    def assign(
        self,
        value: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        """Sets the variable to ``value``; returns the new value (or the op)."""
        op = variable_ops.assign_op(self, value, name)
        return op.outputs[0] if read_value else op

    def assign_add(
        self,
        delta: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        """Adds ``delta``; returns the new value (or the op)."""
        op = variable_ops.update_op(self, delta, name, "AssignAdd")
        return op.outputs[0] if read_value else op

    def assign_sub(
        self,
        delta: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        """Subtracts ``delta``; returns the new value (or the op)."""
        op = variable_ops.update_op(self, delta, name, "AssignSub")
        return op.outputs[0] if read_value else op

    def eval(self, session: Any = None) -> Any:
        """The value in ``session`` or the default session."""
        return self._snapshot.eval(session=session)

    def load(self, value: Any, session: Any = None) -> None:
        """Writes ``value`` into the variable without adding ops."""
        _session_for(self, session).run(
            self._initializer_op, {self._initial_value: value}
        )

    def set_shape(self, shape: Any) -> None:
        """Unsupported: a variable's shape is fixed at creation."""
        raise ValueError(f"cannot change the shape of variable '{self.op.name}'")

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    # Identity, hashed in C: tensors key the dicts of every run.
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return self._snapshot.__bool__()


class _VariableScopeState:
    """Variables by name and how often each variable scope was opened.

    The counts follow TF1's ``_VariableScopeStore``: a default name takes the
    first suffix whose scope was never opened, and leaving a named scope
    resets the counts below it, so a tower built again under the same
    scope with ``reuse=True`` asks for the same ``dense``, ``dense_1``... .
    """

    def __init__(self):
        self.vars: dict[str, Variable] = {}
        self.scope_counts: dict[str, int] = {}

    def open_scope(self, name: str) -> None:
        self.scope_counts[name] = self.scope_counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        prefix = name + "/"
        for key in self.scope_counts:
            if key.startswith(prefix):
                self.scope_counts[key] = 0

    def unique_name(self, parent: str, prefix: str) -> str:
        full = f"{parent}/{prefix}" if parent else prefix
        if not self.scope_counts.get(full, 0):
            return prefix
        index = 1
        while self.scope_counts.get(f"{full}_{index}", 0):
            index += 1
        return f"{prefix}_{index}"


def _store() -> _VariableScopeState:
    store = get_default_graph().variable_store
    if "state" not in store:
        store["state"] = _VariableScopeState()
    return store["state"]


class _ReuseMode:
    def __repr__(self) -> str:
        return "AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


class VariableScope:
    """The settings a ``variable_scope`` block gives ``get_variable``."""

    def __init__(
        self,
        reuse: Any,
        name: str = "",
        initializer: Any = None,
        regularizer: Any = None,
        dtype: Any = dtypes_lib.float32,
        name_scope: str = "",
        sharding: Any = None,
        custom_getter: Any = None,
    ):
        self.name = name
        self.sharding = sharding
        self.custom_getter = custom_getter
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtypes_lib.as_dtype(dtype)
        self.original_name_scope = name_scope

    def reuse_variables(self) -> None:
        """Makes later ``get_variable`` calls in this scope reuse."""
        self.reuse = True

    def set_initializer(self, initializer: Any) -> None:
        """Sets the default initializer."""
        self.initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        """Sets the default regularizer."""
        self.regularizer = regularizer

    def set_custom_getter(self, custom_getter: Any) -> None:
        """Sets the custom getter ``get_variable`` calls in this scope."""
        self.custom_getter = custom_getter

    def get_variable(self, name: str, *args: Any, **kwargs: Any) -> Variable:
        """``get_variable`` inside this scope."""
        with variable_scope(self):
            return get_variable(name, *args, **kwargs)


def _scope_stack() -> list[VariableScope]:
    store = get_default_graph().variable_store
    return store.setdefault("scopes", [VariableScope(False)])


def get_variable_scope() -> VariableScope:
    """The current VariableScope."""
    return _scope_stack()[-1]


@contextlib.contextmanager
def variable_scope(
    name_or_scope: Any,
    default_name: str | None = None,
    values: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    custom_getter: Any = None,
    reuse: Any = None,
    dtype: Any = None,
    use_resource: Any = None,
    constraint: Any = None,
    auxiliary_name_scope: bool = True,
    sharding: Any = None,
) -> Iterator[VariableScope]:
    """Opens a variable scope (``tf.variable_scope``), and a name scope with it.

    ``sharding`` (a ``jax.sharding.PartitionSpec``, not in TF1) is the default
    sharding of the variables ``get_variable`` creates inside, like
    ``initializer``; a ``sharding`` given to ``get_variable`` wins.

    Raises:
        ValueError: neither a name nor a default name is given.
    """
    if name_or_scope is None and default_name is None:
        raise ValueError(
            "If default_name is None then scope (name_or_scope) is required"
        )
    graph = get_default_graph()
    parent = get_variable_scope()
    state = _store()
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
        op_scope = name_or_scope.original_name_scope
        base = name_or_scope
    else:
        if name_or_scope is None:
            name_or_scope = state.unique_name(parent.name, default_name)
        full = f"{parent.name}/{name_or_scope}" if parent.name else name_or_scope
        op_scope = None
        base = parent
    if reuse is False or (
        reuse is None and not isinstance(name_or_scope, VariableScope)
    ):
        reuse = parent.reuse if reuse is None else reuse
    elif reuse is None:
        reuse = name_or_scope.reuse or parent.reuse
    if parent.reuse is True and reuse is not AUTO_REUSE:
        reuse = True
    with contextlib.ExitStack() as stack:
        if auxiliary_name_scope:
            if op_scope:
                ns = stack.enter_context(graph.name_scope(op_scope))
            else:
                leaf = full.rsplit("/", 1)[-1]
                ns = stack.enter_context(graph.name_scope(leaf))
        else:
            ns = graph.get_name_scope() + "/" if graph.get_name_scope() else ""
        scope = VariableScope(
            reuse,
            full,
            initializer if initializer is not None else base.initializer,
            regularizer if regularizer is not None else base.regularizer,
            dtype if dtype is not None else base.dtype,
            ns,
            sharding if sharding is not None else base.sharding,
            _nest_getters(custom_getter, base.custom_getter),
        )
        scopes = _scope_stack()
        state.open_scope(full)
        # Re-entering a VariableScope object restores the counts on exit;
        # leaving a scope opened by name resets those of its sub-scopes.
        saved = dict(state.scope_counts) if base is name_or_scope else None
        scopes.append(scope)
        try:
            yield scope
        finally:
            scopes.pop()
            if saved is not None:
                state.scope_counts = saved
            else:
                state.close_subscopes(full)


def _nest_getters(inner: Any, outer: Any) -> Any:
    """``inner`` wrapping ``outer``: TF1 composes the custom getters of nested scopes."""
    if inner is None or outer is None:
        return inner if inner is not None else outer
    if not callable(inner):
        raise ValueError(f"custom_getter must be callable, got {inner!r}")
    return lambda getter, *args, **kwargs: inner(
        functools.partial(outer, getter), *args, **kwargs
    )


def get_variable(
    name: str,
    shape: Any = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    trainable: bool | None = None,
    collections: Sequence[str] | None = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    use_resource: Any = None,
    custom_getter: Any = None,
    constraint: Any = None,
    synchronization: Any = None,
    aggregation: Any = None,
    sharding: Any = None,
) -> Variable:
    """Gets an existing variable or creates a new one (``tf.get_variable``).

    ``sharding`` (not in TF1): a ``jax.sharding.PartitionSpec`` over mesh axes
    for the new variable (default: the variable scope's); see ``Variable``.
    A custom getter (this call's, else the scope's) is called as TF1 calls
    it: ``custom_getter(getter=..., name=<full name>, shape=..., dtype=...,
    ...)``; what it returns (a variable, or a tensor made from one) is the
    result.

    Raises:
        ValueError: the variable exists and reuse is off, does not exist and
            reuse is on, or exists with another shape or dtype.
    """
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    kwargs = {
        "shape": shape,
        "dtype": dtype,
        "initializer": initializer,
        "regularizer": regularizer,
        "reuse": scope.reuse,
        "trainable": trainable,
        "collections": collections,
        "caching_device": caching_device,
        "partitioner": partitioner,
        "validate_shape": validate_shape,
        "use_resource": use_resource,
        "constraint": constraint,
        "synchronization": synchronization,
        "aggregation": aggregation,
        "sharding": sharding,
    }
    getter = custom_getter if custom_getter is not None else scope.custom_getter
    if getter is None:
        return _true_getter(full, **kwargs)
    if dtype is None and (initializer is None or callable(initializer)):
        kwargs["dtype"] = scope.dtype  # a getter sees the dtype TF1 resolves
    return getter(getter=_true_getter, name=full, **kwargs)


def _true_getter(
    name: str,
    shape: Any = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    reuse: Any = None,
    trainable: bool | None = None,
    collections: Sequence[str] | None = None,
    validate_shape: bool = True,
    constraint: Any = None,
    sharding: Any = None,
    **unused: Any,
) -> Variable:
    """Gets the variable of full name ``name`` or creates it (no custom getter)."""
    scope = get_variable_scope()
    full = name
    state = _store()
    if full in state.vars:
        if reuse is False:
            raise ValueError(
                f"Variable {full} already exists, disallowed. Did you mean to set "
                "reuse=True or reuse=tf.AUTO_REUSE in VarScope?"
            )
        var = state.vars[full]
        _check_shared(var, full, shape, dtype)
        return var
    if reuse is True:
        raise ValueError(
            f"Variable {full} does not exist, or was not created with tf.get_variable(). "
            "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?"
        )
    if dtype is None and initializer is not None and not callable(initializer):
        # TF1 takes the dtype of a value initializer (an int32 Tensor, a
        # float64 array) rather than the scope's default.
        initializer = convert_to_tensor(initializer)
        dtype = initializer.dtype
    dtype = dtypes_lib.as_dtype(dtype) if dtype is not None else scope.dtype
    initializer = initializer if initializer is not None else scope.initializer
    init_value = _initial_value(full, shape, dtype, initializer)
    graph = get_default_graph()
    with graph.name_scope(None):
        var = Variable(
            init_value,
            trainable=True if trainable is None else trainable,
            collections=collections,
            validate_shape=validate_shape,
            name=full,
            dtype=dtype,
            constraint=constraint,
            sharding=sharding if sharding is not None else scope.sharding,
        )
    state.vars[full] = var
    regularizer = regularizer if regularizer is not None else scope.regularizer
    if regularizer is not None:
        with graph.name_scope(full + "/Regularizer/"):
            loss = regularizer(var)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def _check_shared(var: Variable, full: str, shape: Any, dtype: Any) -> None:
    if shape is not None and not var.shape.is_compatible_with(shape):
        raise ValueError(
            f"Trying to share variable {full}, but specified shape "
            f"{shapes.as_shape(shape)} and found shape {var.shape}."
        )
    if dtype is not None and dtypes_lib.as_dtype(dtype) is not var.dtype:
        raise ValueError(
            f"Trying to share variable {full}, but specified dtype "
            f"{dtypes_lib.as_dtype(dtype).name} and found dtype {var.dtype.name}."
        )


def _initial_value(
    full: str, shape: Any, dtype: dtypes_lib.DType, initializer: Any
) -> Any:
    if initializer is not None and not callable(initializer):
        value = (
            convert_to_tensor(initializer, dtype=dtype)
            if not isinstance(initializer, Tensor)
            else initializer
        )
        if shape is not None and not value.shape.is_compatible_with(shape):
            raise ValueError(
                f"The initializer passed is not valid for variable {full}: it has "
                f"shape {value.shape}, but the variable has shape {shapes.as_shape(shape)}."
            )
        return lambda: value
    if shape is None:
        raise ValueError(
            f"Shape of a new variable ({full}) must be fully defined, but instead was None."
        )
    shape = shapes.as_shape(shape)
    if not shape.is_fully_defined():
        raise ValueError(
            f"Shape of a new variable ({full}) must be fully defined, but instead was {shape}."
        )
    if initializer is None:
        if dtype.is_floating:
            initializer = glorot_uniform_initializer()
        elif dtype.is_integer or dtype.is_bool:
            initializer = zeros_initializer()
        else:
            raise ValueError(
                f"An initializer for variable {full} of {dtype.name} is required"
            )
    return lambda: initializer(shape.as_list(), dtype=dtype)


# -- collections and initializer ops ------------------------------------------------


def global_variables(scope: str | None = None) -> list[Variable]:
    """Variables in GLOBAL_VARIABLES."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def local_variables(scope: str | None = None) -> list[Variable]:
    """Variables in LOCAL_VARIABLES."""
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None) -> list[Variable]:
    """Variables in TRAINABLE_VARIABLES."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list[Variable]:
    """Variables in MODEL_VARIABLES."""
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: str | None = None) -> list[Variable]:
    """Variables in MOVING_AVERAGE_VARIABLES."""
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def _no_op() -> tuple[()]:
    return ()


def group_ops(ops: Sequence[Operation], name: str) -> Operation:
    """A NoOp that runs after every op in ``ops``."""
    return make_op(
        "NoOp", _no_op, (), name=name, out_avals=[], control_inputs=list(ops)
    )


def variables_initializer(
    var_list: Sequence[Variable], name: str = "init"
) -> Operation:
    """An op running the initializers of ``var_list`` (``tf.variables_initializer``)."""
    return group_ops([v.initializer for v in var_list], name)


def global_variables_initializer() -> Operation:
    """Initializes every global variable."""
    return variables_initializer(global_variables(), "init")


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    """Initializes every local variable."""
    return variables_initializer(local_variables(), "init")


# TF1's deprecated names, still called by programs of the TF 1.0 era.
initialize_local_variables = local_variables_initializer
initialize_variables = variables_initializer


def tables_initializer(name: str = "init_all_tables") -> Operation:
    """An op running the ops in the TABLE_INITIALIZERS collection (``tf.tables_initializer``).

    jaxsession has no lookup tables of its own, so this is usually a NoOp;
    TF1 programs run it as boilerplate next to the variable initializers.
    """
    return group_ops(
        get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS), name
    )


initialize_all_tables = tables_initializer


def _host_only(**_: Any) -> Any:
    raise RuntimeError("variable-status ops are evaluated on the host by the session")


def is_variable_initialized(variable: Variable) -> Tensor:
    """A bool scalar: whether ``variable`` holds a value in the session."""
    return _status_op("IsVariableInitialized", [variable], scalar=True)


def report_uninitialized_variables(
    var_list: Sequence[Variable] | None = None,
    name: str = "report_uninitialized_variables",
) -> Tensor:
    """A string vector naming the variables that have no value yet."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    return _status_op(name, list(var_list), scalar=False)


def assert_variables_initialized(var_list: Sequence[Variable] | None = None) -> Tensor:
    """A bool scalar: whether all of ``var_list`` are initialized."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    return _status_op("assert_variables_initialized", list(var_list), scalar=True)


STATUS_OPS = ("VariableStatus", "VariableStatusAll")


def _report(op: Operation, ctx: Any, inputs: Sequence[Any]) -> tuple[np.ndarray]:
    names = [v.op.name for v in op.attrs["variables"] if not ctx.is_initialized(v)]
    return (np.array([n.encode() for n in names], dtype=object),)


def _all_initialized(
    op: Operation, ctx: Any, inputs: Sequence[Any]
) -> tuple[np.ndarray]:
    return (np.bool_(all(ctx.is_initialized(v) for v in op.attrs["variables"])),)


HOST_OPS[STATUS_OPS[0]] = _report
HOST_OPS[STATUS_OPS[1]] = _all_initialized


def _status_op(name: str, var_list: list[Variable], scalar: bool) -> Tensor:
    op_type = STATUS_OPS[1] if scalar else STATUS_OPS[0]
    shape: tuple[int, ...] = () if scalar else (None,)
    dtype = dtypes_lib.bool_ if scalar else dtypes_lib.string
    op = make_op(
        op_type,
        _host_only,
        (),
        name=name,
        attrs={"variables": tuple(var_list)},
        out_avals=[Aval(shape, dtype)],
    )
    return op.outputs[0]


# -- global step --------------------------------------------------------------------


def get_global_step(graph: Any = None) -> Variable | Tensor | None:
    """The global step, or None (``tf.train.get_global_step``).

    Looked up as TF1 does: the one item of the GLOBAL_STEP collection, else the
    tensor named ``global_step:0``. Several items log an error and give None.
    Differs from TF1: found by name, a variable's tensor gives the Variable.

    Raises:
        TypeError: the global step found is not a scalar integer.
    """
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        logger.error("Multiple tensors in global_step collection.")
        return None
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
        if step.op.type == "VariableV2" and len(step.op.reads) == 1:
            step = step.op.reads[0]
    assert_global_step(step)
    return step


def assert_global_step(global_step_tensor: Any) -> None:
    """Checks that ``global_step_tensor`` is a scalar integer variable or tensor.

    Raises:
        TypeError: it is not a Variable or Tensor, not an integer, or not a scalar.
    """
    if not isinstance(global_step_tensor, Variable | Tensor):
        raise TypeError(
            f'Existing "global_step" must be a Variable or Tensor: {global_step_tensor}.'
        )
    dtype = global_step_tensor.dtype
    if not dtype.is_integer:
        raise TypeError(
            f"Existing \"global_step\" does not have integer type: <dtype: '{dtype.name}'>"
        )
    shape = global_step_tensor.shape
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


def create_global_step(graph: Any = None) -> Variable:
    """Creates the int64 global step (``tf.train.create_global_step``).

    Raises:
        ValueError: a global step already exists.
    """
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    # get_variable, as TF1: the step is named under the current variable scope.
    with graph.as_default(), graph.name_scope(None):
        return get_variable(
            "global_step",
            shape=[],
            dtype=dtypes_lib.int64,
            initializer=zeros_initializer(),
            trainable=False,
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP],
        )


def get_or_create_global_step(graph: Any = None) -> Variable | Tensor:
    """The global step, created if missing (``tf.train.get_or_create_global_step``).

    Args:
        graph: The graph to look in and create it in; default: the default graph.

    Returns:
        The existing global step (a Variable, or the Tensor found as
        ``global_step:0``), else a new int64 scalar Variable ``global_step``.

    Raises:
        TypeError: the existing global step is not a scalar integer
            Variable or Tensor.
    """
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)
