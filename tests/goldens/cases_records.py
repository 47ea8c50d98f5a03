"""Golden cases of records and parsing: Example parsing, raw bytes, base64, files.

Examples are built by the builder with the ``tf`` module under test
(``tf.train.Example``, serialized deterministically), from feature
descriptions that are plain data here. A ``VarLenFeature`` parses to a
SparseTensor in TF and to a dense Tensor here; the ``parse`` builder
densifies TF's (``tf.sparse_tensor_to_dense``), so values compare directly.
"""

import tempfile

from tests.goldens.cases import L, case_adder

CASES = []
case = case_adder(CASES)

NAMESPACES = ["io", "python_io"]
UTILITIES = {
    "FixedLenFeature",
    "FixedLenSequenceFeature",
    "VarLenFeature",
    "TFRecordWriter",
    "TFRecordOptions",
    "TFRecordCompressionType",
    "tf_record_iterator",
    "match_filenames_once",
}

_VAR_WIDTH = (
    "shape: a VarLenFeature's width is unknown while building here; TF's "
    "densified SparseTensor knows it when the examples are constants"
)
DIFFERENCES = {
    "parse_single_example/fixed_and_var": _VAR_WIDTH,
    "parse_example/batch": _VAR_WIDTH,
    "parse_example/batch_of_var": _VAR_WIDTH,
    "parse_single_sequence_example/steps": _VAR_WIDTH,
}

# Examples as data: feature key -> (list kind, values).
EX_A = {
    "label": ("int64", [3]),
    "weights": ("float", [0.5, -1.25]),
    "name": ("bytes", [b"cat"]),
    "tags": ("int64", [4, 5, 6]),
}
EX_B = {
    "label": ("int64", [7]),
    "weights": ("float", [2.0, 0.0]),
    "name": ("bytes", [b"dog"]),
}
EX_C = {
    "label": ("int64", [-1]),
    "weights": ("float", [1.0, 1.0]),
    "tags": ("int64", [9]),
}

# Feature specs as data: key -> ("fixed", shape, dtype[, default]),
# ("seq", shape, dtype, padding) or ("var", dtype).
SPECS = {
    "label": ("fixed", [], "int64"),
    "weights": ("fixed", [2], "float32"),
    "name": ("fixed", [], "string", b"none"),
    "tags": ("var", "int64"),
    "height": ("fixed", [1, 2], "float32", [[3.0, 4.0]]),
}


def _example(tf, description):
    feature = {}
    for key, (kind, values) in description.items():
        cls = {"int64": tf.train.Int64List, "float": tf.train.FloatList}.get(
            kind, tf.train.BytesList
        )
        feature[key] = tf.train.Feature(**{f"{kind}_list": cls(value=values)})
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)


def _features(tf, specs):
    out = {}
    for key, spec in specs.items():
        dtype = getattr(tf, spec[-1] if spec[0] == "var" else spec[2])
        if spec[0] == "var":
            out[key] = tf.VarLenFeature(dtype)
        elif spec[0] == "seq":
            out[key] = tf.io.FixedLenSequenceFeature(
                spec[1], dtype, allow_missing=True, default_value=spec[3]
            )
        else:
            default = spec[3] if len(spec) > 3 else None
            out[key] = tf.FixedLenFeature(spec[1], dtype, default_value=default)
    return out


def _dense(tf, parsed):
    return {
        k: tf.sparse_tensor_to_dense(v) if hasattr(v, "indices") else v
        for k, v in sorted(parsed.items())
    }


def build_parse(tf, case, ctx):
    """``fn(serialized, features)``: one Example, or a vector of them when batched."""
    serialized = [_example(tf, d) for d in case["examples"]]
    if not case.get("batched"):
        serialized = serialized[0]
    if case.get("fed"):
        shape = [None] if case.get("batched") else []
        ph = tf.placeholder(tf.string, shape, name="serialized")
        ctx.feed[ph] = serialized
        serialized = ph
    fn = (
        getattr(tf, case["fn"])
        if "." not in case["fn"]
        else getattr(tf.io, case["fn"][3:])
    )
    outs = list(_dense(tf, fn(serialized, _features(tf, case["specs"]))).values())
    return outs, [(outs, ctx.feed)], outs


def build_read_file(tf, case, ctx):
    """``read_file`` of a temporary file holding ``case["contents"]``."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(case["contents"])
    outs = [tf.read_file(f.name), tf.io.read_file(tf.constant(f.name))]
    return outs, [(outs, ctx.feed)], outs


def build_parse_sequence(tf, case, ctx):
    """``parse_single_sequence_example`` of a SequenceExample described as data."""
    example = tf.train.SequenceExample()
    for key, (kind, values) in case["context"].items():
        getattr(example.context.feature[key], f"{kind}_list").value.extend(values)
    for key, (kind, steps) in case["lists"].items():
        feature_list = example.feature_lists.feature_list[key]
        for values in steps:
            getattr(feature_list.feature.add(), f"{kind}_list").value.extend(values)
    context, sequences = tf.parse_single_sequence_example(
        example.SerializeToString(deterministic=True),
        context_features=_features(tf, case["specs"]),
        sequence_features=_features(tf, case["sequence_specs"]),
    )
    outs = list(_dense(tf, context).values()) + list(_dense(tf, sequences).values())
    return outs, [(outs, ctx.feed)], outs


BUILDERS = {
    "parse": build_parse,
    "parse_sequence": build_parse_sequence,
    "read_file": build_read_file,
}

# -- Example parsing ---------------------------------------------------------------

for fed in (False, True):
    tag = "/fed" if fed else ""
    case(
        f"parse_single_example/fixed_and_var{tag}",
        "parse_single_example",
        kind="parse",
        rec="sv",
        examples=[EX_A],
        specs=SPECS,
        fed=fed,
    )
    case(
        f"parse_example/batch{tag}",
        "parse_example",
        kind="parse",
        rec="sv",
        examples=[EX_A, EX_B, EX_C],
        specs={k: v for k, v in SPECS.items() if k != "name"},
        batched=True,
        fed=fed,
    )
case(
    "parse_single_example/defaults",
    "io.parse_single_example",
    kind="parse",
    rec="sv",
    examples=[EX_C],
    specs={
        "name": ("fixed", [], "string", b"none"),
        "height": ("fixed", [1, 2], "float32", [[3.0, 4.0]]),
        "label": ("fixed", [1], "int64"),
    },
)
case(
    "parse_single_example/missing_required",
    "parse_single_example",
    kind="parse",
    rec="sv",
    examples=[EX_B],
    specs={"tags_fixed": ("fixed", [], "int64")},
)
case(
    "parse_single_example/wrong_type",
    "parse_single_example",
    kind="parse",
    rec="sv",
    examples=[EX_B],
    specs={"label": ("fixed", [], "float32")},
)
case(
    "parse_single_example/wrong_size",
    "parse_single_example",
    kind="parse",
    rec="sv",
    examples=[EX_B],
    specs={"weights": ("fixed", [3], "float32")},
)
case(
    "parse_example/batch_of_var",
    "io.parse_example",
    kind="parse",
    rec="sv",
    examples=[EX_C, EX_A, EX_B],
    specs={"tags": ("var", "int64")},
    batched=True,
)

# -- raw bytes, base64, files -------------------------------------------------------

RAW = [b"\x01\x02\x03\x04\x05\x06\x07\x08", b"\xff\x00\x10\x20\x00\x00\x80\x3f"]
for out_type in ("uint8", "int16", "int32", "float32", "int64", "float64"):
    case(f"decode_raw/{out_type}", "decode_raw", L(RAW), L(out_type), rec="sv")
case("decode_raw/big_endian", "io.decode_raw", L(RAW), L("int16"), L(False), rec="sv")
case("decode_raw/scalar", "decode_raw", L(RAW[1]), L("uint8"), rec="sv")
case(
    "decode_raw/unequal_sizes",
    "decode_raw",
    L([b"\x01\x02", b"\x01"]),
    L("uint8"),
    rec="sv",
)
case(
    "decode_raw/not_a_multiple",
    "decode_raw",
    L([b"\x01\x02\x03"]),
    L("int16"),
    rec="sv",
)

TEXTS = [b"", b"f", b"fo", b"foo", b"\xfb\xff\xfe?>", b"hello, world"]
case("encode_base64/plain", "encode_base64", L(TEXTS), rec="sv")
case("encode_base64/pad", "io.encode_base64", L(TEXTS), L(True), rec="sv")
case(
    "decode_base64/unpadded",
    "decode_base64",
    L([b"Zm9v", b"-_-_", b"aGVsbG8"]),
    rec="sv",
)
case("decode_base64/padded", "io.decode_base64", L([[b"Zm8=", b"Zg=="]]), rec="sv")
case("read_file/bytes", "read_file", kind="read_file", rec="sv", contents=b"\x00a\nb!")

# -- CSV ------------------------------------------------------------------------------

CSV = [b'1,2.5,"a,b"', b",,x", b"-3,1e3,"]
DEFAULTS = [[7], [0.5], ["d"]]
case("decode_csv/defaults", "decode_csv", L(CSV), L(DEFAULTS), rec="sv")
case("decode_csv/matrix", "io.decode_csv", L([CSV[:2], CSV[1:]]), L(DEFAULTS), rec="sv")
case("decode_csv/delim", "decode_csv", L(b"3|x"), L([[1], [""]]), L("|"), rec="sv")
case(
    "decode_csv/na_value",
    "decode_csv",
    L([b"NA,2"]),
    L([[1.0], [2]]),
    kw={"na_value": "NA"},
    rec="sv",
)
case(
    "decode_csv/select_cols",
    "decode_csv",
    L([b"1,2,3"]),
    L([[1.0], [3]]),
    kw={"select_cols": [0, 2]},
    rec="sv",
)
case(
    "decode_csv/too_few_fields", "decode_csv", L([b"1,2"]), L([[1], [1], [1]]), rec="sv"
)
case("decode_csv/not_a_number", "decode_csv", L([b"a,1"]), L([[1], [1]]), rec="sv")
case(
    "decode_csv/unquoted",
    "decode_csv",
    L([b'"a,b']),
    L([[""], [""]]),
    L(","),
    L(False),
    rec="sv",
)

SEQ = {"s": ("float", [1.0, 2.0, 3.0, 4.0])}
for batched in (False, True):
    case(
        f"parse/fixed_len_sequence{'/batched' if batched else ''}",
        "io.parse_example" if batched else "io.parse_single_example",
        kind="parse",
        rec="sv",
        examples=[SEQ, {"s": ("float", [5.0, 6.0])}, {}] if batched else [SEQ],
        specs={"s": ("seq", [2], "float32", -1.0)},
        batched=batched,
    )

case(
    "parse_single_sequence_example/steps",
    "parse_single_sequence_example",
    kind="parse_sequence",
    rec="sv",
    context={"len": ("int64", [3])},
    lists={
        "tok": ("float", [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        "ids": ("int64", [[1], [2, 3], []]),
    },
    specs={"len": ("fixed", [], "int64"), "miss": ("fixed", [], "float32", 1.5)},
    sequence_specs={
        "tok": ("seq", [2], "float32", None),
        "ids": ("var", "int64"),
        "none": ("seq", [], "int64", None),
    },
)
