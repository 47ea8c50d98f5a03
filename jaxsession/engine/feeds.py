"""THE feed check: resolve feed_dict keys, convert values, check their shapes.

Every run path checks feeds here: ``Session.run``, callables, K-step runs
(each value with a leading axis of K steps) and traced runs. A value is
converted to its tensor's dtype first, then its shape is checked against
the tensor's static shape. When several feeds are bad the error lists all
of them (capped at ``errors.MAX_LISTED``, then "and N more"); a single bad
feed raises its own message alone, as TF1 does.

A key may be a nested structure of tensors (tuples, namedtuples such as an
RNN's ``LSTMStateTuple``, lists in a callable's ``feed_list``), fed from a
value of the same structure: key and value are flattened together (TF1's
``nest.flatten_dict_items``) and each pair goes through the same check.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from jaxsession import errors
from jaxsession.graph import dtypes as dtypes_lib
from jaxsession.graph.core import Graph, Tensor
from jaxsession.graph.rules import has_static_feeds, is_static_feed
from jaxsession.graph.shapes import TensorShape

logger = logging.getLogger("jaxsession")
# Integer tensors fed floats so far (each is logged once).
_TRUNCATED: weakref.WeakSet[Tensor] = weakref.WeakSet()


def feed_tensor(graph: Graph, key: Any) -> Tensor:
    """The Tensor a feed_dict key names.

    Raises:
        TypeError: the key cannot be interpreted as a Tensor.
    """
    try:
        element = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (TypeError, KeyError, ValueError) as e:
        raise TypeError(
            f"Cannot interpret feed_dict key as Tensor: {key!r} ({e})"
        ) from None
    return element


def convert_feed(tensor: Tensor, value: Any) -> Any:
    """A fed value in the tensor's dtype, its shape not yet checked.

    Floats fed to an integer tensor are truncated toward zero, as TF1's
    ``np.asarray(value, dtype)`` does (logged once per tensor).

    Raises:
        TypeError: the value cannot be converted to the tensor's dtype (an
            int out of the dtype's range, a non-string to a string), naming
            the tensor.
    """
    dtype = tensor.dtype
    if isinstance(value, jax.Array):
        if value.dtype != dtype.jax_dtype:
            if dtype.is_integer and jax.numpy.issubdtype(value.dtype, np.floating):
                _note_truncation(tensor, value.dtype)
            value = value.astype(dtype.jax_dtype)
        return value
    if dtype is dtypes_lib.string:
        return _strings(tensor, value)
    if type(value) is np.ndarray and value.dtype == dtype.jax_dtype:
        return value
    return _to_numpy(tensor, value, dtype)


def _to_numpy(tensor: Tensor, value: Any, dtype: dtypes_lib.DType) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except OverflowError:  # a Python int beyond int64
        raise _range_error(tensor, value, np.dtype(dtype.np_dtype)) from None
    if arr.dtype.kind == "O" and dtype.is_integer and _all_ints(arr):
        raise _range_error(tensor, value, np.dtype(dtype.jax_dtype))
    if arr.dtype.kind in "OSU":
        raise TypeError(
            f"Cannot feed value {value!r} of dtype {arr.dtype} for Tensor "
            f"{tensor.name!r} of dtype {dtype.name}"
        )
    if dtype.is_integer and arr.dtype.kind == "f":
        _note_truncation(tensor, arr.dtype)
    if dtype.is_integer and arr.dtype.kind in "iub":
        _check_int_range(tensor, value, arr, np.dtype(dtype.jax_dtype))
    # A float beyond the tensor's range becomes inf, and a float fed to an
    # integer tensor is truncated (NaN to the dtype's minimum), as in TF1.
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(dtype.jax_dtype, copy=False)


def _all_ints(arr: np.ndarray) -> bool:
    return all(isinstance(x, int) for x in arr.flat)


def _note_truncation(tensor: Tensor, given: Any) -> None:
    if tensor in _TRUNCATED:
        return
    _TRUNCATED.add(tensor)
    logger.warning(
        "Feeding %s values to %s tensor %r: they are truncated toward zero, as in TF1.",
        np.dtype(given),
        tensor.dtype.name,
        tensor.name,
    )


def _check_int_range(tensor: Tensor, value: Any, arr: np.ndarray, to: Any) -> None:
    """Refuses integers that the device dtype ``to`` cannot hold (TF1 does)."""
    if arr.size == 0 or np.can_cast(arr.dtype, to, "safe"):
        return
    info = np.iinfo(to)
    if arr.min() < info.min or arr.max() > info.max:
        raise _range_error(tensor, value, to)


def _range_error(tensor: Tensor, value: Any, to: Any) -> TypeError:
    shown = value if np.ndim(value) == 0 else "an array"
    declared = np.dtype(tensor.dtype.np_dtype)
    if to != declared:  # int64 computed in 32 bits
        hint = (
            f"{tensor.dtype.name} is computed as {to} on the device; turn on "
            "jax_enable_x64 (jax.config.update('jax_enable_x64', True)) for "
            "64-bit integers"
        )
    else:
        hint = "try a larger type for the tensor (e.g. int64)"
    return TypeError(
        f"Type of feed value {shown} is not compatible with Tensor "
        f"{tensor.name!r} of dtype {tensor.dtype.name}: it is out of the range "
        f"of {to}; {hint}."
    )


def _strings(tensor: Tensor, value: Any) -> np.ndarray:
    """A string feed as an object array; anything but str/bytes is refused."""
    arr = np.asarray(value, dtype=object)
    for item in arr.flat:
        if not isinstance(item, str | bytes):
            raise TypeError(
                f"Cannot feed {item!r} of type {type(item).__name__} in the value "
                f"for Tensor {tensor.name!r} of dtype string: expected str or bytes"
            )
    return arr


def shape_error(tensor: Tensor, shape: tuple[int, ...]) -> ValueError | None:
    """The error for a value of ``shape`` fed to ``tensor``, or None if it fits."""
    if tensor.shape.is_compatible_with(TensorShape(shape)):
        return None
    return ValueError(
        f"Cannot feed value of shape {TensorShape(shape)} for Tensor "
        f"{tensor.name!r}, which has shape {tensor.shape}"
        + _first_mismatch(tensor.shape, shape)
    )


def step_shape_error(
    tensor: Tensor, shape: tuple[int, ...], steps: int
) -> ValueError | None:
    """The error for a value of ``shape`` fed to a K-step run, or None if it fits.

    A value fed to a run of ``steps`` steps needs the shape
    ``(steps, *tensor.shape)``.
    """
    if (
        shape
        and shape[0] == steps
        and tensor.shape.is_compatible_with(TensorShape(shape[1:]))
    ):
        return None
    want = TensorShape([steps]).concatenate(tensor.shape)
    return ValueError(
        f"Cannot feed value of shape {TensorShape(shape)} for Tensor {tensor.name!r} "
        f"in a run of steps_per_run={steps}: a fed value needs a leading axis of "
        f"{steps} steps, so the expected shape is {want} (the tensor has shape "
        f"{tensor.shape})."
    )


def _shape_problem(tensor: Tensor, shape: tuple, steps: int) -> ValueError | None:
    if steps == 1:
        if tensor.shape.is_compatible_with(TensorShape(shape)):
            return None  # the common case, without a second call
        return shape_error(tensor, shape)
    return step_shape_error(tensor, shape, steps)


def _first_mismatch(want: TensorShape, shape: tuple[int, ...]) -> str:
    if want.ndims is not None and want.ndims != len(shape):
        return f": rank must be {want.ndims}, got {len(shape)}."
    for i, (w, g) in enumerate(zip(want.as_list(), shape)):
        if w is not None and w != g:
            return f": dimension {i} must be {w}, got {g}."
    return "."


def feed_error(problems: Sequence[Exception]) -> Exception:
    """One error for every bad feed: a single one alone, several listed.

    The type is the first problem's (ValueError for a shape, TypeError for a
    dtype or key), so a run with one bad feed raises exactly what TF1 does.
    """
    if len(problems) == 1:
        return problems[0]
    shown = [f"  {p}" for p in problems[: errors.MAX_LISTED]]
    if len(problems) > errors.MAX_LISTED:
        shown.append(f"  and {len(problems) - errors.MAX_LISTED} more.")
    lines = [f"{len(problems)} fed values do not fit their tensors:", *shown]
    return type(problems[0])("\n".join(lines))


def _is_nested(x: Any) -> bool:
    """Whether ``x`` is a structure (tuple, namedtuple, list), not a leaf."""
    return isinstance(x, (tuple, list)) and not isinstance(x, Tensor)


def structure(x: Any) -> str:
    """``x``'s nesting, each leaf a ``*``: ``(S(c=*, h=*), *)``."""
    if not _is_nested(x):
        return "*"
    fields = getattr(x, "_fields", None)
    if isinstance(x, tuple) and fields is not None:
        inner = ", ".join(f"{f}={structure(v)}" for f, v in zip(fields, x))
        return f"{type(x).__name__}({inner})"
    inner = ", ".join(structure(v) for v in x)
    if isinstance(x, list):
        return f"[{inner}]"
    return f"({inner},)" if len(x) == 1 else f"({inner})"


def key_leaves(key: Any) -> list[Any]:
    """The tensors (or names) of a feed key, flattened in order."""
    if not _is_nested(key):
        return [key]
    return [leaf for k in key for leaf in key_leaves(k)]


def flatten_feed(key: Any, value: Any) -> list[tuple[Any, Any]]:
    """(leaf key, leaf value) pairs of a feed whose key may be nested.

    The value must have the key's nesting (a namedtuple and a plain tuple or
    list of the same length match, as in TF1); its leaves may be anything
    ``convert_feed`` takes, including lists.

    Raises:
        ValueError: the value's structure differs from the key's.
    """
    if not _is_nested(key):
        return [(key, value)]
    pairs: list[tuple[Any, Any]] = []
    if _flatten_into(key, value, pairs):
        return pairs
    raise ValueError(
        f"Cannot feed a value of structure {structure(value)} for feed_dict key "
        f"{key!r}, which has structure {structure(key)}: a nested key needs a "
        "value of the same nesting"
    )


def _flatten_into(key: Any, value: Any, pairs: list[tuple[Any, Any]]) -> bool:
    if not _is_nested(key):
        pairs.append((key, value))
        return True
    if not isinstance(value, (tuple, list)) or len(value) != len(key):
        return False
    return all(_flatten_into(k, v, pairs) for k, v in zip(key, value))


def callable_feeds(graph: Graph, feed_list: Sequence[Any]) -> tuple[list[Tensor], Any]:
    """A callable's fed tensors, and how to flatten its arguments to them.

    Returns:
        The tensors of every entry's leaves in order, and None when no entry
        is nested (the arguments are the values) or else a function from the
        callable's arguments to one value per tensor.

    Raises:
        TypeError: an entry names no tensor.
    """
    tensors = [feed_tensor(graph, k) for key in feed_list for k in key_leaves(key)]
    if not any(_is_nested(key) for key in feed_list):
        return tensors, None

    def flatten(args: Sequence[Any]) -> list[Any]:
        return [v for key, a in zip(feed_list, args) for _, v in flatten_feed(key, a)]

    return tensors, flatten


def resolve_known(
    known: Mapping[Any, tuple[Tensor, TensorShape]], feed_dict: Mapping[Any, Any]
) -> dict[Tensor, Any] | None:
    """A feed_dict's converted values when every key was resolved before.

    The fast path of a run repeating its feed keys: no graph lookup and no
    shape check (a run checks the shapes of a new signature only).

    Args:
        known: Leaf keys that ``resolve_feeds`` resolved (its ``record``):
            each key's tensor and its static shape then.
        feed_dict: The run's feeds.

    Returns:
        Each fed tensor's converted value, or None when a key is new or
        nested, a tensor's shape was set since, or a value does not
        convert: ``resolve_feeds`` then checks and names every problem.
    """
    out: dict[Tensor, Any] = {}
    try:
        for key, value in feed_dict.items():
            tensor, shape = known[key]
            if tensor.shape is not shape:  # set_shape narrowed it
                return None
            out[tensor] = convert_feed(tensor, value)
    except (KeyError, TypeError):
        return None
    return out


def resolve_feeds(
    graph: Graph,
    feed_dict: Mapping[Any, Any] | None,
    steps: int = 1,
    record: dict[Any, tuple[Tensor, TensorShape]] | None = None,
) -> dict[Tensor, Any]:
    """Tensors and checked values of a feed_dict (nested tuple keys allowed).

    Args:
        graph: The graph the keys name tensors of.
        feed_dict: Maps tensors (or names, or nested tuples of them) to values.
        steps: The run's steps; with K > 1 each value needs a leading K axis.
        record: If given, receives each plain key's tensor and static
            shape once every feed resolved (for ``resolve_known``).

    Returns:
        Each fed tensor's value, converted to its dtype.

    Raises:
        TypeError: a key names no tensor, or a value has the wrong dtype.
        ValueError: a value's shape cannot fit its tensor, or a nested key's
            value has another structure. Every bad feed is named (see
            ``feed_error``).
    """
    out: dict[Tensor, Any] = {}
    if not feed_dict:
        return out
    problems: list[Exception] = []
    plain: dict[Any, Tensor] = {}
    for key, value in feed_dict.items():
        if _is_nested(key):
            try:
                pairs = flatten_feed(key, value)
            except ValueError as e:
                problems.append(e)
                continue
            for k, v in pairs:
                _resolve(graph, k, v, steps, out, problems)
        else:
            plain[key] = _resolve(graph, key, value, steps, out, problems)
    if problems:
        raise feed_error(problems) from None
    if record is not None:
        record.update((k, (t, t.shape)) for k, t in plain.items())
    return out


def _resolve(
    graph: Graph,
    key: Any,
    value: Any,
    steps: int,
    out: dict[Tensor, Any],
    problems: list[Exception],
) -> Tensor | None:
    """Adds one fed value to ``out``, or what is wrong with it to ``problems``.

    Returns:
        The key's tensor, or None when the key names none.
    """
    try:
        tensor = feed_tensor(graph, key)
    except TypeError as e:
        problems.append(e)
        return None
    try:
        value = convert_feed(tensor, value)
    except TypeError as e:
        problems.append(e)
        return tensor
    bad = _shape_problem(tensor, value.shape, steps)
    if bad is not None:
        problems.append(bad)
    out[tensor] = value
    return tensor


def convert_feeds(tensors: Sequence[Tensor], values: Sequence[Any]) -> dict:
    """``values`` converted for ``tensors`` (a callable's positional feeds).

    Shapes are not checked here: see ``check_shapes``.

    Raises:
        TypeError: some values cannot take their tensor's dtype, all named.
    """
    try:
        return {t: convert_feed(t, v) for t, v in zip(tensors, values)}
    except TypeError:
        pass
    problems: list[Exception] = []
    for t, v in zip(tensors, values):
        try:
            convert_feed(t, v)
        except TypeError as e:
            problems.append(e)
    raise feed_error(problems)


def check_shapes(feeds: Mapping[Tensor, Any], steps: int = 1) -> None:
    """Checks converted feeds' shapes against their tensors, for ``steps`` steps.

    Raises:
        ValueError: some shapes do not fit, all named.
    """
    problems = []
    for t, v in feeds.items():
        bad = _shape_problem(t, tuple(np.shape(v)), steps)
        if bad is not None:
            problems.append(bad)
    if problems:
        raise feed_error(problems)


def run_key(feeds: Mapping[Tensor, Any], shapes_only: bool = False) -> tuple:
    """The key of a run's runner among its fetch structure's: feed shapes.

    A static feed (``rules.is_static_feed``) adds its value: each value is
    its own compiled run.
    """
    if not has_static_feeds():  # the usual run: no per-feed lookup
        if shapes_only:
            return tuple([v.shape for v in feeds.values()])
        return tuple([(t, v.shape) for t, v in feeds.items()])
    if shapes_only:
        return tuple([_key_part(t, v, v.shape) for t, v in feeds.items()])
    return tuple([_key_part(t, v, (t, v.shape)) for t, v in feeds.items()])


def _key_part(tensor: Tensor, value: Any, part: Any) -> Any:
    if is_static_feed(tensor):
        return (part, np.asarray(value).tobytes())
    return part
