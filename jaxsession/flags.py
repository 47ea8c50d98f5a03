"""``tf.flags`` / ``tf.app.flags``: command-line flags over absl-py, as TF1.

TF1's flags were absl's flags with two additions kept here: the old keyword
names (``flag_name``, ``default_value``, ``docstring``) are accepted, and
reading a flag from ``FLAGS`` before the flags were parsed parses
``sys.argv`` first.
"""

from __future__ import annotations

import functools as _functools
import logging as _logging
import sys as _sys
from collections.abc import Callable
from typing import Any

from absl import flags as _absl_flags
from absl.flags import (
    DuplicateFlagError as DuplicateFlagError,
    Error as Error,
    FlagValues as FlagValues,
    IllegalFlagValueError as IllegalFlagValueError,
    UnparsedFlagAccessError as UnparsedFlagAccessError,
    UnrecognizedFlagError as UnrecognizedFlagError,
    ValidationError as ValidationError,
    declare_key_flag as declare_key_flag,
    mark_bool_flags_as_mutual_exclusive as mark_bool_flags_as_mutual_exclusive,
    mark_flag_as_required as mark_flag_as_required,
    mark_flags_as_mutual_exclusive as mark_flags_as_mutual_exclusive,
    mark_flags_as_required as mark_flags_as_required,
    multi_flags_validator as multi_flags_validator,
    register_multi_flags_validator as register_multi_flags_validator,
    register_validator as register_validator,
    validator as validator,
)

_RENAMED_ARGUMENTS = {
    "flag_name": "name",
    "default_value": "default",
    "docstring": "help",
}


def _wrap_define_function(define: Callable[..., Any]) -> Callable[..., Any]:
    @_functools.wraps(define)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = [k for k in _RENAMED_ARGUMENTS if k in kwargs]
        for key in old:
            kwargs[_RENAMED_ARGUMENTS[key]] = kwargs.pop(key)
        if old:
            _logging.getLogger("jaxsession").warning(
                "Use of the keyword argument names (flag_name, default_value, "
                "docstring) is deprecated, please use (name, default, help) instead."
            )
        return define(*args, **kwargs)

    return wrapper


class _FlagValuesWrapper:
    """absl's FLAGS, parsing ``sys.argv`` on the first read of a flag (TF1)."""

    def __init__(self, flag_values: FlagValues):
        object.__setattr__(self, "_wrapped", flag_values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (copy, inspect) must not parse argv
            raise AttributeError(name)
        wrapped = object.__getattribute__(self, "_wrapped")
        if not wrapped.is_parsed():
            wrapped(_sys.argv)
        return getattr(wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_wrapped"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_wrapped"), name)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_wrapped"))

    def __getitem__(self, name: str) -> Any:
        return object.__getattribute__(self, "_wrapped")[name]

    def __setitem__(self, name: str, flag: Any) -> None:
        object.__getattribute__(self, "_wrapped")[name] = flag

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_wrapped"))

    def __iter__(self) -> Any:
        return iter(object.__getattribute__(self, "_wrapped"))

    def __contains__(self, name: str) -> bool:
        return name in object.__getattribute__(self, "_wrapped")

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_wrapped"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return object.__getattribute__(self, "_wrapped")(*args, **kwargs)


FLAGS = _FlagValuesWrapper(_absl_flags.FLAGS)

DEFINE = _wrap_define_function(_absl_flags.DEFINE)
DEFINE_alias = _wrap_define_function(_absl_flags.DEFINE_alias)
DEFINE_bool = _wrap_define_function(_absl_flags.DEFINE_bool)
DEFINE_boolean = _wrap_define_function(_absl_flags.DEFINE_boolean)
DEFINE_enum = _wrap_define_function(_absl_flags.DEFINE_enum)
DEFINE_float = _wrap_define_function(_absl_flags.DEFINE_float)
DEFINE_integer = _wrap_define_function(_absl_flags.DEFINE_integer)
DEFINE_list = _wrap_define_function(_absl_flags.DEFINE_list)
DEFINE_multi_float = _wrap_define_function(_absl_flags.DEFINE_multi_float)
DEFINE_multi_integer = _wrap_define_function(_absl_flags.DEFINE_multi_integer)
DEFINE_multi_string = _wrap_define_function(_absl_flags.DEFINE_multi_string)
DEFINE_spaceseplist = _wrap_define_function(_absl_flags.DEFINE_spaceseplist)
DEFINE_string = _wrap_define_function(_absl_flags.DEFINE_string)
