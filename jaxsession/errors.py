"""TF1's error classes (``tf.errors``) and the message builders they share.

Every message that names a shape, a list of culprits or an op's creation
site is built here, so the same thing reads the same everywhere:

* ``format_shape``: a shape as TF1's Python layer prints a ``TensorShape``,
  ``(?, 10)`` (feeds, variables, checkpoints, tensor reprs).
* ``format_dims``: a shape as TF1's C++ shape functions print it, ``[?,10]``,
  used only inside ``op_shape_error`` so that build errors read as TF1's do.
* ``format_list``: culprits, capped at ``MAX_LISTED`` then "and N more".
* ``op_site``: ``<Operation 'loss/Mean' type=Mean> created at train.py:42``.
* ``op_shape_error`` (build time) and ``lowering_error`` (run time).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from typing import Any

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """A failure while running a graph, as TF1's ``tf.errors.OpError``.

    Args:
        node_def: Unused; kept for TF1 signature compatibility.
        op: The Operation that failed, or None.
        message: The error message.
        error_code: One of the integer codes of this module.
    """

    def __init__(self, node_def: Any, op: Any, message: str, error_code: int):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.node_def, self.op, self.message))


def _subclass(name: str, code: int, doc: str) -> type[OpError]:
    def __init__(self, node_def: Any, op: Any, message: str, *args: Any) -> None:
        OpError.__init__(self, node_def, op, message, code)

    return type(name, (OpError,), {"__init__": __init__, "__doc__": doc})


CancelledError = _subclass("CancelledError", CANCELLED, "An operation was cancelled.")
UnknownError = _subclass("UnknownError", UNKNOWN, "An unknown error.")
InvalidArgumentError = _subclass(
    "InvalidArgumentError", INVALID_ARGUMENT, "An operation got an invalid argument."
)
DeadlineExceededError = _subclass(
    "DeadlineExceededError", DEADLINE_EXCEEDED, "A deadline expired."
)
NotFoundError = _subclass("NotFoundError", NOT_FOUND, "A requested entity was missing.")
AlreadyExistsError = _subclass(
    "AlreadyExistsError", ALREADY_EXISTS, "An entity already exists."
)
PermissionDeniedError = _subclass(
    "PermissionDeniedError", PERMISSION_DENIED, "The caller lacks permission."
)
ResourceExhaustedError = _subclass(
    "ResourceExhaustedError", RESOURCE_EXHAUSTED, "Some resource is exhausted."
)
FailedPreconditionError = _subclass(
    "FailedPreconditionError",
    FAILED_PRECONDITION,
    "The system is not in a state to run the operation (e.g. uninitialized variable).",
)
AbortedError = _subclass("AbortedError", ABORTED, "The operation was aborted.")
OutOfRangeError = _subclass(
    "OutOfRangeError",
    OUT_OF_RANGE,
    "Iteration went past the valid range (end of data).",
)
UnimplementedError = _subclass(
    "UnimplementedError", UNIMPLEMENTED, "The operation is not implemented."
)
InternalError = _subclass("InternalError", INTERNAL, "An internal invariant broke.")
UnavailableError = _subclass(
    "UnavailableError", UNAVAILABLE, "The runtime is currently unavailable."
)
DataLossError = _subclass("DataLossError", DATA_LOSS, "Unrecoverable data loss.")
UnauthenticatedError = _subclass(
    "UnauthenticatedError", UNAUTHENTICATED, "The request lacks credentials."
)

MAX_LISTED = 5


def format_list(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    """Joins ``items`` with commas, capped at ``limit`` then "and N more"."""
    items = list(items)
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f", and {len(items) - limit} more"
    return shown


def format_shape(shape: Sequence[int | None] | None) -> str:
    """Formats a shape TF1-style: ``(?, 10)``; None is an unknown rank."""
    if shape is None:
        return "<unknown>"
    dims = ["?" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def format_dims(shape: Sequence[int | None] | None) -> str:
    """Formats a shape as TF1's shape functions do: ``[?,10]``; ``?`` if unknown."""
    if shape is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _static_shape(x: Any) -> Sequence[int | None] | None:
    """A Tensor's or Variable's static shape as a tuple; a shape as it is."""
    shape = getattr(x, "shape", x)
    return shape.as_tuple() if hasattr(shape, "as_tuple") else shape


def op_site(op: Any) -> str:
    """An op and where user code created it: ``<Operation ...> created at f.py:3``."""
    source = getattr(op, "source", None)
    return f"{op!r} created at {source}" if source else repr(op)


def op_shape_error(
    op_type: str, name: str, inputs: Sequence[Any], reason: str
) -> ValueError:
    """The build-time error of an op whose inputs do not fit, worded as TF1's.

    Args:
        op_type: The op's type (``"MatMul"``).
        name: The op's name, or the name it would have had.
        inputs: Each input: a Tensor or Variable, or its static shape (a
            sequence of ints and None; None for an unknown rank).
        reason: Why they do not fit, without a final period.

    Returns:
        ``ValueError("<reason> for '<name>' (op: '<type>') with input shapes:
        [?,2], [3,4].")``.
    """
    shapes = ", ".join(format_dims(_static_shape(x)) for x in inputs)
    return ValueError(
        f"{reason} for '{name}' (op: '{op_type}') with input shapes: {shapes}."
    )


def lowering_error(op: Any, err: BaseException) -> OpError:
    """The run-time error of an op whose lowering failed, naming op and site."""
    first = str(err).split("\n")[0]
    return InvalidArgumentError(
        None, op, f"while lowering {op_site(op)}: {type(err).__name__}: {first}"
    )


# -- failures of the system below: files, storage, the runtime ------------------------

# errno -> TF1's code, as TF's C++ file systems map them.
_ERRNO_CODES = {
    INVALID_ARGUMENT: ("EINVAL", "ENAMETOOLONG", "E2BIG", "EFAULT", "ESPIPE"),
    DEADLINE_EXCEEDED: ("ETIMEDOUT", "ETIME"),
    NOT_FOUND: ("ENOENT", "ENODEV", "ENXIO", "ESRCH"),
    ALREADY_EXISTS: ("EEXIST",),
    PERMISSION_DENIED: ("EPERM", "EACCES", "EROFS"),
    FAILED_PRECONDITION: ("ENOTEMPTY", "EISDIR", "ENOTDIR", "EBADF", "EBUSY"),
    RESOURCE_EXHAUSTED: ("ENOSPC", "EDQUOT", "EMFILE", "ENFILE", "ENOMEM", "EFBIG"),
    UNIMPLEMENTED: ("ENOSYS", "ENOTSUP", "EXDEV"),
    UNAVAILABLE: ("EAGAIN", "ECONNREFUSED", "ECONNRESET", "EINTR", "EHOSTUNREACH"),
    ABORTED: ("EDEADLK", "ESTALE"),
    CANCELLED: ("ECANCELED",),
}

# The status names (absl, TensorStore, XLA) that open a runtime error's text.
_STATUS_CODES = {
    "CANCELLED": CANCELLED,
    "INVALID_ARGUMENT": INVALID_ARGUMENT,
    "DEADLINE_EXCEEDED": DEADLINE_EXCEEDED,
    "NOT_FOUND": NOT_FOUND,
    "ALREADY_EXISTS": ALREADY_EXISTS,
    "PERMISSION_DENIED": PERMISSION_DENIED,
    "RESOURCE_EXHAUSTED": RESOURCE_EXHAUSTED,
    "FAILED_PRECONDITION": FAILED_PRECONDITION,
    "ABORTED": ABORTED,
    "OUT_OF_RANGE": OUT_OF_RANGE,
    "UNIMPLEMENTED": UNIMPLEMENTED,
    "UNAVAILABLE": UNAVAILABLE,
    "DATA_LOSS": DATA_LOSS,
}


def exception_type_from_error_code(error_code: int) -> type[OpError]:
    """TF1's error class for ``error_code`` (``tf.errors.exception_type_from_error_code``).

    Raises:
        KeyError: not a code of an error class.
    """
    return _CLASSES[error_code]


def error_code_from_exception_type(cls: type[OpError]) -> int:
    """The code of TF1's error class ``cls`` (``tf.errors.error_code_from_exception_type``).

    Raises:
        KeyError: not one of the error classes.
    """
    return {c: code for code, c in _CLASSES.items()}[cls]


def code_of(error: BaseException) -> int | None:
    """TF1's code for a failure of the system below; None if it names none.

    An ``OSError`` by its errno (as TF's file systems map them), any other
    error by the status name its text opens with (``RESOURCE_EXHAUSTED: ...``,
    as TensorStore's ``ValueError`` and XLA's ``JaxRuntimeError`` have it).
    """
    if isinstance(error, OSError) and error.errno is not None:
        for code, names in _ERRNO_CODES.items():
            if error.errno in {getattr(errno, n, None) for n in names}:
                return code
        return None
    head = str(error).lstrip().split(":", 1)[0]
    return _STATUS_CODES.get(head)


def translated(error: BaseException, what: str) -> BaseException:
    """``error`` as TF1's error class for it, its cause attached; else ``error``.

    Args:
        error: A failure of the system below (file, storage, runtime).
        what: What failed, opening the message ("Saving checkpoint P failed").

    Returns:
        An ``OpError`` whose ``__cause__`` is ``error`` and whose message is
        ``what: <error's first line>``; ``error`` itself when it is already
        an ``OpError`` or names no code.
    """
    code = None if isinstance(error, OpError) else code_of(error)
    if code is None:
        return error
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    out = _CLASSES[code](None, None, f"{what}: {first}")
    out.__cause__ = error
    return out


_CLASSES: dict[int, type[OpError]] = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
    UNAUTHENTICATED: UnauthenticatedError,
}
