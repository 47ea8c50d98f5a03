"""TF1's layer classes (``tf.layers.Dense``, ``Conv2D``, ...) over the functions.

A layer object holds the arguments of its ``tf.layers`` function but the
input. Its first call opens a variable scope named after the layer
(``dense``, ``dense_1``, ... or ``name``) and builds the function there;
later calls re-enter that scope with ``reuse=True``, so every call shares the
variables, and their ops get the scope's names (``dense/MatMul_1``), as in
TF1. One implementation serves both forms: the function does the work.
"""

from __future__ import annotations

import collections
import inspect
import re
from collections.abc import Callable
from typing import Any, ClassVar

from jaxsession.graph import variables as vs
from jaxsession.graph.core import GraphKeys, Operation, Tensor, get_default_graph
from jaxsession.library import layers as layer_fns

__all__ = [
    "AveragePooling2D",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPooling2D",
    "SeparableConv2D",
]

# Arguments given when the layer is called, not when it is made.
_CALL_ARGS = ("inputs", "training")


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique_object_name(base: str) -> str:
    """Keras's per-graph layer names: ``dense_1``, ``dense_2``, ..."""
    counts = get_default_graph().variable_store.setdefault(
        "layer_object_names", collections.Counter()
    )
    counts[base] += 1
    return f"{base}_{counts[base]}"


class Layer:
    """A TF1 layer object: call it (or ``apply``) on inputs; calls share variables.

    Subclasses name the ``tf.layers`` function (``_fn``) that builds them;
    their constructor takes that function's arguments but the inputs, in its
    order. ``name`` is the layer's name (by default ``<snake_case>_<n>``, as
    Keras numbers layer objects per graph); the variable scope its first call
    opens is ``name`` if given, else the next free ``<snake_case>`` scope.

    Differs from TF1: no Keras machinery (input specs, ``get_config``,
    ``add_weight`` for subclasses); layers made by the ``tf.layers``
    functions do not count toward the default names of layer objects.
    """

    _fn: ClassVar[Callable[..., Tensor]]
    _has_variables: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any):
        params = [
            p
            for p in inspect.signature(type(self)._fn).parameters.values()
            if p.name not in _CALL_ARGS
        ]
        bound = inspect.Signature(params).bind(*args, **kwargs)
        self._config = dict(bound.arguments)
        self._reuse = self._config.pop("reuse", None)
        given = self._config.pop("name", None)
        self._given_name = given
        self._base_name = _snake_case(type(self).__name__)
        self.name = given or _unique_object_name(self._base_name)
        self.trainable = self._config.get("trainable", True)
        self._scope: vs.VariableScope | None = None
        self._variables: list[vs.Variable] = []
        self._trainable: list[vs.Variable] = []
        self.updates: list[Operation] = []
        self.losses: list[Tensor] = []
        self.built = False

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Tensor:
        """Applies the layer to ``inputs`` (``training=`` where the layer has it).

        Returns:
            The output tensor.
        """
        graph = get_default_graph()
        keys = (GraphKeys.UPDATE_OPS, GraphKeys.REGULARIZATION_LOSSES)
        before = {k: len(graph.get_collection(k)) for k in keys}
        if self._scope is None:
            made = len(graph.get_collection(GraphKeys.GLOBAL_VARIABLES))
            with vs.variable_scope(
                self._given_name, default_name=self._base_name, reuse=self._reuse
            ) as scope:
                self._scope = scope
                out = self._build(inputs, args, kwargs, reuse=self._reuse)
            self._variables = graph.get_collection(GraphKeys.GLOBAL_VARIABLES)[made:]
            trainable = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
            self._trainable = [v for v in self._variables if v in trainable]
            self.built = True
        else:
            out = self._build(inputs, args, kwargs, reuse=True)
        self.updates += graph.get_collection(keys[0])[before[keys[0]] :]
        self.losses += graph.get_collection(keys[1])[before[keys[1]] :]
        return out

    def apply(self, inputs: Any, *args: Any, **kwargs: Any) -> Tensor:
        """The same as calling the layer."""
        return self(inputs, *args, **kwargs)

    def _build(
        self, inputs: Any, args: tuple[Any, ...], kwargs: dict[str, Any], reuse: Any
    ) -> Tensor:
        assert self._scope is not None  # set by __call__
        config = dict(self._config)
        if self._has_variables:
            config.update(name=self._scope, reuse=reuse)
        else:
            config["name"] = self._scope.original_name_scope
        return type(self)._fn(inputs, *args, **config, **kwargs)

    @property
    def variables(self) -> list[vs.Variable]:
        """Every variable of the layer, in creation order (TF1's ``weights``)."""
        return list(self._variables)

    weights = variables

    @property
    def trainable_variables(self) -> list[vs.Variable]:
        """The trainable variables (none when the layer is not trainable)."""
        return list(self._trainable) if self.trainable else []

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list[vs.Variable]:
        """The variables that are not trainable (moving averages)."""
        trainable = self.trainable_variables
        return [v for v in self._variables if v not in trainable]

    non_trainable_weights = non_trainable_variables

    @property
    def scope_name(self) -> str:
        """The name of the variable scope the first call opened."""
        if self._scope is None:
            raise ValueError(f"No name available for layer scope of {self.name}")
        return self._scope.name

    def __getattr__(self, attr: str) -> Any:
        # ``layer.kernel``, ``layer.bias``, ``layer.gamma``, ...: its variables.
        if attr.startswith("_"):
            raise AttributeError(attr)
        for v in self.__dict__.get("_variables", ()):
            if v.name.rsplit("/", 1)[-1].split(":")[0] == attr:
                return v
        if attr in self.__dict__.get("_config", {}):
            return self._config[attr]
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{attr}'"
            + ("" if self.built else " (its variables exist once it is called)")
        )


def _layer(name: str, fn: Callable[..., Tensor], variables: bool = True) -> type:
    doc = f"The layer object of ``tf.layers.{fn.__name__}``; see ``Layer``."
    attrs = {"_fn": staticmethod(fn), "_has_variables": variables, "__doc__": doc}
    return type(name, (Layer,), {"__module__": __name__, **attrs})


Dense = _layer("Dense", layer_fns.dense)
Conv1D = _layer("Conv1D", layer_fns.conv1d)
Conv2D = _layer("Conv2D", layer_fns.conv2d)
Conv3D = _layer("Conv3D", layer_fns.conv3d)
Conv2DTranspose = _layer("Conv2DTranspose", layer_fns.conv2d_transpose)
SeparableConv2D = _layer("SeparableConv2D", layer_fns.separable_conv2d)
BatchNormalization = _layer("BatchNormalization", layer_fns.batch_normalization)
MaxPooling2D = _layer("MaxPooling2D", layer_fns.max_pooling2d, variables=False)
AveragePooling2D = _layer(
    "AveragePooling2D", layer_fns.average_pooling2d, variables=False
)
Flatten = _layer("Flatten", layer_fns.flatten, variables=False)
Dropout = _layer("Dropout", layer_fns.dropout, variables=False)
