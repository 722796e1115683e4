"""A forked child publishes as a new process instance, with or without Python's at-fork hooks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest
import zmq

from django_probe import wire
from django_probe.publisher import Publisher
from tests.django_probe.support import (
    DEADLINE,
    assert_contiguous,
    connect,
    dispatch_ids,
    endpoint_of,
    events_of,
    make_dispatch,
    recv_frames,
    wait_for,
)


def _child_publishes(pub: Publisher, first: int, no_connection: int, not_sent: int) -> int:
    """In a forked child: connect, send dispatches ``first``..``first + 9``, close; 0 when
    all went out, else the status given for what failed."""
    deadline = time.monotonic() + DEADLINE
    while pub.stats()["sent"] == 0:  # wait for the child's own connection
        if time.monotonic() > deadline:
            return no_connection
        pub.submit(make_dispatch(-1, "tests.signals.connect"))
        threading.Event().wait(0.01)
    for i in range(first, first + 10):
        pub.submit(make_dispatch(i, "tests.signals.child"))
    pub.close(timeout=3.0)
    return 0 if pub.stats()["sent"] >= 11 else not_sent



def _forked(fork: Callable[[], int], child_main: Callable[[], int], pull: zmq.Socket,
            last_id: int) -> list:
    """Fork with ``fork``; the child runs ``child_main`` (its exit status: 0 = all held)
    and never returns into pytest. The frames the child sent, up to dispatch ``last_id``."""
    pid = fork()
    if pid == 0:
        status = 1
        try:
            status = child_main()
        finally:
            os._exit(status)
    frames = recv_frames(
        pull, lambda fs: last_id in dispatch_ids([e for f in fs if f.proc.pid == pid
                                                   for e in f.events]))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return [f for f in frames if f.proc.pid == pid]

def _child_main(pub: Publisher, parent_boot: str) -> int:
    """Runs in the forked child; returns the exit status (0 = all assertions held)."""
    stats = pub.stats()
    if stats["captured"] or stats["sent"] or stats["queue_depth"] or stats["dropped_queue"]:
        return 3  # the parent's counters or pending events leaked into the child
    if pub.proc.pid != os.getpid() or pub.proc.boot == parent_boot:
        return 4
    return _child_publishes(pub, 1000, no_connection=5, not_sent=6)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_publishes_as_a_new_process_instance(pull, publishers):
    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    for i in range(100):
        pub.submit(make_dispatch(i))  # some may still be pending in the queue at fork time
    parent = pub.proc
    child = _forked(os.fork, lambda: _child_main(pub, parent.boot), pull, last_id=1009)
    assert {f.proc.boot for f in child} != {parent.boot}
    assert len({f.proc for f in child}) == 1
    assert child[0].seq == 0 and isinstance(child[0].events[0], wire.Hello)
    assert child[0].events[0].info["pid"] == str(child[0].proc.pid)
    assert_contiguous(child)
    child_ids = dispatch_ids(events_of(child))
    assert child_ids == list(range(1000, 1010))  # none of the parent's pending events
    # The parent keeps publishing with its own identity.
    pub.submit(make_dispatch(7777))
    later = recv_frames(pull, lambda fs: 7777 in dispatch_ids(events_of(fs)))
    assert later[-1].proc == parent


def _raw_child_main(pub: Publisher, parent: wire.Proc) -> int:
    """Runs in a child forked in C (no at-fork hook ran); 0 when all assertions held."""
    if pub.proc != parent:
        return 3  # a hook ran after all: this test would prove nothing
    pub.submit(make_dispatch(-2, "tests.signals.first"))  # wakes the sender: the fork is noticed
    if pub.proc.pid != os.getpid() or pub.proc.boot == parent.boot:
        return 4
    if pub.stats()["dropped_queue"] != 1:
        return 5  # the event queued before the fork was noticed is counted as dropped
    return _child_publishes(pub, 2000, no_connection=6, not_sent=7)


def test_a_child_forked_in_c_without_hooks_starts_over_when_it_first_wakes_the_sender(
        pull, publishers):
    # uWSGI forks its workers from C and runs Python's at-fork hooks only with
    # py-call-osafterfork: libc's fork() called with the GIL held (ctypes.PyDLL) is that.
    import ctypes

    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    wait_for(lambda: pub._idle and not pub._queue)  # the sender sleeps: one event wakes it
    parent = pub.proc
    child = _forked(ctypes.PyDLL(None).fork, lambda: _raw_child_main(pub, parent), pull,
                    last_id=2009)
    assert len({f.proc for f in child}) == 1 and child[0].proc.boot != parent.boot
    assert child[0].seq == 0 and isinstance(child[0].events[0], wire.Hello)
    assert_contiguous(child)
    assert dispatch_ids(events_of(child)) == list(range(2000, 2010))
    pub.submit(make_dispatch(8888))  # the parent goes on as itself
    later = recv_frames(pull, lambda fs: 8888 in dispatch_ids(events_of(fs)))
    assert later[-1].proc == parent
