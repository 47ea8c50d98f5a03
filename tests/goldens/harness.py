"""Builds and runs one case of ``cases.py`` with a given ``tf`` module.

The same code runs on ``tensorflow.compat.v1`` (to write the goldens) and on
``jaxsession`` (to check them): it only touches the public TF1 API, passed in
as ``tf``. A case becomes a *record*, a JSON-able dict:

* ``outputs``: per output, ``shape`` (list with None dims, or None for unknown
  rank), ``dtype`` and ``name``;
* ``values``: per run, per fetched output, ``{"shape", "dtype", "data"}`` or
  None (an op);
* ``grads``: per float placeholder, the gradient value or None;
* ``var_names``: sorted names of the global and local variables;
* ``build_error`` / ``run_error`` / ``grad_error``: ``{"type", "msg"}``.
"""

import numpy as np

from tests.goldens.cases import feed_value

FLOATS = ("float16", "bfloat16", "float32", "float64")


def resolve_name(tf, path):
    """``"nn.relu"`` -> ``tf.nn.relu``."""
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def error_record(e):
    """The class name and first message line of an exception."""
    msg = str(e).strip().splitlines()
    return {"type": type(e).__name__, "msg": msg[0][:200] if msg else ""}


def _round(x):
    return float(f"{x:.7g}")


def value_record(v):
    """A fetched value as ``{"shape", "dtype", "data"}`` (data flat, rounded)."""
    if v is None:
        return None
    a = np.asarray(v)
    if a.dtype.kind == "f":
        data = [_round(x) for x in a.astype(np.float64).ravel()]
    elif a.dtype.kind == "b":
        data = [bool(x) for x in a.ravel()]
    elif a.dtype.kind in "iu":
        data = [int(x) for x in a.ravel()]
    else:
        data = [str(x) for x in a.ravel()]
    return {"shape": list(a.shape), "dtype": a.dtype.name, "data": data}


def _dtype_name(t):
    dt = t.dtype
    dt = getattr(dt, "base_dtype", dt)
    return dt.name


def static_record(t):
    """Static shape, dtype and name of a tensor (or the name of an operation)."""
    if not hasattr(t, "dtype"):
        return {"name": t.name}
    shape = t.shape
    dims = None if shape.ndims is None else shape.as_list()
    return {"shape": dims, "dtype": _dtype_name(t), "name": t.name}


def flatten(x):
    """The tensors (and operations) of a nested output, in order."""
    if isinstance(x, list | tuple):
        out = []
        for y in x:
            out.extend(flatten(y))
        return out
    if isinstance(x, dict):
        return flatten([x[k] for k in sorted(x)])
    if x is None:
        return []
    return [x]


class Ctx:
    """Turns input specs into placeholders, literals and their feeds."""

    def __init__(self, tf, case):
        self.tf = tf
        self.case = case
        self.feed = {}
        self.float_phs = []

    def resolve(self, spec, path):
        tf = self.tf
        if isinstance(spec, dict):
            if "ph" in spec:
                shape = spec["shape"]
                dtype = resolve_name(tf, spec["ph"])
                ph = tf.placeholder(dtype, shape=shape, name=f"in_{path}")
                self.feed[ph] = feed_value(self.case["id"], path, spec)
                if spec["ph"] in FLOATS:
                    self.float_phs.append(ph)
                return ph
            if "lit" in spec:
                return spec["lit"]
            if "attr" in spec:
                obj = resolve_name(tf, spec["attr"])
                if spec["call"]:
                    args = [
                        self.resolve(a, f"{path}_{i}")
                        for i, a in enumerate(spec["args"])
                    ]
                    kw = {
                        k: self.resolve(v, f"{path}_{k}") for k, v in spec["kw"].items()
                    }
                    obj = obj(*args, **kw)
                return obj
            if "list" in spec:
                return [
                    self.resolve(s, f"{path}_{i}") for i, s in enumerate(spec["list"])
                ]
            if "index" in spec:
                key = []
                for item in spec["index"]:
                    if isinstance(item, list):
                        key.append(slice(*item))
                    elif item == "...":
                        key.append(Ellipsis)
                    elif item == "new":
                        key.append(None)
                    else:
                        key.append(item)
                return tuple(key)
            if "l2reg" in spec:
                scale = spec["l2reg"]
                return lambda w: tf.multiply(
                    scale, tf.nn.l2_loss(w), name="l2_regularizer"
                )
            if "var" in spec:
                dtype = resolve_name(tf, spec["dtype"])
                return tf.Variable(
                    np.asarray(spec["var"], dtype=spec["dtype"]), dtype=dtype, name="v"
                )
        return spec

    def args(self):
        c = self.case
        args = [self.resolve(a, str(i)) for i, a in enumerate(c["args"])]
        kw = {k: self.resolve(v, k) for k, v in c["kw"].items()}
        return args, kw


def _call(tf, case, ctx):
    args, kw = ctx.args()
    fn = case["fn"]
    if fn.startswith("Tensor."):
        return getattr(args[0], fn.split(".", 1)[1])(*args[1:], **kw)
    return resolve_name(tf, fn)(*args, **kw)


# Builders: (tf, case, ctx) -> (outputs, runs, grad_outputs); runs is a list of
# (fetches, feed) executed in order after the variable initializers.


def build_op(tf, case, ctx):
    outs = []
    for _ in range(case.get("repeat", 1)):
        outs.extend(flatten(_call(tf, case, ctx)))
    runs = [(outs, ctx.feed)] * case.get("steps", 1)
    return outs, runs, outs


def build_factory(tf, case, ctx):
    kw = {k: ctx.resolve(v, k) for k, v in case["kw"].items()}
    fn = resolve_name(tf, case["fn"])(**kw)
    args = [ctx.resolve(a, str(i)) for i, a in enumerate(case["args"])]
    outs = flatten(fn(*args))
    return outs, [(outs, ctx.feed)], outs


def build_cond(tf, case, ctx):
    (pred, x), _ = ctx.args()
    out = tf.cond(pred, lambda: x * 2.0, lambda: tf.square(x) - 1.0)
    return [out], [([out], ctx.feed)], [out]


def build_while(tf, case, ctx):
    (x,), _ = ctx.args()
    outs = tf.while_loop(
        lambda i, a: i < 3, lambda i, a: (i + 1, a * 2.0 + 1.0), [tf.constant(0), x]
    )
    outs = flatten(outs)
    return outs, [(outs, ctx.feed)], outs


def build_case(tf, case, ctx):
    (i, x), _ = ctx.args()
    out = tf.case(
        [(tf.equal(i, 0), lambda: x * 1.0), (tf.equal(i, 1), lambda: x * 2.0)],
        default=lambda: x * 3.0,
    )
    return [out], [([out], ctx.feed)], [out]


def build_switch_case(tf, case, ctx):
    (i, x), _ = ctx.args()
    out = tf.switch_case(i, [lambda: x * 1.0, lambda: x * 2.0, lambda: x * 3.0])
    return [out], [([out], ctx.feed)], [out]


def build_grad_stop(tf, case, ctx):
    (x,), _ = ctx.args()
    y = tf.reduce_sum(x * tf.stop_gradient(x * 3.0) + tf.square(x))
    g = tf.gradients(y, [x])
    g2 = tf.gradients(y, [x], stop_gradients=[x])
    g3 = tf.gradients(y, [x], grad_ys=tf.constant(2.0))
    outs = g + g2 + g3
    return outs, [(outs, ctx.feed)], []


def build_grad_unconnected(tf, case, ctx):
    (x, z), _ = ctx.args()
    y = tf.reduce_sum(x * 2.0)
    g = tf.gradients(y, [x, z])
    g0 = tf.gradients(y, [z], unconnected_gradients="zero")
    outs = [t for t in g + g0 if t is not None]
    extra = {"none": [t is None for t in g + g0]}
    return outs, [(outs, ctx.feed)], [], extra


def build_hessians(tf, case, ctx):
    (x,), _ = ctx.args()
    outs = tf.hessians(tf.reduce_sum(x * x * x), x)
    return outs, [(outs, ctx.feed)], []


def build_get_variable(tf, case, ctx):
    with tf.variable_scope("scope"):
        v = tf.get_variable("w", shape=[2], initializer=tf.ones_initializer())
    with tf.variable_scope("scope", reuse=True):
        v2 = tf.get_variable("w")
    with tf.variable_scope("scope", reuse=tf.AUTO_REUSE):
        v3 = tf.get_variable(
            "u", shape=[1], dtype=tf.int32, initializer=tf.zeros_initializer()
        )
    outs = [v, v2, v3]
    return outs, [(outs, {})], []


def build_name_scopes(tf, case, ctx):
    (x,), _ = ctx.args()
    init = tf.constant_initializer(0.2)
    with tf.name_scope("outer"):
        a = tf.nn.relu(x)
        with tf.variable_scope("vs", initializer=init):
            b = tf.layers.dense(a, 2)
            w = tf.get_variable("w", shape=[3])
            c = tf.identity(x * w, name="prod")
    with tf.name_scope("outer"):
        d = tf.identity(a, name="again")
    with tf.variable_scope("vs", reuse=True):
        w2 = tf.get_variable("w")
    with tf.variable_scope("vs"):
        e = tf.add(x, 1.0, name="prod")
    f = tf.identity(x, name="prod")
    g = tf.identity(x, name="prod")
    with tf.name_scope("abs/"):
        h = tf.negative(x)
    outs = [a, b, w, c, d, w2, e, f, g, h]
    return outs, [(outs, ctx.feed)], outs


def build_optimizer_clip(tf, case, ctx):
    w = tf.get_variable("w", initializer=tf.constant([1.0, -2.0, 3.0]))
    v = tf.get_variable("v", initializer=tf.constant(0.5))
    loss = tf.reduce_sum(tf.square(w)) * v + tf.square(v)
    _, kw = ctx.args()
    opt = resolve_name(tf, case["fn"])(**kw)
    pairs = opt.compute_gradients(loss, var_list=[w, v])
    grads, norm = tf.clip_by_global_norm([g for g, _ in pairs], 1.0)
    train = opt.apply_gradients(list(zip(grads, [w, v])))
    variables = sorted(tf.global_variables(), key=lambda t: t.name)
    runs = [([norm, train], {}), (variables, {})]
    return [norm, *grads, *variables], runs, []


def build_dynamic_shapes(tf, case, ctx):
    (x, v), _ = ctx.args()
    n = tf.shape(x)[0]
    outs = [
        n,
        tf.range(n),
        tf.zeros(tf.stack([n, 2])),
        tf.tile(tf.expand_dims(v, 0), [n, 1]),
        tf.reshape(x, [n, -1]),
        tf.reshape(x, tf.reverse(tf.shape(x), [0])),
        tf.fill(tf.shape(x), 2.0),
        tf.one_hot(tf.range(n), n),
        tf.cast(tf.size(x), tf.float32) * x,
        tf.reduce_sum(x, axis=tf.rank(x) - 1),
    ]
    return outs, [(outs, ctx.feed)], outs


def build_loss_collection(tf, case, ctx):
    a = tf.losses.mean_squared_error(tf.constant([1.0, 2.0]), tf.constant([0.0, 2.5]))
    b = tf.losses.absolute_difference(
        tf.constant([1.0]), tf.constant([3.0]), loss_collection=None
    )
    reg = ctx.resolve({"l2reg": 0.5}, "reg")
    w = tf.get_variable("w", initializer=tf.constant([1.0, -2.0]), regularizer=reg)
    del w
    outs = [
        a,
        b,
        tf.losses.get_total_loss(),
        tf.losses.get_total_loss(add_regularization_losses=False),
        tf.losses.get_regularization_loss(),
        *tf.losses.get_losses(),
        *tf.losses.get_regularization_losses(),
    ]
    return outs, [(outs, {})], []


def build_layer_losses(tf, case, ctx):
    outs = flatten(_call(tf, case, ctx))
    outs += tf.losses.get_regularization_losses()
    outs.append(tf.losses.get_regularization_loss())
    return outs, [(outs, ctx.feed)], []


def build_bn_update(tf, case, ctx):
    out = _call(tf, case, ctx)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    moving = sorted(tf.global_variables(), key=lambda v: v.name)
    outs = [out, *moving]
    return outs, [([out, *updates], ctx.feed), (moving, {})], []


def build_metric(tf, case, ctx):
    value, update = _call(tf, case, ctx)
    return [value, update], [([update], ctx.feed), ([value], {})], []


def build_optimizer(tf, case, ctx):
    w = tf.get_variable("w", initializer=tf.constant([1.0, -2.0, 3.0]))
    target = tf.constant([0.5, 0.5, -1.0])
    loss = tf.reduce_sum(tf.square(w - target) * tf.constant([1.0, 2.0, 0.5]))
    _, kw = ctx.args()
    opt = resolve_name(tf, case["fn"])(**kw)
    gs = tf.train.get_or_create_global_step() if case.get("global_step") else None
    train = opt.minimize(loss, global_step=gs)
    variables = sorted(tf.global_variables(), key=lambda v: v.name)
    slots = sorted(opt.get_slot_names())
    runs = [([train], ctx.feed), ([w, loss], {}), ([train], ctx.feed), (variables, {})]
    outs = [loss, train, *variables]
    extra = {"slot_names": slots, "opt_name": opt.get_name()}
    return outs, runs, [], extra


def build_ema(tf, case, ctx):
    w = tf.get_variable("w", initializer=tf.constant([1.0, -2.0]))
    _, kw = ctx.args()
    ema = resolve_name(tf, case["fn"])(**kw)
    apply = ema.apply([w])
    avg = ema.average(w)
    bump = tf.assign_add(w, tf.constant([1.0, 1.0]))
    runs = [([apply], ctx.feed), ([bump], {}), ([apply], ctx.feed), ([avg, w], {})]
    return [avg, apply], runs, [], {"average_name": ema.average_name(w)}


def build_schedule(tf, case, ctx):
    gs = tf.placeholder(tf.int64, shape=[], name="global_step")
    _, kw = ctx.args()
    step_arg = kw.pop("step_arg", "global_step")
    out = resolve_name(tf, case["fn"])(**{step_arg: gs}, **kw)
    runs = [([out], {gs: np.int64(s)}) for s in case["steps"]]
    return [out], runs, []


def build_global_step(tf, case, ctx):
    gs = tf.train.get_or_create_global_step()
    again = tf.train.get_global_step()
    inc = tf.assign_add(gs, 1)
    return [gs, again], [([inc], {}), ([gs], {})], []


def build_initializer(tf, case, ctx):
    _, kw = ctx.args()
    init = resolve_name(tf, case["fn"])(**kw)
    dtype = resolve_name(tf, case["dtype"])
    v = tf.get_variable("v", shape=case["shape"], dtype=dtype, initializer=init)
    return [v], [([v], {})], []


def build_initializer_call(tf, case, ctx):
    _, kw = ctx.args()
    init = resolve_name(tf, case["fn"])(**kw)
    t = init(case["shape"], dtype=resolve_name(tf, case["dtype"]))
    return [t], [([t], {})], []


BUILDERS = {
    "op": build_op,
    "op_repeat_named": build_op,
    "factory": build_factory,
    "cond": build_cond,
    "while_loop": build_while,
    "case": build_case,
    "switch_case": build_switch_case,
    "grad_stop": build_grad_stop,
    "hessians": build_hessians,
    "grad_unconnected": build_grad_unconnected,
    "get_variable": build_get_variable,
    "loss_collection": build_loss_collection,
    "name_scopes": build_name_scopes,
    "dynamic_shapes": build_dynamic_shapes,
    "optimizer_clip": build_optimizer_clip,
    "layer_losses": build_layer_losses,
    "bn_update": build_bn_update,
    "metric": build_metric,
    "optimizer": build_optimizer,
    "ema": build_ema,
    "schedule": build_schedule,
    "global_step": build_global_step,
    "initializer": build_initializer,
    "initializer_call": build_initializer_call,
}


def _builder(kind):
    """The builder of ``kind``: here, or in a suite's ``BUILDERS``."""
    if kind in BUILDERS:
        return BUILDERS[kind]
    from tests.goldens import catalog  # suites may import this module

    return catalog.merged("BUILDERS", {})[kind]


def run_case(tf, case):
    """Builds ``case`` in a fresh graph of ``tf`` and returns its record."""
    rec = {}
    g = tf.Graph()
    with g.as_default():
        ctx = Ctx(tf, case)
        try:
            built = _builder(case["kind"])(tf, case, ctx)
        except Exception as e:  # TF raising is part of what is recorded
            rec["build_error"] = error_record(e)
            return rec
        outs, runs, grad_outs = built[:3]
        if len(built) > 3:
            rec["extra"] = built[3]
        rec["outputs"] = [static_record(t) for t in outs]
        var_list = list(tf.global_variables()) + list(tf.local_variables())
        rec["var_names"] = sorted(v.name for v in var_list)
        grads = None
        if "g" in case["rec"]:
            floats = [
                t for t in grad_outs if hasattr(t, "dtype") and _dtype_name(t) in FLOATS
            ]
            if floats and ctx.float_phs:
                try:
                    total = tf.add_n([tf.reduce_sum(t) for t in floats])
                    grads = tf.gradients(total, ctx.float_phs)
                    # IndexedSlices (gather, embedding_lookup) compare densely.
                    grads = [
                        None if x is None else tf.convert_to_tensor(x) for x in grads
                    ]
                except Exception as e:
                    rec["grad_error"] = error_record(e)
        if "v" not in case["rec"] and "g" not in case["rec"]:
            return rec
        with tf.Session(graph=g) as sess:
            live = [] if grads is None else [x for x in grads if x is not None]
            if len(runs) == 1 and live and not var_list and "v" in case["rec"]:
                # One run for values and gradients (one compilation).
                try:
                    got = sess.run(list(runs[0][0]) + live, feed_dict=runs[0][1])
                except Exception:  # run again separately to tell which failed
                    pass
                else:
                    n = len(runs[0][0])
                    rec["values"] = [[value_record(v) for v in got[:n]]]
                    rest = iter(got[n:])
                    rec["grads"] = [
                        None if x is None else value_record(next(rest)) for x in grads
                    ]
                    return rec
            try:
                if var_list:
                    sess.run(
                        [
                            tf.global_variables_initializer(),
                            tf.local_variables_initializer(),
                        ]
                    )
                if "v" in case["rec"]:
                    values = []
                    for fetches, feed in runs:
                        got = sess.run(list(fetches), feed_dict=feed)
                        values.append([value_record(v) for v in got])
                    rec["values"] = values
            except Exception as e:
                rec["run_error"] = error_record(e)
            if grads is not None:
                try:
                    got = iter(sess.run(live, feed_dict=ctx.feed))
                    rec["grads"] = [
                        None if x is None else value_record(next(got)) for x in grads
                    ]
                except Exception as e:
                    rec["grad_error"] = error_record(e)
    return rec
