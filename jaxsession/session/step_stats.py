"""TF1's ``step_stats.proto`` messages, built at import (tensorboardX lacks them).

``RunMetadata.step_stats`` (``session/config.py``) is a ``StepStats``;
traced runs (``session/tracing.py``) fill it with ``NodeExecStats``.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

# Field numbers and types are TF's, so the bytes parse as tensorflow.StepStats;
# a private pool keeps the names clear of a TensorFlow loaded alongside.

_I64, _U32, _STR, _MSG = 3, 13, 9, 11
_MESSAGES = {
    "AllocationRecord": [("alloc_micros", 1, _I64, ""), ("alloc_bytes", 2, _I64, "")],
    "AllocatorMemoryUsed": [
        ("allocator_name", 1, _STR, ""),
        ("total_bytes", 2, _I64, ""),
        ("peak_bytes", 3, _I64, ""),
        ("live_bytes", 4, _I64, ""),
        ("allocation_records", 6, _MSG, "*AllocationRecord"),
        ("allocator_bytes_in_use", 5, _I64, ""),
    ],
    "MemoryStats": [
        ("temp_memory_size", 1, _I64, ""),
        ("persistent_memory_size", 3, _I64, ""),
        ("persistent_tensor_alloc_ids", 5, _I64, "*"),
    ],
    "NodeExecStats": [
        ("node_name", 1, _STR, ""),
        ("all_start_micros", 2, _I64, ""),
        ("op_start_rel_micros", 3, _I64, ""),
        ("op_end_rel_micros", 4, _I64, ""),
        ("all_end_rel_micros", 5, _I64, ""),
        ("memory", 6, _MSG, "*AllocatorMemoryUsed"),
        ("timeline_label", 8, _STR, ""),
        ("scheduled_micros", 9, _I64, ""),
        ("thread_id", 10, _U32, ""),
        ("memory_stats", 12, _MSG, "MemoryStats"),
        ("all_start_nanos", 13, _I64, ""),
        ("op_start_rel_nanos", 14, _I64, ""),
        ("op_end_rel_nanos", 15, _I64, ""),
        ("all_end_rel_nanos", 16, _I64, ""),
        ("scheduled_nanos", 17, _I64, ""),
    ],
    "DeviceStepStats": [
        ("device", 1, _STR, ""),
        ("node_stats", 2, _MSG, "*NodeExecStats"),
        ("thread_names", 3, _MSG, "*DeviceStepStats.ThreadNamesEntry"),
    ],
    "StepStats": [("dev_stats", 1, _MSG, "*DeviceStepStats")],
}


def _build_messages() -> dict[str, type]:
    file = descriptor_pb2.FileDescriptorProto(
        name="jaxsession/step_stats.proto", package="jaxsession", syntax="proto3"
    )
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field, number, kind, ref in fields:
            f = message.field.add(name=field, number=number, type=kind)
            f.label = f.LABEL_REPEATED if ref.startswith("*") else f.LABEL_OPTIONAL
            if kind == _MSG:
                f.type_name = ".jaxsession." + ref.lstrip("*")
        if name == "DeviceStepStats":
            entry = message.nested_type.add(name="ThreadNamesEntry")
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=_U32, label=1)
            entry.field.add(name="value", number=2, type=_STR, label=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"jaxsession.{name}")
        )
        for name in _MESSAGES
    }


_CLASSES = _build_messages()
StepStats = _CLASSES["StepStats"]
NodeExecStats = _CLASSES["NodeExecStats"]
