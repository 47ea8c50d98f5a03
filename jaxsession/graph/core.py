"""Graph, Operation and Tensor: the symbolic program a Session runs.

A ``Graph`` is the only mutable object: it holds operations in creation order,
the name-scope counters, collections, the graph seed and a version that grows
with every op. An ``Operation`` is a frozen value created through
``Graph.create_op``; a ``Tensor`` names one output of an operation.

Execution semantics an op declares for the engine:

* ``inputs``: tensors whose values are passed to ``lower`` positionally.
* ``reads``: variables whose current values are passed after the inputs.
* ``writes``: ``(variable, output_index)`` pairs; that output becomes the
  variable's new value.
* ``random``: ``lower`` also receives a ``key=`` PRNG key.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jaxsession.graph import dtypes as dtypes_lib, placement, shapes, source_info
from jaxsession.graph.avals import Aval
from jaxsession.graph.check import check_graph
from jaxsession.graph.printing import graph_as_text
from jaxsession.graph.source_info import SourceInfo


class SessionLike(Protocol):
    """What ``Tensor.eval``/``Operation.run`` need of a session: ``run``.

    The graph layer cannot import ``session/``; a Session satisfies this.
    """

    def run(self, fetches: Any, feed_dict: Any = None) -> Any:
        """Runs ``fetches`` with ``feed_dict``; returns their values."""


class GraphKeys:
    """Standard collection names, as ``tf.GraphKeys``."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"


class Attrs(Mapping):
    """An immutable, hashable mapping of op attributes."""

    __slots__ = ("_d", "_h")

    def __init__(self, items: Mapping[str, Any] | None = None):
        self._d = dict(items or {})
        self._h = None

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            try:
                self._h = hash(tuple(sorted(self._d.items())))
            except TypeError:
                self._h = id(self)
        return self._h

    def __repr__(self) -> str:
        return f"Attrs({self._d!r})"


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """A node of the graph: a JAX function applied to input tensors.

    Operations are made by ``Graph.create_op`` (through the op constructors),
    never directly. Equality is identity.
    """

    name: str
    type: str
    inputs: tuple[Tensor, ...]
    control_inputs: tuple[Operation, ...]
    attrs: Attrs
    out_avals: tuple[Aval, ...]
    lower: Callable[..., Any]
    reads: tuple[Any, ...] = ()
    writes: tuple[tuple[Any, int], ...] = ()
    random: bool = False
    source: SourceInfo = source_info.UNKNOWN
    graph: Graph | None = None
    id: int = 0
    # Set once, while ``Graph.create_op`` applies the device scopes.
    device: str = ""
    outputs: tuple[Tensor, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        outs = tuple(Tensor(self, i) for i in range(len(self.out_avals)))
        object.__setattr__(self, "outputs", outs)

    @property
    def stateful(self) -> bool:
        """Whether running this op reads or writes state or draws randomness."""
        return bool(self.reads or self.writes or self.random)

    @property
    def node_def(self) -> Any:
        """Unsupported TF1 attribute; kept so ``op.node_def`` fails clearly."""
        raise AttributeError("jaxsession operations have no NodeDef")

    def get_attr(self, name: str) -> Any:
        """The value of attribute ``name``.

        Raises:
            ValueError: the op has no such attribute.
        """
        if name not in self.attrs:
            raise ValueError(f"Operation {self.name!r} has no attr named {name!r}.")
        return self.attrs[name]

    def run(self, feed_dict: Any = None, session: SessionLike | None = None) -> None:
        """Runs this op in ``session`` or the default session."""
        _session_for(self, session).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"

    def __str__(self) -> str:
        return repr(self)


class Tensor:
    """One output of an Operation, as ``tf.Tensor``.

    Operators (``+ - * / @ [] < ...``) build ops. ``bool(tensor)`` raises
    TypeError, as in TF1.
    """

    __slots__ = ("__weakref__", "_shape", "op", "value_index")

    def __init__(self, op: Operation, value_index: int):
        self.op = op
        self.value_index = value_index
        self._shape = shapes.TensorShape(op.out_avals[value_index].shape)

    @property
    def name(self) -> str:
        """``"op_name:index"``."""
        return f"{self.op.name}:{self.value_index}"

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The element type."""
        return self.op.out_avals[self.value_index].dtype

    @property
    def shape(self) -> shapes.TensorShape:
        """The static shape (dims may be unknown)."""
        return self._shape

    @property
    def graph(self) -> Graph:
        """The graph this tensor belongs to."""
        return self.op.graph

    @property
    def device(self) -> str:
        """The device of the op making this tensor (recorded; XLA places it)."""
        return self.op.device

    @property
    def _aval(self) -> Aval:
        """The static type, with any shape set by ``set_shape``."""
        return Aval(self._shape.as_tuple(), self.dtype)

    def get_shape(self) -> shapes.TensorShape:
        """The static shape (same as ``shape``)."""
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refines the static shape.

        Raises:
            ValueError: ``shape`` is not compatible with the known shape.
        """
        new = shapes.as_shape(shape)
        if not self._shape.is_compatible_with(new):
            raise ValueError(
                f"Tensor's shape {self._shape} is not compatible with supplied "
                f"shape {new} for {self!r}"
            )
        self._shape = self._shape.merge_with(new)

    def consumers(self) -> list[Operation]:
        """Ops in the graph that take this tensor as an input."""
        return [op for op in self.graph.get_operations() if self in op.inputs]

    def eval(self, feed_dict: Any = None, session: SessionLike | None = None) -> Any:
        """The value of this tensor in ``session`` or the default session."""
        return _session_for(self, session).run(self, feed_dict)

    def __bool__(self) -> bool:
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is "
            "not None:` instead of `if t:` to test if a tensor is defined, and use "
            "ops like tf.cond to execute subgraphs conditioned on its value."
        )

    def __len__(self) -> int:
        raise TypeError(
            f"len is not well defined for symbolic Tensors ({self.name}). "
            "Please call `x.shape` rather than `len(x)` for shape information."
        )

    def __iter__(self) -> Iterator[Tensor]:
        dims = self._shape.dims
        if dims is None or dims[0].value is None:
            raise TypeError(
                f"Cannot iterate over a tensor with unknown first dim: {self!r}"
            )
        return iter([self[i] for i in range(dims[0].value)])

    # Identity, hashed in C: tensors key the dicts of every run.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self.dtype.name}>"

    def __str__(self) -> str:
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self.dtype.name})'


def _session_for(element: Any, session: SessionLike | None) -> SessionLike:
    if session is not None:
        return session
    session = get_default_session()
    if session is None:
        raise ValueError(
            "Cannot evaluate tensor using `eval()`: No default session is registered. "
            "Use `with sess.as_default()` or pass an explicit session to "
            f"`eval(session=sess)` (evaluating {element!r})."
        )
    return session


_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class Graph:
    """A TF1 dataflow graph: ops, name scopes, collections and a seed."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._collections: dict[str, list[Any]] = {}
        self._finalized = False
        self._local = threading.local()
        self.seed: int | None = None
        self._last_op_seed = 0
        self._variables_by_name: dict[str, Any] = {}
        # Scratch space the variable-scope machinery keeps per graph.
        self.variable_store: dict[str, Any] = {}

    # -- properties ---------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows by one with every op added."""
        return len(self._ops)

    @property
    def finalized(self) -> bool:
        """Whether ``finalize()`` was called (and not undone)."""
        return self._finalized

    @property
    def building_function(self) -> bool:
        """Always False: there are no function graphs here."""
        return False

    def finalize(self) -> None:
        """Makes the graph read-only; adding an op afterwards raises RuntimeError."""
        if _checks_enabled():
            check_graph(self)
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def _check_not_finalized(self, what: str) -> None:
        if self._finalized:
            raise RuntimeError(
                f"Graph is finalized and cannot be modified: tried to add {what} "
                f"at {source_info.current()}."
            )

    # -- thread-local stacks -----------------------------------------------

    def _stack(self, name: str) -> list[Any]:
        stack = getattr(self._local, name, None)
        if stack is None:
            stack = []
            setattr(self._local, name, stack)
        return stack

    @property
    def _name_stack(self) -> str:
        stack = self._stack("names")
        return stack[-1] if stack else ""

    def get_name_scope(self) -> str:
        """The current name scope, without a trailing slash."""
        return self._name_stack

    # -- names ----------------------------------------------------------------

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``name`` under the current scope, suffixed ``_N`` if already taken."""
        if self._name_stack:
            name = f"{self._name_stack}/{name}"
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = name
            while name.lower() in self._names_in_use:
                name = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Opens a name scope; yields it with a trailing slash.

        A name ending in "/" re-enters that exact scope; None or "" resets to
        the top level.
        """
        stack = self._stack("names")
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not _VALID_SCOPE.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        stack.append(new)
        try:
            yield new + "/" if new else ""
        finally:
            stack.pop()

    # -- control dependencies and devices -------------------------------------

    @contextlib.contextmanager
    def control_dependencies(
        self, control_inputs: Sequence[Any] | None
    ) -> Iterator[None]:
        """Ops created inside run after every op in ``control_inputs``.

        None clears the dependencies of enclosing blocks.
        """
        stack = self._stack("control")
        if control_inputs is None:
            stack.append(None)
        else:
            ops = []
            for c in control_inputs:
                op = _as_control_op(c)
                if op.graph is not self:
                    raise ValueError(f"Control input {op!r} is not from this graph.")
                ops.append(op)
            stack.append(ops)
        try:
            yield
        finally:
            stack.pop()

    def _current_control_inputs(self) -> list[Operation]:
        stack = self._stack("control")
        start = max((i + 1 for i, ops in enumerate(stack) if ops is None), default=0)
        out: list[Operation] = []
        for ops in stack[start:]:
            out.extend(o for o in ops if o not in out)
        return out

    @contextlib.contextmanager
    def device(self, device_name_or_function: Any) -> Iterator[None]:
        """Ops created inside get this device (``tf.device``), as in TF1.

        A device string or ``DeviceSpec`` fills the fields an op's device
        lacks (inner scopes win field by field); a function ``op -> device
        string, DeviceSpec or None`` is called with each op created inside and
        its result replaces the op's device; None clears the outer scopes.
        The result is ``op.device``. Differs from TF1: it is recorded only;
        XLA places the computation.

        Raises:
            ValueError: a malformed device string, naming the bad part.
            TypeError: not a string, DeviceSpec, function or None.
        """
        stack = self._stack("devices")
        stack.append(placement.scope_entry(device_name_or_function))
        try:
            yield
        finally:
            stack.pop()

    @contextlib.contextmanager
    def colocate_with(self, op: Any, ignore_existing: bool = False) -> Iterator[None]:
        """Ops created inside get ``op``'s device, not the enclosing scopes'.

        Differs from TF1: recorded only (XLA places the computation); no
        ``_class`` colocation attribute is set.

        Raises:
            ValueError: ``op`` is None and ``ignore_existing`` is False.
        """
        if op is None and not ignore_existing:
            raise ValueError(
                "Trying to reset colocation (op is None) but ignore_existing is not True"
            )
        target = None if op is None else _as_control_op(op)
        stack = self._stack("devices")
        stack.append(placement.Colocation(target))
        try:
            yield
        finally:
            stack.pop()

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: Mapping[str, str]) -> Iterator[None]:
        """Accepted for TF1 compatibility; gradients come from JAX autodiff."""
        yield

    # -- ops ----------------------------------------------------------------

    def create_op(
        self,
        op_type: str,
        inputs: Sequence[Tensor],
        out_avals: Sequence[Aval],
        lower: Callable[..., Any],
        *,
        name: str | None = None,
        attrs: Mapping[str, Any] | None = None,
        reads: Sequence[Any] = (),
        writes: Sequence[tuple[Any, int]] = (),
        random: bool = False,
        control_inputs: Sequence[Operation] = (),
    ) -> Operation:
        """Adds one operation; the op constructors call this.

        Raises:
            RuntimeError: the graph is finalized.
            ValueError: an input belongs to another graph.
        """
        with self._lock:
            self._check_not_finalized(f"op {name or op_type!r} of type {op_type}")
            for t in inputs:
                if t.graph is not self:
                    raise ValueError(
                        f"Tensor {t!r} must be from the same graph as the op "
                        f"{name or op_type!r} being created."
                    )
            name = name or op_type
            # A name ending in "/" is an exact name (a scope's own op), as in TF1.
            name = name[:-1] if name.endswith("/") else self.unique_name(name)
            controls = self._current_control_inputs()
            controls.extend(c for c in control_inputs if c not in controls)
            op = Operation(
                name=name,
                type=op_type,
                inputs=tuple(inputs),
                control_inputs=tuple(controls),
                attrs=Attrs(attrs),
                out_avals=tuple(out_avals),
                lower=lower,
                reads=tuple(reads),
                writes=tuple(writes),
                random=random,
                source=source_info.current(),
                graph=self,
                id=len(self._ops),
            )
            devices = self._stack("devices")
            if devices:
                placement.device_for(
                    devices, op, lambda d: object.__setattr__(op, "device", d)
                )
            self._ops.append(op)
            self._by_name[name] = op
            return op

    def get_operations(self) -> list[Operation]:
        """All ops in creation order."""
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        """The op called ``name``.

        Raises:
            KeyError: no such op.
        """
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {name!r}.")
        if name not in self._by_name:
            raise KeyError(
                f"The name {name!r} refers to an Operation not in the graph."
            )
        return self._by_name[name]

    def get_tensor_by_name(self, name: str) -> Tensor:
        """The tensor called ``"op_name:index"``.

        Raises:
            KeyError: no such tensor.
            ValueError: the name lacks the ``:index`` part.
        """
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {name!r}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(
        self, obj: Any, allow_tensor: bool = True, allow_operation: bool = True
    ) -> Tensor | Operation:
        """Resolves a Tensor, Operation, name or Variable to a graph element.

        Raises:
            TypeError: ``obj`` cannot name a graph element.
            KeyError/ValueError: a name that names nothing in this graph.
        """
        if isinstance(obj, str):
            return self._element_by_name(obj, allow_tensor, allow_operation)
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj!r} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj!r} is not an element of this graph.")
            return obj
        kinds = " or ".join(
            k
            for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation))
            if ok
        )
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def _element_by_name(self, name: str, allow_tensor: bool, allow_op: bool) -> Any:
        if ":" in name:
            if not allow_tensor:
                raise ValueError(
                    f"Name {name!r} appears to refer to a Tensor, not a Operation."
                )
            op_name, _, index = name.rpartition(":")
            try:
                index = int(index)
            except ValueError:
                raise ValueError(
                    f"The name {name!r} looks a like a Tensor name, but is not a valid one."
                ) from None
            if op_name not in self._by_name:
                raise KeyError(
                    f"The name {name!r} refers to a Tensor which does not exist. "
                    f"The operation, {op_name!r}, does not exist in the graph."
                )
            op = self._by_name[op_name]
            if index >= len(op.outputs):
                raise KeyError(
                    f"The name {name!r} refers to a Tensor which does not exist. The "
                    f"operation, {op_name!r}, exists but only has {len(op.outputs)} outputs."
                )
            return op.outputs[index]
        if not allow_op:
            raise ValueError(
                f"The name {name!r} looks like an (invalid) Operation name, not a Tensor. "
                'Tensor names must be of the form "<op_name>:<output_index>".'
            )
        return self.get_operation_by_name(name)

    def next_op_seed(self) -> int:
        """A per-graph counter used as op seed when only the graph seed is set."""
        self._last_op_seed = len(self._ops)
        return self._last_op_seed

    # -- collections ----------------------------------------------------------

    def add_to_collection(self, name: str, value: Any) -> None:
        """Appends ``value`` to the collection ``name``."""
        with self._lock:
            self._check_not_finalized(f"to collection {name!r}")
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        """Appends ``value`` to each collection in ``names`` (once each)."""
        names = (names,) if isinstance(names, str) else set(names)
        for n in names:
            self.add_to_collection(n, value)

    def get_collection_ref(self, name: str) -> list[Any]:
        """The live list behind collection ``name`` (created if missing)."""
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        """A copy of collection ``name``, filtered by ``re.match(scope, item.name)``."""
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [x for x in items if getattr(x, "name", None) and pattern.match(x.name)]

    def get_all_collection_keys(self) -> list[str]:
        """The names of all collections."""
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        """Empties collection ``name``."""
        with self._lock:
            self._collections.pop(name, None)

    # -- default graph --------------------------------------------------------

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Makes this the default graph inside the block."""
        _graph_stack().append(self)
        try:
            yield self
        finally:
            _graph_stack().pop()

    def as_graph_def(
        self, from_version: int | None = None, add_shapes: bool = False
    ) -> Any:
        """This graph as TF1's ``GraphDef`` proto (``tf.Graph.as_graph_def``).

        Args:
            from_version: Only the ops added since ``version`` was this value.
            add_shapes: Give each node an ``_output_shapes`` attr.

        Returns:
            A ``GraphDef``: one ``NodeDef`` per op, in creation order.
        """
        from jaxsession.graph.graph_def import graph_to_graph_def

        with self._lock:
            return graph_to_graph_def(self, add_shapes, from_version)

    def as_text(self) -> str:
        """A listing of every op, one per line, in creation order."""
        return graph_as_text(self)

    def __repr__(self) -> str:
        return f"<tf.Graph ops={len(self._ops)}>"


def _as_control_op(obj: Any) -> Operation:
    if hasattr(obj, "_as_graph_element"):
        obj = obj._as_graph_element()
    if isinstance(obj, Tensor):
        return obj.op
    if isinstance(obj, Operation):
        return obj
    raise TypeError(
        f"Can not convert a {type(obj).__name__} into an Operation: {obj!r}"
    )


def _checks_enabled() -> bool:
    import os

    return os.environ.get("JAXSESSION_CHECKS", "") not in ("", "0")


# -- default graph and session stacks ----------------------------------------

_DEFAULT_GRAPH: list[Graph] = [Graph()]
_thread_local = threading.local()


def _graph_stack() -> list[Graph]:
    stack = getattr(_thread_local, "graphs", None)
    if stack is None:
        stack = _thread_local.graphs = []
    return stack


def get_default_graph() -> Graph:
    """The innermost ``as_default`` graph, or the global default graph."""
    stack = _graph_stack()
    return stack[-1] if stack else _DEFAULT_GRAPH[0]


def reset_default_graph() -> None:
    """Replaces the global default graph with a new empty one.

    Raises:
        AssertionError: called inside a ``Graph.as_default()`` block, as in TF1.
    """
    if _graph_stack():
        raise AssertionError(
            "Do not use tf.reset_default_graph() to clear nested graphs. If you need "
            "a cleared graph, exit the nesting and create a new graph."
        )
    _DEFAULT_GRAPH[0] = Graph()


def _session_stack() -> list[Any]:
    stack = getattr(_thread_local, "sessions", None)
    if stack is None:
        stack = _thread_local.sessions = []
    return stack


def get_default_session() -> SessionLike | None:
    """The innermost session made default with ``as_default``, or None."""
    stack = _session_stack()
    return stack[-1] if stack else None


@contextlib.contextmanager
def default_session(session: SessionLike) -> Iterator[SessionLike]:
    """Makes ``session`` the default session inside the block."""
    _session_stack().append(session)
    try:
        yield session
    finally:
        _session_stack().pop()


# -- module-level TF1 functions on the default graph ---------------------------


def name_scope(name: str | None, default_name: str | None = None, values: Any = None):
    """Opens a name scope in the default graph (``tf.name_scope``)."""
    return get_default_graph().name_scope(name if name is not None else default_name)


def control_dependencies(control_inputs: Sequence[Any] | None):
    """``tf.control_dependencies`` on the default graph."""
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function: Any):
    """``tf.device`` on the default graph: see ``Graph.device``."""
    return get_default_graph().device(device_name_or_function)


def colocate_with(op: Any, ignore_existing: bool = False):
    """``tf.colocate_with`` on the default graph: see ``Graph.colocate_with``."""
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name: str, value: Any) -> None:
    """``tf.add_to_collection`` on the default graph."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Any, value: Any) -> None:
    """``tf.add_to_collections`` on the default graph."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    """``tf.get_collection`` on the default graph."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list[Any]:
    """``tf.get_collection_ref`` on the default graph."""
    return get_default_graph().get_collection_ref(key)
