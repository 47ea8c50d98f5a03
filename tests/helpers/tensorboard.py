"""Reads event files back with TensorBoard's own readers (what the TensorBoard UI uses)."""

from pathlib import Path

from tensorboard.backend.event_processing import event_accumulator, event_file_loader

from jaxsession.session.summary_writer import FileWriterCache


def flush_cached_writers():
    """Writes every queued event of the cached writers to disk."""
    for writer in list(FileWriterCache._cache.values()):
        writer.flush()


def scalar_values(logdir):
    """``{tag: [(step, value), ...]}`` as TensorBoard's EventAccumulator loads ``logdir``."""
    flush_cached_writers()
    acc = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    return {
        tag: [(e.step, e.value) for e in acc.Scalars(tag)]
        for tag in acc.Tags()[event_accumulator.SCALARS]
    }


def events(logdir):
    """Every Event proto of every event file in ``logdir`` (oldest file first)."""
    flush_cached_writers()
    out = []
    for path in sorted(Path(logdir).glob("events.out.tfevents.*")):
        out.extend(event_file_loader.EventFileLoader(str(path)).Load())
    return out


def session_logs(logdir):
    """``[(status name, step, checkpoint_path)]`` of the SessionLog events in ``logdir``."""
    names = {1: "START", 2: "STOP", 3: "CHECKPOINT"}
    return [
        (names[e.session_log.status], e.step, e.session_log.checkpoint_path)
        for e in events(logdir)
        if e.HasField("session_log")
    ]
