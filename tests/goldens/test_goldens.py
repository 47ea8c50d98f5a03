"""jaxsession against goldens written by TensorFlow (tests/goldens/tf_goldens*.json).

Every case of every suite (``cases.py``, ``cases_<area>.py``; see ``catalog.py``) is built with ``jaxsession`` by the same harness that
wrote the goldens with ``tensorflow.compat.v1`` and the two records are
compared aspect by aspect: ``shape``/``dtype`` exactly, ``value`` and ``grad``
within tolerance, ``names`` where the case records them, ``error`` by exception
family. ``differences.py`` documents aspects that differ on purpose (checked
to still differ) and bugs (strict xfail). Regenerate with ``make goldens``.
"""

import numpy as np
import pytest

import jaxsession as tf
from tests.goldens import catalog, differences
from tests.goldens.harness import run_case

CASES = catalog.merged("CASES", [])
GOLDENS = {
    k: v for n in catalog.suite_names() for k, v in catalog.load_goldens(n).items()
}
DIFFERENCES = {**differences.DIFFERENCES, **catalog.merged("DIFFERENCES", {})}
KNOWN_BUGS = {**differences.KNOWN_BUGS, **catalog.merged("KNOWN_BUGS", {})}
UNCOVERED = {**differences.UNCOVERED, **catalog.merged("UNCOVERED", {})}
BY_ID = {c["id"]: c for c in CASES}
ASPECTS = ("shape", "dtype", "value", "grad", "names", "error")

# Exception classes that TF itself uses interchangeably for one kind of
# mistake (a shape error is a ValueError at build time and an
# InvalidArgumentError at run time).
FAMILIES = [
    {"ValueError", "InvalidArgumentError", "OutOfRangeError"},
    {"TypeError"},
    {"LookupError", "KeyError"},
    {"AttributeError"},
    {"NotImplementedError", "UnimplementedError"},
]


def documented_aspects(case_id):
    """The aspects DIFFERENCES says differ for ``case_id``."""
    entry = DIFFERENCES.get(case_id)
    if entry is None:
        return set()
    head = entry.split(":", 1)[0]
    aspects = {a.strip() for a in head.split(",")}
    assert aspects <= set(ASPECTS), f"{case_id}: unknown aspect in {entry!r}"
    return aspects


def same_family(tf_type, got_type):
    """Whether jaxsession's exception type name belongs with TF's."""
    if tf_type == got_type:
        return True
    return any(tf_type in f and got_type in f for f in FAMILIES)


def compare_values(want, got, tol, what):
    """Mismatch messages between two value records."""
    if want is None or got is None:
        return [] if want is None and got is None else [f"{what}: {want!r} vs {got!r}"]
    out = []
    if want["shape"] != got["shape"]:
        out.append(f"{what}: shape {got['shape']} != TF {want['shape']}")
        return out
    if want["dtype"] != got["dtype"]:
        out.append(f"{what}: dtype {got['dtype']} != TF {want['dtype']}")
    w = np.asarray(
        want["data"], dtype=np.float64 if want["dtype"].startswith("float") else None
    )
    g = np.asarray(got["data"], dtype=w.dtype if w.size else None)
    if w.size == 0:
        return out
    if w.dtype.kind == "f":
        rtol, atol = tol
        if not np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
            err = np.max(np.abs(g - w))
            out.append(
                f"{what}: values differ (max abs err {err:.3g}): {got['data'][:6]} vs TF {want['data'][:6]}"
            )
    elif not np.array_equal(g, w):
        out.append(f"{what}: values {got['data'][:8]} != TF {want['data'][:8]}")
    return out


def compare(case, want, got):
    """Mismatches between TF's and jaxsession's record, keyed by aspect."""
    rec = case["rec"]
    tol = case.get("tol", [1e-5, 1e-6])
    bad = {a: [] for a in ASPECTS}
    if "build_error" in want:
        w = want["build_error"]
        g = got.get("build_error")
        if g is None:
            bad["error"].append(
                f"TF raised {w['type']} at build ({w['msg']}); jaxsession built it"
            )
        elif not same_family(w["type"], g["type"]):
            bad["error"].append(
                f"TF raised {w['type']}, jaxsession {g['type']}: {g['msg']}"
            )
        return bad
    if "build_error" in got:
        g = got["build_error"]
        bad["error"].append(f"jaxsession raised {g['type']} at build: {g['msg']}")
        return bad
    wo, go = want["outputs"], got["outputs"]
    if len(wo) != len(go):
        bad["shape"].append(f"{len(go)} outputs, TF has {len(wo)}")
        return bad
    for i, (w, g) in enumerate(zip(wo, go)):
        if "s" in rec and w.get("shape", "op") != g.get("shape", "op"):
            bad["shape"].append(
                f"output {i}: static shape {g.get('shape')} != TF {w.get('shape')}"
            )
        if "s" in rec and w.get("dtype") != g.get("dtype"):
            bad["dtype"].append(
                f"output {i}: dtype {g.get('dtype')} != TF {w.get('dtype')}"
            )
        if "n" in rec and w["name"] != g["name"]:
            bad["names"].append(f"output {i}: name {g['name']!r} != TF {w['name']!r}")
    if "n" in rec:
        if want["var_names"] != got["var_names"]:
            bad["names"].append(
                f"variables {got['var_names']} != TF {want['var_names']}"
            )
        if want.get("extra") != got.get("extra"):
            bad["names"].append(f"{got.get('extra')} != TF {want.get('extra')}")
    for kind, aspect in (("run_error", "value"), ("grad_error", "grad")):
        w, g = want.get(kind), got.get(kind)
        if w and not g:
            bad["error"].append(
                f"TF raised {w['type']} ({kind}: {w['msg']}); jaxsession did not"
            )
        elif g and not w:
            bad[aspect].append(f"jaxsession raised {g['type']} ({kind}): {g['msg']}")
        elif w and g and not same_family(w["type"], g["type"]):
            bad["error"].append(
                f"{kind}: TF raised {w['type']}, jaxsession {g['type']}: {g['msg']}"
            )
    if "v" in rec and "values" in want and "values" in got:
        if len(want["values"]) != len(got["values"]):
            bad["value"].append("number of runs differs")
        for r, (wr, gr) in enumerate(zip(want["values"], got["values"])):
            for i, (w, g) in enumerate(zip(wr, gr)):
                bad["value"].extend(compare_values(w, g, tol, f"run {r} output {i}"))
    if "g" in rec and "grads" in want and "grads" in got:
        for i, (w, g) in enumerate(zip(want["grads"], got["grads"])):
            if (w is None) != (g is None):
                bad["grad"].append(
                    f"grad {i}: {'None' if g is None else 'a tensor'}, TF has {'None' if w is None else 'a tensor'}"
                )
            else:
                bad["grad"].extend(compare_values(w, g, tol, f"grad {i}"))
    elif (
        "g" in rec
        and ("grads" in want) != ("grads" in got)
        and not got.get("grad_error")
    ):
        bad["grad"].append(
            f"gradients: TF {'has' if 'grads' in want else 'has none'}, jaxsession differs"
        )
    return bad


def _params():
    for c in CASES:
        marks = []
        if c["id"] in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c["id"]]))
        yield pytest.param(c["id"], marks=marks, id=c["id"])


@pytest.mark.parametrize("case_id", list(_params()))
def test_case_matches_tensorflow(case_id):
    case = BY_ID[case_id]
    assert case_id in GOLDENS, "no golden: run `make goldens` with TensorFlow"
    got = run_case(tf, case)
    bad = compare(case, GOLDENS[case_id], got)
    skipped = documented_aspects(case_id)
    stale = [a for a in skipped if not bad[a]]
    assert not stale, (
        f"DIFFERENCES[{case_id!r}] documents {stale} but they now agree: remove it"
    )
    problems = [m for a in ASPECTS if a not in skipped for m in bad[a]]
    assert not problems, "\n".join(problems)


def test_goldens_are_current():
    """Every case has a golden and every golden a case (else rerun `make goldens`)."""
    assert sorted(GOLDENS) == sorted(BY_ID)


def test_difference_entries_name_cases():
    for table in (DIFFERENCES, KNOWN_BUGS):
        unknown = sorted(set(table) - set(BY_ID))
        assert not unknown, unknown
    for case_id in DIFFERENCES:
        documented_aspects(case_id)


# --------------------------------------------------------------------------
# Coverage: every public op-like callable has a case or a reason.

NAMESPACES = ["", "nn", "layers", "losses", "metrics", "train", "math", "random"]
NAMESPACES += [n for n in catalog.merged("NAMESPACES", []) if n not in NAMESPACES]

# The filter: modules, non-callables and classes are not ops, except
# optimizer classes (``*Optimizer``, ``ExponentialMovingAverage``) and
# initializer classes (``*_initializer``). Graph, session, collection, scope,
# variable-management, input-pipeline, checkpoint and hook utilities below are
# not ops either; they are tested elsewhere in the suite.
UTILITIES = {
    "AUTO_REUSE",
    "FIFOQueue",
    "FixedLengthRecordReader",
    "IdentityReader",
    "PaddingFIFOQueue",
    "PriorityQueue",
    "RandomShuffleQueue",
    "TFRecordReader",
    "TextLineReader",
    "WholeFileReader",
    "add_to_collection",
    "add_to_collections",
    "all_variables",
    "as_dtype",
    "assert_variables_initialized",
    "colocate_with",
    "control_dependencies",
    "device",
    "get_collection",
    "get_collection_ref",
    "get_default_graph",
    "get_default_session",
    "get_variable_scope",
    "global_variables",
    "global_variables_initializer",
    "initialize_all_variables",
    "initialize_all_tables",
    "initialize_local_variables",
    "initialize_variables",
    "tables_initializer",
    "is_variable_initialized",
    "jax_op",
    "local_variables",
    "local_variables_initializer",
    "model_variables",
    "moving_average_variables",
    "name_scope",
    "report_uninitialized_variables",
    "reset_default_graph",
    "set_random_seed",
    "trainable_variables",
    "variable_scope",
    "variables_initializer",
    "with_dependencies",
    # tf.losses collection helpers (exercised by the losses.collection case)
    "add_loss",
    "get_losses",
    "get_regularization_loss",
    "get_regularization_losses",
    # tf.train: sessions, hooks, input pipelines, checkpoints, cluster set-up
    "MonitoredTrainingSession",
    "QueueRunner",
    "add_queue_runner",
    "assert_global_step",
    "batch",
    "batch_join",
    "checkpoint_exists",
    "create_global_step",
    "generate_checkpoint_state_proto",
    "get_checkpoint_mtimes",
    "get_checkpoint_state",
    "get_global_step",
    "global_step",
    "init_from_checkpoint",
    "input_producer",
    "latest_checkpoint",
    "limit_epochs",
    "list_variables",
    "load_variable",
    "maybe_batch",
    "maybe_shuffle_batch",
    "range_input_producer",
    "replica_device_setter",
    "set_data_parallel",
    "set_mesh_shape",
    "shuffle_batch",
    "shuffle_batch_join",
    "slice_input_producer",
    "start_queue_runners",
    "string_input_producer",
    "summary_iterator",
    "update_checkpoint_state",
    "write_graph",
} | catalog.merged("UTILITIES", set())


def _is_op_like(name, obj):
    if isinstance(obj, type):
        return (
            name.endswith(("Optimizer", "_initializer"))
            or name == "ExponentialMovingAverage"
        )
    return callable(obj) and not isinstance(obj, type(np)) and name not in UTILITIES


def public_ops():
    """``{qualified name: object}`` of the public op-like callables."""
    out = {}
    for ns in NAMESPACES:
        mod = tf if not ns else getattr(tf, ns)
        for name in dir(mod):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name)
            if _is_op_like(name, obj):
                out[f"{ns}.{name}" if ns else name] = obj
    return out


def covered_objects():
    """The objects some case calls (aliases count by identity)."""
    objs = []
    for c in CASES:
        if c["fn"].startswith("Tensor."):
            continue
        obj = tf
        try:
            for part in c["fn"].split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        objs.append(obj)
    return objs


def test_every_public_op_has_a_case_or_a_reason():
    covered = covered_objects()
    missing = []
    for name, obj in sorted(public_ops().items()):
        if any(obj is o for o in covered) or name in UNCOVERED:
            continue
        missing.append(name)
    assert not missing, (
        f"public ops with no golden case and no UNCOVERED reason: {missing}"
    )


def test_uncovered_entries_are_current():
    ops = public_ops()
    covered = covered_objects()
    stale = [n for n in UNCOVERED if n not in ops or any(ops[n] is o for o in covered)]
    assert not stale, f"UNCOVERED entries that are covered or gone: {stale}"
