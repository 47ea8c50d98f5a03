"""PreemptionWatcher in this process (the SIGTERM round trip is in test_subprocess)."""

import os
import signal

import pytest

from jaxsession.checkpoint import PreemptionWatcher


def test_signal_sets_the_flag_and_the_previous_handler_comes_back():
    seen = []

    def previous(signum, frame):
        seen.append(signum)

    old = signal.signal(signal.SIGUSR1, previous)
    try:
        watcher = PreemptionWatcher(signals=(signal.SIGUSR1,))
        with watcher:
            assert not watcher.should_save_and_stop(1)
            os.kill(os.getpid(), signal.SIGUSR1)
            assert watcher.preempted
            assert watcher.received_signal == signal.SIGUSR1
            assert watcher.should_save_and_stop(2)
            with pytest.raises(RuntimeError, match="already installed"):
                watcher.install()
        assert signal.getsignal(signal.SIGUSR1) is previous
        assert seen == []
        os.kill(os.getpid(), signal.SIGUSR1)
        assert seen == [signal.SIGUSR1]
        watcher.reset()
        assert not watcher.preempted and watcher.received_signal is None
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_default_signal_is_sigterm():
    before = signal.getsignal(signal.SIGTERM)
    with PreemptionWatcher() as watcher:
        assert signal.getsignal(signal.SIGTERM) == watcher._handle
    assert signal.getsignal(signal.SIGTERM) is before
