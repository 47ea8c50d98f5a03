"""The TF1 names this part of issue 7 claims exist where TF1 programs look for them."""

import functools

import pytest

import jaxsession as tf

NAMES = [
    "app.run",
    "app.flags",
    "app.flags.FLAGS",
    "flags.FLAGS",
    "flags.DEFINE_string",
    "flags.DEFINE_integer",
    "flags.DEFINE_float",
    "flags.DEFINE_boolean",
    "flags.DEFINE_bool",
    "flags.DEFINE_list",
    "logging.set_verbosity",
    "logging.get_verbosity",
    "logging.info",
    "logging.warning",
    "logging.warn",
    "logging.error",
    "logging.debug",
    "logging.fatal",
    "logging.log_every_n",
    "logging.DEBUG",
    "logging.INFO",
    "logging.WARN",
    "logging.ERROR",
    "logging.FATAL",
    "gfile.Exists",
    "gfile.MakeDirs",
    "gfile.MkDir",
    "gfile.DeleteRecursively",
    "gfile.Glob",
    "gfile.GFile",
    "gfile.Open",
    "gfile.FastGFile",
    "gfile.ListDirectory",
    "gfile.Remove",
    "gfile.Rename",
    "gfile.Copy",
    "gfile.IsDirectory",
    "gfile.Stat",
    "gfile.Walk",
    "ConfigProto",
    "GPUOptions",
    "GraphOptions",
    "OptimizerOptions",
    "RunOptions",
    "RunOptions.FULL_TRACE",
    "RunMetadata",
    "device",
    "train.replica_device_setter",
    "train.ExponentialMovingAverage",
    "metrics.accuracy",
    "metrics.mean",
    "metrics.auc",
    "metrics.precision",
    "metrics.recall",
    "metrics.mean_squared_error",
    "train.QueueRunner",
    "train.start_queue_runners",
    "train.string_input_producer",
    "train.shuffle_batch",
    "train.batch",
    "TFRecordReader",
    "FIFOQueue",
    "RandomShuffleQueue",
]


@pytest.mark.parametrize("name", NAMES)
def test_name_exists(name):
    assert functools.reduce(getattr, name.split("."), tf) is not None


def test_names_are_unique():
    assert len(NAMES) == len(set(NAMES))
