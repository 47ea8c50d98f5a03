"""Reads TensorBoard event files back (TFRecord framing: length, crc, data, crc)."""

import struct
from pathlib import Path

from tensorboardX.proto.event_pb2 import Event
from tensorboardX.record_writer import masked_crc32c


def read_records(path):
    """The payloads of one TFRecord file, with both checksums verified."""
    data = Path(path).read_bytes()
    records, pos = [], 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        assert header_crc == masked_crc32c(header), f"bad length crc in {path}"
        payload = data[pos + 12 : pos + 12 + length]
        (payload_crc,) = struct.unpack(
            "<I", data[pos + 12 + length : pos + 16 + length]
        )
        assert payload_crc == masked_crc32c(payload), f"bad data crc in {path}"
        records.append(payload)
        pos += 16 + length
    return records


def event_files(logdir):
    """The event files of ``logdir``, oldest name first."""
    return sorted(Path(logdir).glob("events.out.tfevents.*"))


def read_events(logdir):
    """Every Event of every event file in ``logdir``, file by file."""
    return [Event.FromString(r) for f in event_files(logdir) for r in read_records(f)]


def scalars(logdir, tag=None):
    """``[(step, tag, simple_value)]`` of the scalar summaries in ``logdir``."""
    out = []
    for event in read_events(logdir):
        for value in event.summary.value:
            if value.HasField("simple_value") and tag in (None, value.tag):
                out.append((event.step, value.tag, value.simple_value))
    return out
