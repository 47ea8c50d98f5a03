"""Writes tests/goldens/tf_goldens.json by running every case in TensorFlow.

Run with an interpreter that has TensorFlow (the ``bench`` extra:
tensorflow-cpu and tf-keras), from the repository root::

    make goldens TF_PYTHON=/path/to/tf-venv/bin/python
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

from tests.goldens.cases import CASES  # noqa: E402
from tests.goldens.harness import run_case  # noqa: E402

OUT = pathlib.Path(__file__).with_name("tf_goldens.json")


def main(argv):
    """Runs the cases (all, or those whose id starts with an argument)."""
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    only = argv[1:]
    start = time.time()
    goldens = {}
    for case in CASES:
        if only and not any(case["id"].startswith(p) for p in only):
            continue
        goldens[case["id"]] = run_case(tf, case)
    meta = {"tensorflow": tf2.__version__, "cases": len(goldens)}
    text = json.dumps(
        {"meta": meta, "cases": goldens}, separators=(",", ":"), sort_keys=True
    )
    if only:
        sys.stdout.write(json.dumps(goldens, indent=1, sort_keys=True) + "\n")
    else:
        OUT.write_text(text + "\n")
        sys.stdout.write(
            f"{len(goldens)} cases, {len(text)} bytes, {time.time() - start:.1f}s -> {OUT}\n"
        )


if __name__ == "__main__":
    main(sys.argv)
