"""The wiring snapshot: connected receivers, changes noticed, a growing gap while it churns."""

from __future__ import annotations

import gc

from django.dispatch import Signal

from tests.django_probe.support import resolved
from tests.django_probe.testapp.models import Author

module_level_signal = Signal()


def test_topology_lists_connected_receivers_before_anything_fires(probe):
    def never_fired(sender, **kwargs):
        pass

    module_level_signal.connect(never_fired, sender=Author)
    try:
        snapshot = resolved(probe.strings, probe.watcher.snapshot())
    finally:
        module_level_signal.disconnect(never_fired, sender=Author)
    wiring = {s.name: s.receivers for s in snapshot.signals}
    (receiver,) = [r for r in wiring["tests.django_probe.test_topology.module_level_signal"]
                   if r.name.endswith("never_fired")]
    assert receiver.sender == "testapp.Author" and receiver.weak is True
    names = {r.name for r in wiring["django.contrib.auth.signals.user_logged_in"]}
    assert "update_last_login" in names
    watcher = probe.watcher
    watcher.interval = 0.0
    assert watcher.poll() is not None and watcher.poll() is None  # only on change
    module_level_signal.connect(never_fired, sender=Author)
    try:
        changed = watcher.poll()
        assert changed is not None and any(
            r.name.endswith("never_fired")
            for s in resolved(probe.strings, changed).signals for r in s.receivers)
        watcher.interval = 3600.0  # TOPOLOGY_INTERVAL: not even compared before it elapses
        module_level_signal.disconnect(never_fired, sender=Author)
        assert watcher.poll() is None
    finally:
        module_level_signal.disconnect(never_fired, sender=Author)


def test_topology_notices_a_swapped_and_a_garbage_collected_receiver(probe):
    def first(sender, **kwargs):
        pass

    def second(sender, **kwargs):
        pass

    def names():  # ours only: other tests may have left receivers on the signal
        return {r.name.rsplit(".", 1)[-1]
                for s in resolved(probe.strings, snapshot).signals for r in s.receivers
                if s.name.endswith("module_level_signal")} & {"first", "second"}

    watcher = probe.watcher
    watcher.interval = 0.0
    module_level_signal.connect(first)
    try:
        snapshot = watcher.poll() or watcher.snapshot()
        assert names() == {"first"}
        assert watcher.poll() is None
        module_level_signal.disconnect(first)
        module_level_signal.connect(second)  # same number of receivers, another one
        snapshot = watcher.poll()
        assert snapshot is not None and names() == {"second"}
        del second  # weakly connected: gone with its last reference
        gc.collect()
        snapshot = watcher.poll()
        assert snapshot is not None and names() == set()
    finally:
        module_level_signal.disconnect(first)


def test_wiring_that_keeps_changing_is_sent_with_a_growing_gap(probe):
    from django_probe import topology

    clock = [1000.0]
    watcher = topology.TopologyWatcher(probe.registry, probe.describer, interval=1.0,
                                       refresh=100.0, monotonic=lambda: clock[0])
    added = []

    def poll_at(t):
        clock[0] = 1000.0 + t
        return watcher.poll() is not None

    def receiver_number(n):
        def receiver(sender, **kwargs):
            return n
        return receiver

    try:
        sent = []
        for t in range(21):  # a new receiver after every poll: it changes all the time
            if poll_at(t):
                sent.append(t)
            added.append(receiver_number(t))
            module_level_signal.connect(added[-1], weak=False)
        # The first snapshot, the first change at once, then gaps of 2, 4 and 8 s.
        assert sent == [0, 1, 3, 7, 15]
        sent = [t for t in range(21, 40) if poll_at(t)]
        assert sent == [31]  # the last change, once the 16 s gap is over
        assert not poll_at(40)  # quiet: the gap is reset
        module_level_signal.connect(receiver_number(41), weak=False, dispatch_uid="late")
        assert poll_at(41)  # a single change goes out at the next poll
    finally:
        for receiver in added:
            module_level_signal.disconnect(receiver)
        module_level_signal.disconnect(dispatch_uid="late")
