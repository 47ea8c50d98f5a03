"""The hand-written protobuf wire encoding equals protobuf's own."""

import pytest
from google.protobuf.internal import encoder

from jaxsession.library.wire import field, varint


@pytest.mark.parametrize(
    "n", [0, 1, 127, 128, 300, 16383, 16384, 2**21 - 1, 2**21, 2**35, 2**63 - 1]
)
def test_varint_equals_protobufs(n):
    assert varint(n) == encoder._VarintBytes(n)


@pytest.mark.parametrize("size", [0, 5, 127, 128, 20_000])
def test_a_length_delimited_field_is_key_length_payload(size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert field(7, payload) == b"\x3a" + encoder._VarintBytes(size) + payload
