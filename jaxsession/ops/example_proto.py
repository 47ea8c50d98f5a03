"""TF's ``Example`` protocol buffers (``tf.train.Example`` and its parts).

The descriptors of ``tensorflow/core/example/feature.proto`` and
``example.proto`` are built here, in a private descriptor pool (so
TensorFlow's own, imported in the same process, does not clash); the
messages serialize to the bytes TensorFlow's do.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _field(
    message: Any,
    name: str,
    number: int,
    kind: int,
    type_name: str = "",
    repeated: bool = False,
    packed: bool = False,
    oneof: int | None = None,
) -> None:
    field = message.field.add(name=name, number=number, type=kind)
    field.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    if type_name:
        field.type_name = f".tensorflow.{type_name}"
    if packed:
        field.options.packed = True
    if oneof is not None:
        field.oneof_index = oneof


def _map_field(message: Any, name: str, entry: str, value_type: str) -> None:
    nested = message.nested_type.add(name=entry)
    nested.options.map_entry = True
    _field(nested, "key", 1, _F.TYPE_STRING)
    _field(nested, "value", 2, _F.TYPE_MESSAGE, value_type)
    _field(message, name, 1, _F.TYPE_MESSAGE, f"{message.name}.{entry}", repeated=True)


def _feature_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(
        name="tensorflow/core/example/feature.proto",
        package="tensorflow",
        syntax="proto3",
    )
    _field(f.message_type.add(name="BytesList"), "value", 1, _F.TYPE_BYTES, "", True)
    for name, kind in (("FloatList", _F.TYPE_FLOAT), ("Int64List", _F.TYPE_INT64)):
        _field(f.message_type.add(name=name), "value", 1, kind, "", True, True)
    feature = f.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, name in enumerate(("BytesList", "FloatList", "Int64List"), 1):
        field = f"{name[:-4].lower()}_list"
        _field(feature, field, number, _F.TYPE_MESSAGE, name, oneof=0)
    _map_field(
        f.message_type.add(name="Features"), "feature", "FeatureEntry", "Feature"
    )
    feature_list = f.message_type.add(name="FeatureList")
    _field(feature_list, "feature", 1, _F.TYPE_MESSAGE, "Feature", repeated=True)
    _map_field(
        f.message_type.add(name="FeatureLists"),
        "feature_list",
        "FeatureListEntry",
        "FeatureList",
    )
    return f


def _example_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(
        name="tensorflow/core/example/example.proto",
        package="tensorflow",
        syntax="proto3",
        dependency=["tensorflow/core/example/feature.proto"],
    )
    _field(
        f.message_type.add(name="Example"), "features", 1, _F.TYPE_MESSAGE, "Features"
    )
    sequence = f.message_type.add(name="SequenceExample")
    _field(sequence, "context", 1, _F.TYPE_MESSAGE, "Features")
    _field(sequence, "feature_lists", 2, _F.TYPE_MESSAGE, "FeatureLists")
    return f


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_feature_file())
_POOL.Add(_example_file())


def _message(name: str) -> Any:
    return message_factory.GetMessageClass(
        _POOL.FindMessageTypeByName(f"tensorflow.{name}")
    )


BytesList = _message("BytesList")
FloatList = _message("FloatList")
Int64List = _message("Int64List")
Feature = _message("Feature")
Features = _message("Features")
FeatureList = _message("FeatureList")
FeatureLists = _message("FeatureLists")
Example = _message("Example")
SequenceExample = _message("SequenceExample")
