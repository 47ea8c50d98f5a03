"""The state file format and lookups (TF1_BEHAVIOUR §8.2), without Orbax writes."""

import logging
import re
from pathlib import Path

import pytest

from jaxsession.checkpoint import (
    CheckpointState,
    generate_checkpoint_state_proto,
    get_checkpoint_state,
    latest_checkpoint,
    state as state_lib,
    update_checkpoint_state,
)


def _names(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def test_text_format_round_trips_quotes_backslashes_and_unicode():
    state = CheckpointState('a "b"\\c-2', ["x\ny-1", 'a "b"\\c-2'], [1.5, 2.25], 3.0)
    text = state_lib._to_text(state)
    assert text.splitlines()[0] == 'model_checkpoint_path: "a \\"b\\"\\\\c-2"'
    assert state_lib._parse(text) == state
    unicode = CheckpointState("dir/é-1", ["dir/é-1"])
    assert state_lib._parse(state_lib._to_text(unicode)) == unicode


def test_parse_reads_tf1_written_text():
    text = (
        'model_checkpoint_path: "model.ckpt-2"\n'
        'all_model_checkpoint_paths: "model.ckpt-1"\n'
        "all_model_checkpoint_paths: 'model.ckpt-2'\n"
        "last_preserved_timestamp: 12.5\n"
    )
    assert state_lib._parse(text) == CheckpointState(
        "model.ckpt-2", ["model.ckpt-1", "model.ckpt-2"], [], 12.5
    )


def test_generate_appends_newest_and_relativizes_for_relative_dirs():
    state = generate_checkpoint_state_proto("ckpts", "ckpts/m-2", ["ckpts/m-1"])
    assert state.model_checkpoint_path == "m-2"
    assert state.all_model_checkpoint_paths == ["m-1", "m-2"]
    absolute = generate_checkpoint_state_proto("/d", "/d/m-2", ["/d/m-1", "/d/m-2"])
    assert absolute.all_model_checkpoint_paths == ["/d/m-1", "/d/m-2"]


def test_update_writes_atomically_and_get_reads_back(tmp_path):
    d = str(tmp_path)
    update_checkpoint_state(d, f"{d}/m-2", [f"{d}/m-1", f"{d}/m-2"])
    assert (tmp_path / "checkpoint").read_text() == (
        f'model_checkpoint_path: "{d}/m-2"\n'
        f'all_model_checkpoint_paths: "{d}/m-1"\n'
        f'all_model_checkpoint_paths: "{d}/m-2"\n'
    )
    assert _names(d) == ["checkpoint"]  # no temp file left behind


def test_save_relative_paths_are_joined_back_on_read(tmp_path, monkeypatch):
    d = str(tmp_path)
    monkeypatch.setattr(state_lib.sources._format, "is_complete", lambda p: True)
    update_checkpoint_state(d, f"{d}/m-1", [f"{d}/m-1"], save_relative_paths=True)
    assert 'model_checkpoint_path: "m-1"' in (tmp_path / "checkpoint").read_text()
    state = get_checkpoint_state(d)
    assert state.model_checkpoint_path == f"{d}/m-1"
    assert state.all_model_checkpoint_paths == [f"{d}/m-1"]


def test_failed_rename_removes_the_temp_file(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError("rename refused")

    monkeypatch.setattr(state_lib.os, "replace", fail)
    with pytest.raises(OSError, match="rename refused"):
        update_checkpoint_state(str(tmp_path), str(tmp_path / "m-1"))
    assert _names(tmp_path) == []


def test_state_path_equal_to_checkpoint_path_is_refused(tmp_path):
    with pytest.raises(
        RuntimeError, match="conflicts with path used for checkpoint state"
    ):
        update_checkpoint_state(str(tmp_path), str(tmp_path / "checkpoint"))


def test_missing_state_means_no_checkpoint(tmp_path):
    assert get_checkpoint_state(str(tmp_path)) is None
    assert latest_checkpoint(str(tmp_path)) is None
    assert latest_checkpoint(str(tmp_path / "nowhere")) is None


def test_unparsable_state_is_ignored_with_a_warning(tmp_path, caplog):
    (tmp_path / "checkpoint").write_text("this is not a CheckpointState\n")
    with caplog.at_level(logging.WARNING, logger="jaxsession"):
        assert get_checkpoint_state(str(tmp_path)) is None
    assert "Checkpoint ignored" in caplog.text


def test_state_without_model_path_is_an_error(tmp_path):
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "m-1"\n')
    with pytest.raises(
        ValueError, match=re.escape(f"Invalid checkpoint state loaded from {tmp_path}")
    ):
        get_checkpoint_state(str(tmp_path))


def test_latest_checkpoint_is_none_when_the_listed_checkpoint_is_gone(tmp_path, caplog):
    update_checkpoint_state(str(tmp_path), str(tmp_path / "m-1"))
    with caplog.at_level(logging.ERROR, logger="jaxsession"):
        assert latest_checkpoint(str(tmp_path)) is None
    assert f"Couldn't match files for checkpoint {tmp_path}/m-1" in caplog.text


def test_custom_latest_filename(tmp_path, monkeypatch):
    monkeypatch.setattr(state_lib.sources._format, "is_complete", lambda p: True)
    update_checkpoint_state(
        str(tmp_path), str(tmp_path / "m-3"), latest_filename="latest"
    )
    assert Path(tmp_path / "latest").is_file()
    assert latest_checkpoint(str(tmp_path)) is None
    assert latest_checkpoint(str(tmp_path), "latest") == str(tmp_path / "m-3")
