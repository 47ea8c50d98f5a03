"""Writes tests/goldens/tf_goldens*.json by running every case in TensorFlow.

Run with an interpreter that has TensorFlow (the ``bench`` extra:
tensorflow-cpu and tf-keras), from the repository root::

    make goldens TF_PYTHON=/path/to/tf-venv/bin/python
    python tests/goldens/generate.py --suite rnn     # one suite's file
    python tests/goldens/generate.py nn.conv2d       # print, write nothing
"""

import json
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore")

import tensorflow as tf2  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

from tests.goldens import catalog  # noqa: E402
from tests.goldens.harness import run_case  # noqa: E402


def main(argv):
    """Runs the cases: all suites, ``--suite NAME`` (repeatable), or ids by prefix."""
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    args = argv[1:]
    suites = [args[i + 1] for i, a in enumerate(args) if a == "--suite"]
    only = [
        a
        for i, a in enumerate(args)
        if a != "--suite" and (i == 0 or args[i - 1] != "--suite")
    ]
    if only:
        goldens = {}
        for name in catalog.suite_names():
            for case in catalog.suite_module(name).CASES:
                if any(case["id"].startswith(p) for p in only):
                    goldens[case["id"]] = run_case(tf, case)
        sys.stdout.write(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
        return
    for name in suites or catalog.suite_names():
        start = time.time()
        goldens = {c["id"]: run_case(tf, c) for c in catalog.suite_module(name).CASES}
        meta = {"tensorflow": tf2.__version__, "cases": len(goldens)}
        text = json.dumps(
            {"meta": meta, "cases": goldens}, separators=(",", ":"), sort_keys=True
        )
        out = catalog.goldens_path(name)
        out.write_text(text + "\n")
        sys.stdout.write(
            f"{len(goldens)} cases, {len(text)} bytes, {time.time() - start:.1f}s -> {out}\n"
        )


if __name__ == "__main__":
    main(sys.argv)
