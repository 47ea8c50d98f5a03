"""tf.app, tf.flags, tf.logging and tf.gfile as TF1 scripts use them."""

import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jaxsession as tf
from jaxsession import errors

ROOT = Path(__file__).resolve().parents[2]


# -- flags -------------------------------------------------------------------


@pytest.fixture
def flag_names():
    """Deletes the flags a test defines from absl's global FLAGS afterwards."""
    names = []
    yield names
    for name in names:
        if name in tf.flags.FLAGS:
            delattr(tf.flags.FLAGS, name)


def test_flags_define_and_parse(flag_names):
    flags = tf.app.flags
    assert flags is tf.flags
    flag_names += ["cx_str", "cx_int", "cx_float", "cx_bool", "cx_boolean", "cx_list"]
    flags.DEFINE_string("cx_str", "a", "a string")
    flags.DEFINE_integer("cx_int", 3, "an int")
    flags.DEFINE_float("cx_float", 0.5, "a float")
    flags.DEFINE_bool("cx_bool", False, "a bool")
    flags.DEFINE_boolean("cx_boolean", True, "a boolean")
    flags.DEFINE_list("cx_list", ["x"], "a list")
    FLAGS = flags.FLAGS
    rest = FLAGS(
        [
            "prog",
            "--cx_str=b",
            "--cx_int",
            "7",
            "--cx_float=2.5",
            "--cx_bool",
            "--nocx_boolean",
            "--cx_list=p,q",
            "positional",
        ],
        known_only=True,
    )
    assert rest == ["prog", "positional"]
    assert (FLAGS.cx_str, FLAGS.cx_int, FLAGS.cx_float) == ("b", 7, 2.5)
    assert (FLAGS.cx_bool, FLAGS.cx_boolean, FLAGS.cx_list) == (True, False, ["p", "q"])
    FLAGS.cx_int = 9
    assert FLAGS.cx_int == 9
    assert FLAGS["cx_int"].default == 3


def test_flags_accept_tf1_keyword_names(flag_names, caplog):
    flag_names.append("cx_old")
    tf.flags.DEFINE_integer(flag_name="cx_old", default_value=4, docstring="old names")
    assert tf.flags.FLAGS["cx_old"].default == 4
    assert tf.flags.FLAGS["cx_old"].help == "old names"
    assert "please use (name, default, help) instead" in caplog.text


def test_flags_reject_bad_value_and_duplicate(flag_names):
    flag_names.append("cx_bad")
    tf.flags.DEFINE_integer("cx_bad", 1, "an int")
    with pytest.raises(tf.flags.IllegalFlagValueError, match="cx_bad"):
        tf.flags.FLAGS(["prog", "--cx_bad=notanint"])
    with pytest.raises(tf.flags.DuplicateFlagError, match="cx_bad"):
        tf.flags.DEFINE_integer("cx_bad", 2, "again")


def _run_script(tmp_path, source, *args, timeout=60):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
    )
    return proc


def test_app_run_parses_flags_calls_main_and_exits(tmp_path):
    proc = _run_script(
        tmp_path,
        """
        import sys
        sys.path.insert(0, ".")
        import jaxsession as tf

        flags = tf.app.flags
        flags.DEFINE_integer("steps", 10, "number of steps")
        flags.DEFINE_string("name", "net", "model name")
        FLAGS = flags.FLAGS

        def main(argv):
            print("argv", argv[1:])
            print("flags", FLAGS.steps, FLAGS.name)
            tf.logging.set_verbosity(tf.logging.INFO)
            tf.logging.info("training %s for %d steps", FLAGS.name, FLAGS.steps)
            return 3

        if __name__ == "__main__":
            tf.app.run()
        """,
        "--steps=5",
        "--unknown_flag=1",
        "extra",
    )
    assert proc.returncode == 3, proc.stderr
    assert "argv ['--unknown_flag=1', 'extra']" in proc.stdout
    assert "flags 5 net" in proc.stdout
    assert "training net for 5 steps" in proc.stderr


def test_flags_read_before_parsing_parse_sys_argv_and_logging_prints(tmp_path):
    proc = _run_script(
        tmp_path,
        """
        import sys
        sys.path.insert(0, ".")
        import jaxsession as tf

        tf.flags.DEFINE_float("lr", 0.1, "learning rate")
        print("lr", tf.flags.FLAGS.lr)
        tf.logging.info("not shown at the default verbosity")
        tf.logging.set_verbosity(tf.logging.INFO)
        tf.logging.info("lr is %s", tf.flags.FLAGS.lr)
        """,
        "--lr=0.25",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "lr 0.25"
    # Without absl.app.run, tf.logging prints as TF1 did: LEVEL:logger:message.
    assert proc.stderr.splitlines()[-1] == "INFO:jaxsession:lr is 0.25"
    assert "not shown" not in proc.stderr


# -- logging -----------------------------------------------------------------


@pytest.fixture
def restore_level():
    logger = logging.getLogger("jaxsession")
    level = logger.level
    yield
    logger.setLevel(level)


def test_logging_routes_to_jaxsession_logger_with_verbosity(caplog, restore_level):
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN) == (10, 20, 30)
    assert (tf.logging.ERROR, tf.logging.FATAL) == (40, 50)
    tf.logging.set_verbosity(tf.logging.WARN)
    assert tf.logging.get_verbosity() == tf.logging.WARN
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("jaxsession").setLevel(tf.logging.WARN)
        tf.logging.info("hidden %d", 1)
        tf.logging.warning("shown %d", 2)
        tf.logging.error("bad %s", "x")
        tf.logging.set_verbosity(tf.logging.DEBUG)
        tf.logging.debug("debug %d", 3)
        tf.logging.info("info %d", 4)
        tf.logging.warn("warn %d", 5)
    records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert records == [
        ("jaxsession", "WARNING", "shown 2"),
        ("jaxsession", "ERROR", "bad x"),
        ("jaxsession", "DEBUG", "debug 3"),
        ("jaxsession", "INFO", "info 4"),
        ("jaxsession", "WARNING", "warn 5"),
    ]


def test_logging_first_n_and_every_n(caplog, restore_level):
    tf.logging.set_verbosity(tf.logging.INFO)
    with caplog.at_level(logging.INFO):
        for i in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
        for i in range(5):
            tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, i)
    assert [r.getMessage() for r in caplog.records] == [
        "first 0",
        "first 1",
        "every 0",
        "every 2",
        "every 4",
    ]


# -- gfile -------------------------------------------------------------------


def test_gfile_files_and_directories(tmp_path):
    gfile = tf.gfile
    d = tmp_path / "a" / "b"
    assert not gfile.Exists(d)
    gfile.MakeDirs(str(d))
    gfile.MakeDirs(str(d))  # existing directory is fine
    assert gfile.IsDirectory(str(d)) and gfile.Exists(str(d))
    with gfile.GFile(str(d / "f.txt"), "w") as f:
        f.write("line1\nline2\n")
    with gfile.Open(str(d / "f.txt")) as f:
        assert list(f) == ["line1\n", "line2\n"]
    with gfile.GFile(str(d / "g.bin"), "wb") as f:
        f.write(b"\x00\x01")
    with gfile.GFile(str(d / "g.bin"), "rb") as f:
        assert f.read() == b"\x00\x01"
        assert f.size() == 2
    assert gfile.ListDirectory(str(d)) == ["f.txt", "g.bin"]
    assert gfile.Glob(str(d / "*.txt")) == [str(d / "f.txt")]
    stat = gfile.Stat(str(d / "f.txt"))
    assert stat.length == 12 and not stat.is_directory and stat.mtime_nsec > 0
    gfile.Copy(str(d / "f.txt"), str(d / "c.txt"))
    assert (d / "c.txt").read_text() == "line1\nline2\n"
    gfile.Rename(str(d / "c.txt"), str(d / "r.txt"))
    assert gfile.ListDirectory(str(d)) == ["f.txt", "g.bin", "r.txt"]
    gfile.Remove(str(d / "r.txt"))
    assert not gfile.Exists(str(d / "r.txt"))
    walked = [(p, sorted(ds), sorted(fs)) for p, ds, fs in gfile.Walk(tmp_path / "a")]
    assert walked == [
        (str(tmp_path / "a"), ["b"], []),
        (str(d), [], ["f.txt", "g.bin"]),
    ]
    gfile.DeleteRecursively(str(tmp_path / "a"))
    assert not gfile.Exists(str(tmp_path / "a"))


def test_gfile_errors_are_tf1s(tmp_path):
    gfile = tf.gfile
    missing = str(tmp_path / "missing")
    f = gfile.GFile(missing)  # TF1 opens lazily
    with pytest.raises(
        errors.NotFoundError, match=re.escape(f"{missing}; No such file")
    ):
        f.read()
    for call in (gfile.Remove, gfile.DeleteRecursively, gfile.Stat):
        with pytest.raises(errors.NotFoundError, match=re.escape(missing)):
            call(missing)
    with pytest.raises(errors.NotFoundError, match="could not find directory"):
        gfile.ListDirectory(missing)
    (tmp_path / "x").write_text("x")
    (tmp_path / "y").write_text("y")
    with pytest.raises(errors.AlreadyExistsError, match=re.escape(str(tmp_path / "y"))):
        gfile.Copy(str(tmp_path / "x"), str(tmp_path / "y"))
    with pytest.raises(errors.AlreadyExistsError, match=re.escape(str(tmp_path / "y"))):
        gfile.Rename(str(tmp_path / "x"), str(tmp_path / "y"))
    gfile.Rename(str(tmp_path / "x"), str(tmp_path / "y"), overwrite=True)
    assert (tmp_path / "y").read_text() == "x"
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MkDir(str(tmp_path))
    with pytest.raises(errors.UnimplementedError, match="hdfs://bucket/f"):
        gfile.Exists("hdfs://bucket/f")


def test_tf_logging_prints_once_after_absl_configures_the_root_logger(tmp_path):
    # Orbax's first save calls absl's vlog, which runs logging.basicConfig().
    proc = _run_script(
        tmp_path,
        """
        import sys
        sys.path.insert(0, ".")
        import jaxsession as tf
        from absl import logging as absl_logging

        tf.logging.set_verbosity(tf.logging.INFO)
        tf.logging.info("before")
        absl_logging.vlog(1, "x")
        tf.logging.info("after")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "jaxsession:" in line]
    assert lines == ["INFO:jaxsession:before", "INFO:jaxsession:after"]


_SAVE_AND_RESTORE = """
import logging, sys
sys.path.insert(0, ".")
if sys.argv[1] == "root":
    logging.basicConfig(level=logging.INFO)
else:
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logging.use_absl_handler()
import jaxsession as tf

tf.logging.set_verbosity(getattr(tf.logging, sys.argv[2]))
v = tf.get_variable("v", [2], initializer=tf.zeros_initializer())
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print("SAVE", file=sys.stderr, flush=True)
    saver.save(sess, sys.argv[3] + "/m", global_step=1)
    saver.wait_until_finished()
    print("SAVED", file=sys.stderr, flush=True)
    saver.restore(sess, sys.argv[3] + "/m-1")
"""


@pytest.mark.parametrize("configured", ["root", "absl"])
def test_orbax_is_quiet_at_info_and_speaks_at_debug(tmp_path, configured):
    quiet = _run_script(tmp_path, _SAVE_AND_RESTORE, configured, "INFO", tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    during_save = lines[lines.index("SAVE") + 1 : lines.index("SAVED")]
    assert during_save == []
    restoring = [line for line in lines if "Restoring parameters" in line]
    assert len(restoring) == 1
    # One prefix: the logger's name in the root format, none in absl's.
    assert restoring[0].count("jaxsession") == (configured == "root")
    chatty = _run_script(tmp_path, _SAVE_AND_RESTORE, configured, "DEBUG", tmp_path)
    assert chatty.returncode == 0, chatty.stderr
    lines = chatty.stderr.splitlines()
    during_save = lines[lines.index("SAVE") + 1 : lines.index("SAVED")]
    assert any("orbax-checkpoint version" in line for line in during_save)
