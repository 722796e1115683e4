"""The probe's C hot path (_accel) records exactly what the pure-Python one does.

Every other probe test runs on whichever path is installed (C with `make install`);
`make test` also runs this directory with SIGNAL_PROBE_NO_ACCEL=1. Here both paths run
the same dispatches side by side and their events (as the monitor would decode them)
must be equal, through a plain sink and through the Publisher's queue (served in C).
"""

from __future__ import annotations

import gc
import inspect
import weakref

import pytest
from django.core.signals import request_finished, request_started
from django.dispatch import Signal

from django_probe import _dispatch, capture, runtime, wire
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from tests.django_probe.testapp.models import Author

pytestmark = pytest.mark.skipif(not capture.ACCELERATED,
                                reason="django_probe._accel is not built (or disabled)")


def test_the_accelerated_probe_uses_its_c_parts():
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    try:
        assert isinstance(probe.recorder.finish, capture._accel.Finisher)
        assert isinstance(probe.recorder.enter, capture._accel.Enter)
    finally:
        runtime.stop()


class Widget:
    pass


def test_the_c_nests_clock_is_perf_counter_ns():
    # Durations mix both (async receivers are timed in Python), and event times are
    # perf_counter_ns() plus an offset read through Python.
    import time

    for _ in range(100):
        before = time.perf_counter_ns()
        now = capture._accel.clock()
        after = time.perf_counter_ns()
        assert before <= now <= after


def test_a_c_nest_times_each_receiver_from_the_last_mark_and_forgets_them_at_finish():
    events: list = []
    runtime.start(ProbeConfig(), sink=events.append)
    nests = []
    try:
        signal = Signal()

        def keeps_the_nest(sender, **kwargs):
            nests.append(capture.current_dispatch.get())

        signal.connect(keeps_the_nest, weak=False)
        signal.connect(lambda sender, **kw: "second", weak=False)
        signal.send(sender=None)
    finally:
        runtime.stop()
    (nest,) = nests
    assert type(nest) is capture._accel.Nest and nest.done is True
    assert nest.calls == []  # what the receivers gave is not kept
    (event,) = [wire.typed(e) for e in events]
    first, second = event.receivers
    assert event.dur == nest.t_last - nest.t0
    if _dispatch.MODERN:  # each receiver is timed from the previous one's end
        assert first.dur + second.dur == event.dur
    else:  # Django 4.2's list comprehension: from a mark taken just before each call
        assert 0 < first.dur + second.dur <= event.dur
    assert event.site.func == "test_a_c_nest_times_each_receiver_from_the_last_mark_and_" \
        "forgets_them_at_finish"


def test_the_c_counter_counts_known_pairs_grows_and_holds_no_reference():
    counter = capture._accel.Counter()
    signals = [Signal() for _ in range(3)]
    senders = [Widget() for _ in range(400)]  # more pairs than its first table holds
    assert counter(signals[0], senders[0]) is False  # unknown: the caller describes it
    for i, sender in enumerate(senders):
        assert counter.add(signals[i % 3], sender, f"sig{i % 3}", f"w{i}") is True
    for _ in range(2):
        for i, sender in enumerate(senders):
            assert counter(signals[i % 3], sender) is True
    assert counter(signals[1], senders[0]) is False  # another signal, same sender
    assert counter.add(signals[0], senders[0], "sig0", "w0") is True  # added meanwhile
    assert len(counter) == 400
    rows = counter.drain()
    assert sorted(rows) == sorted((f"sig{i % 3}", f"w{i}", 3 + (i == 0))
                                  for i in range(400))
    assert len(counter) == 0 and counter.drain() == []
    assert counter(signals[0], senders[0]) is False  # forgotten once drained
    probe = weakref.ref(senders[0])
    counter.add(signals[0], senders[0], "sig0", "w0")
    del senders[0]
    gc.collect()
    assert probe() is None  # keyed by address: the sender is not kept alive


def make_signals():
    plain, many, nested, inner, boom = Signal(), Signal(), Signal(), Signal(), Signal()
    crowd = Signal()  # more receivers than the C path keeps on its stack

    def returns_none(sender, **kwargs):
        return None

    def returns_value(sender, **kwargs):
        return {"answer": 42, "password": "hunter2"}

    def sends_inner(sender, **kwargs):
        inner.send(sender=sender, note="inside")
        return "outer"

    def raises(sender, **kwargs):
        raise ValueError("bad")

    plain.connect(returns_none, weak=False)
    many.connect(returns_none, weak=False)
    many.connect(returns_value, weak=False)
    many.connect(lambda sender, **kw: [1, 2], weak=False)
    nested.connect(sends_inner, weak=False)
    inner.connect(returns_value, weak=False)
    boom.connect(returns_none, weak=False)
    boom.connect(raises, weak=False)
    for i in range(12):
        crowd.connect(lambda sender, i=i, **kw: i if i % 2 else None, weak=False)
    return plain, many, nested, boom, crowd


def scenario():
    """Dispatches covering the C path and each case it hands to Python."""
    plain, many, nested, boom, crowd = make_signals()
    dynamic = type("Dynamic", (), {})
    plain.send(sender=None)
    plain.send(sender=Author)  # a model class: its label
    plain.send(sender=dynamic)  # a class first seen here: the describer labels it
    plain.send(sender=Widget())  # an instance
    plain.send(sender="text", created=True, api_token="s3cret", instance=Author(pk=3))
    many.send(sender=None, value=1.5)
    crowd.send(sender=None, note="crowded")
    nested.send(sender=Author)
    boom.send_robust(sender=None)  # a raising receiver: the Python version builds it
    with pytest.raises(ValueError):
        boom.send(sender=None)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x/", "HTTP_X_REQUEST_ID": "req-7"}
    request_started.send(sender=None, environ=environ)
    plain.send(sender=None)  # inside the request
    request_finished.send(sender=None)
    plain.send(sender=None)  # after it: no request


def normalised(events):
    """Events as the monitor decodes them, with run-specific numbers replaced."""
    ids = {}
    out = []
    for e in events:
        e = wire.typed(e) if not isinstance(e, bytes) else wire.decode_event(
            __import__("msgpack").unpackb(e))
        if e.kind != wire.KIND_DISPATCH:
            continue
        ids.setdefault(e.id, len(ids))
        calls = [c._replace(dur=0) for c in e.receivers]
        out.append(e._replace(ts=0, id=ids[e.id], dur=0, receivers=calls,
                              parent=None if e.parent is None else ids.setdefault(
                                  e.parent, len(ids))))
    return out


def run_both(through_publisher: bool):
    """The scenario on the C path and on the Python path; their normalised events.

    Events go to a plain sink (a list), or with ``through_publisher`` to the queue of a
    Publisher, which the C path serves itself.
    """
    results = []
    for accelerated in (True, False):
        runtime.stop()
        events: list = []
        probe = runtime.start(ProbeConfig(), sink=events.append)
        publisher = None
        if through_publisher:
            publisher = idle_publisher()
            probe.recorder.use_publisher(publisher)
        if not accelerated:
            probe.recorder.finish = probe.recorder._finish_py
        try:
            scenario()
        finally:
            runtime.stop()
        if publisher is not None:
            events = list(publisher._queue)
            assert all(type(b) is bytes for b in events)
            publisher.close()
        results.append(normalised(events))
    return results


def idle_publisher():
    """A Publisher that queues but never sends (its thread is never started)."""
    publisher = Publisher(ProbeConfig(), hello_info={})
    publisher._running = True  # submit() must not start the sender thread
    return publisher


def test_an_address_reused_by_a_new_signal_or_receiver_never_gets_the_dead_ones_names():
    # The C finisher remembers names and descriptions by address; an object created where
    # a dead one lived must be described afresh. CPython reuses freed blocks of the same
    # size at once, so a few rounds of create, dispatch, forget reuse addresses.
    runtime.stop()
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    publisher = idle_publisher()
    probe.recorder.use_publisher(publisher)
    expected, signal_ids, receiver_ids = [], set(), set()
    reused_signal = reused_receiver = False
    try:
        for n in range(60):
            namespace: dict = {}
            exec(f"def on_{n}(sender, **kwargs):\n    return None", namespace)
            signal, receiver = Signal(), namespace[f"on_{n}"]
            probe.recorder.registry._remember(signal, f"tests.reuse.signal_{n}")
            signal.connect(receiver)  # weakly, as usual
            for _ in range(2):  # the second dispatch is served from the memos
                signal.send(sender=None)
                expected.append((f"tests.reuse.signal_{n}", f"on_{n}"))
            reused_signal |= id(signal) in signal_ids
            reused_receiver |= id(receiver) in receiver_ids
            signal_ids.add(id(signal))
            receiver_ids.add(id(receiver))
            del signal, receiver, namespace
            gc.collect()
    finally:
        runtime.stop()
    import msgpack

    events = [wire.decode_event(msgpack.unpackb(b)) for b in publisher._queue]
    publisher.close()
    assert reused_signal and reused_receiver  # else this test proved nothing
    assert [(e.signal, e.receivers[0].name) for e in events] == expected


def test_the_c_path_sees_every_change_of_the_publishers_attributes():
    # It reads them again only when the publisher's __dict__ has changed: stores made by
    # ordinary (specialised) attribute assignments must all be seen.
    from collections import deque

    runtime.stop()
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    publisher = idle_publisher()
    probe.recorder.use_publisher(publisher)
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)

    def set_limit(limit):
        publisher._queue_max = limit

    queues = []
    try:
        for i in range(300):
            if i % 100 == 0:  # and a new queue, as after a fork
                publisher._queue = deque()
                queues.append(publisher._queue)
            set_limit(len(publisher._queue) + i % 2)  # 0: full, dropped; 1: room for one
            signal.send(sender=None)
    finally:
        runtime.stop()
    assert [len(q) for q in queues] == [50, 50, 50]
    assert publisher.stats()["dropped_queue"] == 150
    publisher.close()


# request_finished runs Django's close_old_connections, which may touch the database.
@pytest.mark.django_db
def test_c_and_python_record_the_same_events_through_a_plain_sink():
    fast, slow = run_both(through_publisher=False)
    assert fast == slow
    assert len(fast) == 15
    assert {"None", "testapp.Author", "'text'"} <= {e.sender for e in fast}
    assert any(e.request and e.request.id == "req-7" for e in fast)
    assert fast[-1].request is None


@pytest.mark.django_db
def test_c_and_python_queue_the_same_bytes_for_the_publisher():
    fast, slow = run_both(through_publisher=True)
    assert fast == slow and len(fast) == 15


def test_the_publisher_path_counts_a_full_queue_and_unpackable_events():
    runtime.stop()
    publisher = idle_publisher()
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    probe.recorder.use_publisher(publisher)
    plain, *_ = make_signals()
    try:
        publisher._queue_max = 1
        plain.send(sender=None)
        plain.send(sender=None)  # the queue is full: dropped and counted
        assert publisher.stats()["dropped_queue"] == 1 and len(publisher._queue) == 1
        publisher._queue_max = 100
        probe.describer.kwargs = lambda named: {"k": object()}  # not plain data (a bug)
        probe.recorder._accelerate(Publisher.submit)  # the C path sees the patched kwargs
        responses = plain.send(sender=None, x=1)
        assert len(responses) == 1 and responses[0][1] is None  # the app sees no difference
        stats = publisher.stats()
        assert stats["dropped_send"] == 1 and stats["internal_errors"] == 1
        assert len(publisher._queue) == 1
    finally:
        runtime.stop()
        publisher.close()


def test_a_failing_describer_is_counted_never_raised_and_the_guard_is_reset():
    events: list = []
    runtime.stop()
    probe = runtime.start(ProbeConfig(), sink=events.append)
    plain, *_ = make_signals()
    try:
        failures = []
        probe.recorder.on_failure = lambda: failures.append(1)

        def broken(value):
            raise RuntimeError("describer bug")

        probe.describer.sender = broken
        responses = plain.send(sender=Widget())
        assert len(responses) == 1 and responses[0][1] is None
        assert failures == [1] and events == []
        assert capture._tls.state.busy is False
        plain.send(sender=None)  # the next dispatch is recorded as usual
        assert len(events) == 1
    finally:
        runtime.stop()


def test_a_base_exception_from_the_sink_propagates_like_the_python_version():
    for accelerated in (True, False):
        runtime.stop()

        def sink(event):
            raise KeyboardInterrupt

        probe = runtime.start(ProbeConfig(), sink=sink)
        if not accelerated:
            probe.recorder.finish = probe.recorder._finish_py
        plain, *_ = make_signals()
        try:
            with pytest.raises(KeyboardInterrupt):
                plain.send(sender=None)
            assert capture._tls.state.busy is False
        finally:
            runtime.stop()


def test_a_dispatch_made_by_the_sink_is_not_recorded():
    events: list = []
    runtime.stop()
    plain, *_ = make_signals()

    def sink(event):
        events.append(event)
        plain.send(sender=None)  # the probe's own work: the guard must skip it

    runtime.start(ProbeConfig(), sink=sink)
    try:
        plain.send(sender=None)
        assert len(events) == 1
    finally:
        runtime.stop()


def test_ignored_signals_are_left_to_python():
    events: list = []
    runtime.stop()
    probe = runtime.start(ProbeConfig(), sink=events.append)
    try:
        probe.recorder.ignore = frozenset({probe.registry.name(IGNORED)})
        IGNORED.send(sender=None)
        assert events == []
        plain, *_ = make_signals()
        plain.send(sender=None)
        assert len(events) == 1
    finally:
        runtime.stop()


IGNORED = Signal()
IGNORED.connect(lambda sender, **kw: None, weak=False)


def call_site_of(impl):
    return impl()  # stands in for a send mirror: impl looks at *our* caller


def test_site_matches_the_python_version_and_caches_per_instruction():
    from django_probe import _accel

    fast = call_site_of(_accel.site); slow = call_site_of(_dispatch._site_py)  # noqa: E702
    got = [fast, slow]
    line = inspect.currentframe().f_lineno - 2
    assert got[0] == got[1] == (__file__, line, inspect.currentframe().f_code.co_name)
    again = []
    for _ in range(2):  # one line, one offset: one entry, computed once
        again.append(call_site_of(_accel.site)); here = inspect.currentframe().f_lineno  # noqa: E702
    assert again[0] is again[1] and again[0][1] == here


def test_call_sites_read_from_cpython_frames_equal_the_public_apis():
    import asyncio
    import sys

    from django_probe import _accel

    if sys.version_info[:2] == (3, 11) and sys.implementation.name == "cpython":
        assert _accel.fast_frames()  # its self-check passed: this test compares the two
    def both():
        return call_site_of(_accel.site), call_site_of(_dispatch._site_py)

    def generator():
        yield both()

    async def coroutine():
        await asyncio.sleep(0)
        return both()

    seen = [both(), next(generator()), asyncio.run(coroutine()),
            [both() for _ in range(1)][0]]
    traced = []
    sys.settrace(lambda *a: None)  # a debugger: line numbers then come from the tracer
    try:
        traced.append(both())
    finally:
        sys.settrace(None)
    for fast, slow in [*seen, *traced]:
        assert fast == slow and fast[0] == __file__


def test_site_cache_is_bounded_and_stays_exact_after_it_is_cleared():
    # Code generated at run time: more distinct call sites than the C cache keeps.
    from django_probe import _accel

    sites = []
    for i in range(10_050):
        namespace = {"impl": _accel.site, "call_site_of": call_site_of}
        exec(compile(f"def f{i}():\n    return call_site_of(impl)\n", f"<gen {i}>", "exec"),
             namespace)
        sites.append(namespace[f"f{i}"]())
    assert sites == [(f"<gen {i}>", 2, f"f{i}") for i in range(10_050)]
    assert call_site_of(_accel.site)[0] == __file__


def test_the_recorder_and_its_finisher_are_collectable():
    from django_probe.describe import Describer
    from django_probe.naming import SignalRegistry

    recorder = capture.Recorder(lambda e: None, Describer(), SignalRegistry())
    assert isinstance(recorder.finish, capture._accel.Finisher)
    ref = weakref.ref(recorder)
    del recorder
    gc.collect()
    assert ref() is None  # recorder -> finisher -> recorder: the GC can break the cycle


class StrSubclass(str):
    pass


class BrokenDict:
    @property
    def __dict__(self):
        raise RuntimeError("no dict for you")


def kwargs_cases():
    import datetime
    import decimal
    import uuid

    from django.contrib.auth.models import User
    from django.http import HttpRequest
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    environ = RequestFactory().get("/orders/42", HTTP_COOKIE="sessionid=abc").environ
    deferred = Author(pk=7)  # no "name" in __dict__: a deferred field, never loaded
    del deferred.__dict__["name"]
    values = [
        "", "short", "x" * 500, "é☃" * 100, StrSubclass("sub"), 0, -5, 10**100, 10**5000,
        1.5, float("nan"), True, False, None, environ,
        {**environ, "PATH_INFO": "/" + "p" * 300}, {**environ, "REQUEST_METHOD": b"GET"},
        {"a": 1, "password": "hunter2"}, {"type": "http", "path": "/asgi", "method": "GET"},
        Author(pk=3), Author(), deferred, User(pk=5, username="u"), User(),
        RequestFactory().post("/login/"), HttpRequest(), SimpleLazyObject(lambda: 1),
        [1, 2, 3], (1,), {1, 2}, ValueError("bad"), Author, len, b"bytes",
        decimal.Decimal("1.5"), uuid.UUID(int=1), datetime.date(2026, 12, 1), Widget(),
        BrokenDict(), Author.objects.none(),
        # Labels are joined in C from parts of any width (latin-1, BMP, astral).
        {**environ, "PATH_INFO": "/caf\xe9"}, {**environ, "PATH_INFO": "/\u2603/\U0001f600"},
        {**environ, "REQUEST_METHOD": "G\u0112T", "PATH_INFO": ""}, Author(pk="k\xe9y"),
        Author(pk="\U0001f511"), Author(pk=""), Author(pk=-(10**30)),
        RequestFactory().get("/\u2603/\U0001f600"), RequestFactory().get(""),
    ]
    cases = [{"value": v} for v in values]
    cases += [{"instance": Author(pk=1), "created": True, "raw": False, "using": "default",
               "update_fields": None},
              {"request": RequestFactory().get("/"), "user": User(pk=1, username="x")},
              {"password": "secret", "api_key": "k", "token": "t", "note": "visible"},
              {f"k{i}": i for i in range(17)},  # more than max_items
              {"environ": environ}]
    return cases


def test_c_kwargs_descriptions_equal_the_describers():
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    try:
        describer, c_kwargs = probe.describer, probe.recorder.finish.describe_kwargs
        for named in kwargs_cases():
            for _ in range(2):  # the first sight of a key or class goes to Python
                assert c_kwargs(named) == describer.kwargs(named), named
    finally:
        runtime.stop()


def test_common_kwargs_are_described_in_c_without_calling_the_describer():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    try:
        describer, recorder = probe.describer, probe.recorder
        common = {"environ": RequestFactory().get("/x").environ, "instance": Author(pk=2),
                  "user": User(), "request": RequestFactory().get("/"), "created": True,
                  "using": "default", "n": 3, "f": 0.5, "password": "p"}
        expected = describer.kwargs(common)  # classifies the classes, learns the names
        calls = []
        for name in ("kwargs", "value"):
            real = getattr(describer, name)
            setattr(describer, name, lambda x, real=real: calls.append(x) or real(x))
        recorder._accelerate()  # the finisher takes the describer's methods when built
        assert recorder.finish.describe_kwargs(common) == expected
        assert calls == []
        odd = {"value": [1, 2]}
        assert recorder.finish.describe_kwargs(odd) == {"value": "list[1, 2] len=2"}
        assert calls == [odd, [1, 2]]  # a name never seen: the whole dict is Python's
        calls.clear()
        assert recorder.finish.describe_kwargs(odd) == {"value": "list[1, 2] len=2"}
        assert calls == [[1, 2]]  # a known name, a value C leaves to Python
    finally:
        runtime.stop()


class EnvironDict(dict):
    pass


def test_c_begin_request_remembers_what_the_python_version_does():
    from django.test import RequestFactory

    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    recorder = probe.recorder
    base = RequestFactory().get("/orders/").environ
    cases = [{"environ": base}, {"environ": {**base, "HTTP_X_REQUEST_ID": "abc"}},
             {"environ": {**base, "HTTP_X_REQUEST_ID": "r" * 100}},
             {"environ": {**base, "HTTP_X_REQUEST_ID": ""}},
             {"environ": {**base, "PATH_INFO": "/" + "p" * 600}}, {"environ": {}},
             {"environ": {**base, "REQUEST_METHOD": b"GET"}},
             {"environ": {**base, "HTTP_X_REQUEST_ID": 12345}},
             {"environ": EnvironDict(base)}, {"environ": "not a dict"}, {},
             {"scope": {"type": "http", "method": "GET", "path": "/asgi",
                        "headers": [(b"x-request-id", b"from-asgi")]}}]
    try:
        assert recorder.begin_request != recorder._begin_request_py  # the C version
        for named in cases:
            seen = []
            for begin in (recorder.begin_request, recorder._begin_request_py):
                capture.current_request.set(None)
                begin(request_started, named)
                seen.append(capture.current_request.get())
            fast, slow = seen
            if fast is not None and fast[0].startswith(recorder._request_prefix):
                # both drew a new id from the same counter, one after the other
                assert int(slow[0].rsplit("-", 1)[1], 16) == int(
                    fast[0].rsplit("-", 1)[1], 16) + 1
                fast, slow = fast[1:], slow[1:]
            assert fast == slow, named
        capture.current_request.set(None)
        recorder.begin_request(request_finished, cases[1])  # only request_started counts
        assert capture.current_request.get() is None
        calls = []
        recorder._begin_request_py = lambda *args: calls.append(args)
        recorder.begin_request(request_started, cases[1])  # plain WSGI: all in C
        assert calls == [] and capture.current_request.get() == ("abc", "GET", "/orders/")
        recorder.begin_request(request_started, cases[-1])  # ASGI: Python's
        assert calls == [(request_started, cases[-1])]
    finally:
        capture.current_request.set(None)
        runtime.stop()


@pytest.mark.parametrize("accelerated", [True, False])
def test_every_full_batch_and_the_first_event_after_idling_wake_the_sender(accelerated):
    runtime.stop()
    publisher = Publisher(ProbeConfig(batch_size=5), hello_info={})
    publisher._running = True  # no sender thread: we watch its wake-up event
    probe = runtime.start(ProbeConfig(), sink=lambda e: None)
    probe.recorder.use_publisher(publisher)
    if not accelerated:
        probe.recorder.finish = probe.recorder._finish_py
    plain, *_ = make_signals()
    woken = []
    try:
        for _ in range(12):
            plain.send(sender=None)
            woken.append(publisher._wake.is_set())
            publisher._wake.clear()
        assert len(publisher._queue) == 12
        assert [i + 1 for i, w in enumerate(woken) if w] == [5, 10]
        publisher._queue.clear()
        publisher._idle = True  # the sender thread sleeps until the next heartbeat
        woken.clear()
        for _ in range(3):
            plain.send(sender=None)
            woken.append(publisher._wake.is_set())
            publisher._wake.clear()
        assert woken == [True, False, False] and publisher._idle is False
    finally:
        runtime.stop()
        publisher.close()


def random_plain(rng, depth=0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        bits = rng.choice([4, 7, 8, 15, 16, 31, 32, 63])
        return rng.randrange(-(2 ** bits), 2 ** bits)
    if kind in (2, 3, 4):
        alphabet = rng.choice(["ab", "é☃", "😀x"])
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 5, 31, 32, 300])))
    n = rng.choice([0, 1, 3, 15, 16] if depth == 0 else [0, 1, 2, 3])
    if kind == 5:
        return tuple(random_plain(rng, depth + 1) for _ in range(n))
    if kind == 6:
        return [random_plain(rng, depth + 1) for _ in range(n)]
    return {f"k{i}": random_plain(rng, depth + 1) for i in range(n)}


def test_c_packer_writes_the_bytes_msgspec_writes_or_leaves_it_to_msgspec():
    import random

    from django_probe import _accel

    edges = [None, True, False, 0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32,
             2**63 - 1, -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1,
             -2**63, "", "x" * 31, "x" * 32, "x" * 255, "x" * 256, "x" * 65535,
             "x" * 65536, tuple(range(15)), tuple(range(16)), tuple(range(70_000)),
             {str(i): i for i in range(16)}, {str(i): i for i in range(70_000)}]
    rng = random.Random(7)
    for value in edges + [random_plain(rng) for _ in range(2000)]:
        assert _accel.pack(value) == wire.pack_event(value)
    # Not ours: msgspec packs subclasses (via wire's hook) or refuses; either way its call.
    for value in (2**64, 1.5, "\ud800", b"x", StrSubclass("s"), {1: "int key"},
                  (1, [2, {"k": 1.0}]), wire.Proc(1, "h", "b")):
        assert _accel.pack(value) is None
