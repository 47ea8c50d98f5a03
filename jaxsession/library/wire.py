"""Protocol-buffer wire encoding by hand, for messages built on a hot path.

Summaries and run metadata are serialized this way instead of through
message objects: a varint, and a length-delimited field.
"""

from __future__ import annotations

_ONE_BYTE = [bytes((i,)) for i in range(0x80)]


def varint(n: int) -> bytes:
    """``n`` (non-negative) as a protobuf varint."""
    # Keys and most lengths take one or two bytes: no loop for those.
    if n < 0x80:
        return _ONE_BYTE[n]
    if n < 0x4000:
        return bytes((n & 0x7F | 0x80, n >> 7))
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """Field ``number`` holding ``payload`` (wire type 2): key, length, payload."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload
