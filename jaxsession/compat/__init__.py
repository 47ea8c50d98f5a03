"""``tf.compat``: ``tf.compat.v1`` (the package itself) and text conversions.

``import jaxsession.compat.v1 as tf`` and ``jaxsession.compat.v1`` give the
``jaxsession`` module itself, so ``tf.compat.v1.X`` is ``tf.X``; the
package's ``__init__`` sets the alias up (this module imports nothing of it).
"""

from typing import Any


def as_bytes(bytes_or_text: Any, encoding: str = "utf-8") -> bytes:
    """``bytes_or_text`` as bytes, text encoded with ``encoding``.

    Raises:
        TypeError: it is neither bytes nor text.
    """
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text: Any, encoding: str = "utf-8") -> str:
    """``bytes_or_text`` as text, bytes decoded with ``encoding``.

    Raises:
        TypeError: it is neither bytes nor text.
    """
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text.decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text


def as_str_any(value: Any) -> str:
    """``value`` as text: bytes decoded, anything else through ``str``."""
    return as_text(value) if isinstance(value, bytes) else str(value)
