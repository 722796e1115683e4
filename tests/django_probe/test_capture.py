"""What the probe records: nesting, requests, kwargs, redaction, names, counts, topology."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

import django
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import connection
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext

from django_probe import _dispatch, runtime, wire
from django_probe.conf import ProbeConfig
from django_probe.describe import REDACTED, Describer
from tests.django_probe.support import resolved, start_recording
from tests.django_probe.testapp.models import Author

module_level_signal = Signal()


class Holder:
    changed = Signal()


@pytest.fixture
def probe():
    running, running.events = start_recording()
    yield running
    runtime.stop()


def dispatches(events, suffix):
    return [e for e in events if e.kind == "D" and e.signal.endswith(suffix)]


def test_nested_dispatch_records_parent_and_call_site(probe):
    outer, inner = Signal(), Signal()

    def on_outer(sender, **kwargs):
        inner.send(sender=sender)  # nested
        return "outer-done"

    inner.connect(lambda sender, **kw: "inner-done", weak=False)
    outer.connect(on_outer, weak=False)
    outer.send(sender=Author); line = __import__("inspect").currentframe().f_lineno  # noqa: E702

    inner_event, outer_event = probe.events  # inner finishes first
    assert inner_event.parent == outer_event.id
    assert outer_event.parent is None
    assert outer_event.site.file == __file__ and outer_event.site.line == line
    assert outer_event.site.func == "test_nested_dispatch_records_parent_and_call_site"
    assert inner_event.site.func == "on_outer"
    assert outer_event.sender == "testapp.Author"
    assert outer_event.receivers[0].value == "'outer-done'"
    assert outer_event.dur >= outer_event.receivers[0].dur > 0


def test_call_sites_stay_exact_per_line_when_a_function_sends_again_and_again(probe):
    # Call sites are cached per code object and instruction offset: each line keeps its own.
    ping = Signal()
    ping.connect(lambda sender, **kw: None, weak=False)

    def send_twice():
        ping.send(sender=None); first = __import__("inspect").currentframe().f_lineno  # noqa: E702
        ping.send(sender=None); second = __import__("inspect").currentframe().f_lineno  # noqa: E702
        return first, second

    lines = [send_twice() for _ in range(3)]
    sites = [(e.site.func, e.site.line) for e in dispatches(probe.events, "")]
    assert sites == [("send_twice", line) for pair in lines for line in pair]
    assert lines[0][1] == lines[0][0] + 1


def test_signal_names_for_module_class_and_late_signals(probe):
    for signal in (module_level_signal, Holder.changed):
        signal.connect(lambda sender, **kw: None, weak=False)
        signal.send(sender=None)
    late = Signal()  # created after the probe started, only a local name
    late.connect(lambda sender, **kw: None, weak=False)
    late.send(sender=None)
    names = [e.signal for e in probe.events]
    assert names[0] == "tests.django_probe.test_capture.module_level_signal"
    assert names[1] == "tests.django_probe.test_capture.Holder.changed"
    assert names[2].startswith("tests.django_probe.test_capture.<signal line ")


def test_a_scan_reads_only_modules_imported_or_replaced_since_the_last(monkeypatch):
    import sys
    import types

    from django_probe.naming import SignalRegistry

    registry = SignalRegistry()
    registry.scan()
    old = types.ModuleType("probe_scan_old")
    old.ready = Signal()
    monkeypatch.setitem(sys.modules, old.__name__, old)
    registry.scan()
    assert registry.names[id(old.ready)] == "probe_scan_old.ready"
    new = types.ModuleType("probe_scan_new")
    new.done = Signal()
    monkeypatch.setitem(sys.modules, new.__name__, new)
    old.later = Signal()  # added to a module already read: not seen by the next scan
    registry.scan()
    assert registry.names[id(new.done)] == "probe_scan_new.done"
    assert id(old.later) not in registry.names
    replaced = types.ModuleType("probe_scan_old")  # a reloaded module is read again
    replaced.ready, replaced.later = old.ready, old.later
    monkeypatch.setitem(sys.modules, old.__name__, replaced)
    monkeypatch.setitem(sys.modules, "probe_scan_pad", types.ModuleType("probe_scan_pad"))
    registry.scan()
    assert registry.names[id(old.later)] == "probe_scan_old.later"
    assert registry.names[id(old.ready)] == "probe_scan_old.ready"


@pytest.mark.django_db
def test_request_context_ties_dispatches_to_one_request(probe, client):
    from tests.django_probe.testapp.urls import page_viewed

    page_viewed.connect(lambda sender, **kw: None, weak=False, dispatch_uid="t")
    response = client.get("/hello/", HTTP_X_REQUEST_ID="req-42")
    assert response.content == b"hello"
    ids = {e.signal.rsplit(".", 1)[-1]: e.request for e in probe.events if e.kind == "D"}
    assert ids["page_viewed"] == ("req-42", "GET", "/hello/", None)
    # request_started (reset_queries) and request_finished (close_caches) carry the request too.
    assert ids["request_started"] == ids["request_finished"] == ids["page_viewed"]
    page_viewed.disconnect(dispatch_uid="t")
    client.get("/hello/")
    assert [e.request for e in probe.events if e.kind == "D"][-1][0] != "req-42"  # fresh id


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.django_db
@pytest.mark.parametrize("header, kept", [(TRACEPARENT, TRACEPARENT),
                                          ("00-XYZ-not-a-traceparent", None),
                                          (TRACEPARENT + " " * 3, None)])
def test_a_request_carries_its_well_formed_traceparent_header_only(probe, client, header, kept):
    from django.test import AsyncClient

    client.get("/hello/", headers={"traceparent": header})
    asyncio.run(AsyncClient().get("/hello/", headers={"traceparent": header}))
    started = dispatches(probe.events, "request_started")
    assert len(started) == 2
    for event in started:
        assert event.request.traceparent == kept
        wire.typed(event)  # what the probe sends is valid on the wire


@pytest.mark.django_db
def test_requests_are_tracked_when_request_signals_have_no_receivers(probe, client):
    # With nobody listening, request_started/finished take the no-receiver path: they must
    # still open and close the request context, every time (not only the first), and be
    # counted.
    from django.core.signals import request_finished, request_started

    from tests.django_probe.testapp.urls import page_viewed

    saved = (request_started.receivers, request_finished.receivers)
    request_started.receivers, request_finished.receivers = [], []
    request_started.sender_receivers_cache.clear()
    request_finished.sender_receivers_cache.clear()
    page_viewed.connect(lambda sender, **kw: None, weak=False, dispatch_uid="t")
    try:
        for n in range(3):
            client.get("/hello/", HTTP_X_REQUEST_ID=f"req-{n}")
        page_viewed.send(sender=None, path="/outside/")  # after the last request finished
    finally:
        page_viewed.disconnect(dispatch_uid="t")
        request_started.receivers, request_finished.receivers = saved
        request_started.sender_receivers_cache.clear()
        request_finished.sender_receivers_cache.clear()
    seen = [e.request for e in dispatches(probe.events, "page_viewed")]
    assert seen == [("req-0", "GET", "/hello/", None), ("req-1", "GET", "/hello/", None),
                    ("req-2", "GET", "/hello/", None), None]
    counts = {(i.signal, i.method): i.count
              for i in resolved(probe.strings, probe.recorder.drain_empty()).items}
    assert counts[("django.core.signals.request_started", "send")] == 3
    assert counts[("django.core.signals.request_finished", "send")] == 3


@pytest.mark.django_db
def test_kwargs_summary_never_queries_or_loads_deferred_fields(probe):
    author = Author.objects.create(name="Ann")
    deferred = Author.objects.only("id").get(pk=author.pk)
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    with CaptureQueriesContext(connection) as ctx:
        signal.send(sender=Author, instance=deferred, created=True, update_fields=None,
                    books=Author.objects.all(), raw=b"\x00\x01")
    assert ctx.captured_queries == []
    assert "name" not in deferred.__dict__  # still deferred
    kwargs = probe.events[-1].kwargs
    assert kwargs["instance"] == f"testapp.Author pk={author.pk}"
    assert kwargs["created"] == "True"
    assert kwargs["update_fields"] == "None"
    assert kwargs["books"] == "<QuerySet testapp.Author>"
    assert kwargs["raw"] == "<bytes len=2>"


def test_secrets_are_redacted():
    d = Describer(extra_pattern="PIN")
    out = d.kwargs({"password": "hunter2", "api_key": "k", "sessionid": "s", "csrftoken": "c",
                    "user_pin": "1234", "credentials": {"username": "bob", "password": "x"},
                    "data": {"token": "t", "ok": 1}, "name": "bob"})
    for key in ("password", "api_key", "sessionid", "csrftoken", "user_pin", "credentials"):
        assert out[key] == REDACTED, key
    assert out["data"] == f"{{'token': {REDACTED}, 'ok': 1}}"
    assert out["name"] == "'bob'"
    long = d.value("x" * 1000)
    assert len(long) <= d.max_len


def test_kwargs_summaries_are_bounded_and_agree_with_value_for_every_kind():
    d = Describer(max_len=40, max_items=4)
    named = {"created": True, "raw": False, "update_fields": None, "big": 10**300}
    out = d.kwargs(named)
    assert out == {key: d.value(value) for key, value in named.items()}
    assert out["created"] == "True" and out["update_fields"] == "None"
    assert len(out["big"]) == 40 and out["big"].endswith("…")  # a huge int is cut too
    many = d.kwargs({f"k{i}": i for i in range(7)})
    assert list(many) == ["k0", "k1", "k2", "k3", "…"] and many["…"] == "3 more"


def test_value_branches_are_remembered_per_class_without_keeping_classes_alive():
    d = Describer()

    class FakeMeta:
        label = "fake.Thing"
        pk = type("Pk", (), {"attname": "id"})()

    def make(name, bases=(), **attrs):
        return type(name, bases, attrs)

    # A class with _meta: its instances are described as models only if they have _state.
    Thing = make("Thing", _meta=FakeMeta())
    saved, unsaved, plain = Thing(), Thing(), Thing()
    saved.__dict__.update(_state=object(), id=7)
    unsaved.__dict__.update(_state=object())
    assert [d.value(x) for x in (saved, unsaved, plain)] == [
        "fake.Thing pk=7", "fake.Thing (unsaved)", f"<{__name__}.{Thing.__qualname__}>"]
    # The same answer on a cache hit, and per class: a dict subclass by its size only
    # (its methods may be the app's; tests/django_probe/test_describe_safety.py).
    assert d.value(saved) == "fake.Thing pk=7"
    Mapping = make("Mapping", (dict,))
    assert d.value(Mapping(a=1)) == "<Mapping len=1>"
    # Only weak references are kept: a class created at run time can be collected.
    Temp = make("Temp")
    d.value(Temp())
    ref = weakref.ref(Temp)
    del Temp
    gc.collect()
    assert ref() is None


def test_request_environ_and_scope_are_summarised_by_their_request_line():
    d = Describer()
    secret = "sessionid=abcdef0123456789"
    environ = {"HTTP_COOKIE": secret, "REQUEST_METHOD": "POST", "PATH_INFO": "/login/",
               "HTTP_AUTHORIZATION": "Bearer t0ken", "wsgi.input": object()}
    scope = {"type": "http", "method": "GET", "path": "/articles/",
             "headers": [(b"cookie", secret.encode())]}
    out = d.kwargs({"environ": environ, "scope": scope})
    assert out == {"environ": "<WSGI environ POST /login/ (5 keys)>",
                   "scope": "<ASGI http scope GET /articles/>"}
    # Anything else that merely looks similar is summarised key by key as before.
    assert d.value({"PATH_INFO": 3, "REQUEST_METHOD": "GET"}) == (
        "{'PATH_INFO': 3, 'REQUEST_METHOD': 'GET'}")
    assert d.value({"type": "lifespan", "path": "/"}) == "{'type': 'lifespan', 'path': '/'}"


@pytest.mark.django_db
def test_login_failed_credentials_never_leave_the_process(probe):
    seen = []
    from django.contrib.auth.signals import user_login_failed

    def on_failed(sender, credentials, **kwargs):
        seen.append(credentials)

    user_login_failed.connect(on_failed)
    try:
        User.objects.create_user("bob", password="right-password")
        assert authenticate(username="bob", password="wrong-password-123") is None
    finally:
        user_login_failed.disconnect(on_failed)
    assert seen
    (event,) = dispatches(probe.events, "user_login_failed")
    assert "wrong-password-123" not in repr(event)
    assert event.kwargs["credentials"] == REDACTED


@pytest.mark.django_db
def test_no_receiver_dispatches_are_counted_not_streamed(probe):
    for i in range(5):
        Author(name=str(i))
    assert not dispatches(probe.events, "pre_init")
    counts = {(i.signal, i.sender): i.count
              for i in resolved(probe.strings, probe.recorder.drain_empty()).items}
    assert counts[("django.db.models.signals.pre_init", "testapp.Author")] == 5
    assert counts[("django.db.models.signals.post_init", "testapp.Author")] == 5
    assert probe.recorder.drain_empty() is None  # drained


def test_send_robust_logging_of_a_failure_is_not_charged_to_the_next_receiver(probe):
    # Django logs each failure under send_robust(); a slow log handler must not make the
    # following receiver look slow (its clock starts after the logging).
    class SlowHandler(logging.Handler):
        def emit(self, record):
            time.sleep(0.05)  # a slow log sink (not a wait in the test)

    robust = Signal()

    def fails(sender, **kwargs):
        raise ValueError("boom")

    robust.connect(fails, weak=False)
    robust.connect(lambda sender, **kw: None, weak=False)
    handler = SlowHandler()
    logger = logging.getLogger("django.dispatch")
    logger.addHandler(handler)
    try:
        robust.send_robust(sender=None)
    finally:
        logger.removeHandler(handler)
    (event,) = dispatches(probe.events, "")
    failed, after = event.receivers
    assert (failed.outcome, after.outcome) == (wire.RAISED, wire.RETURNED)
    assert after.dur < 40_000_000 <= 50_000_000 <= event.dur


def test_stream_empty_and_ignore_signals():
    _probe, events = start_recording(ProbeConfig(
        stream_empty=True, ignore_signals=frozenset({"django.db.models.signals.post_init"})))
    try:
        Author(name="x")
    finally:
        runtime.stop()
    assert [e.signal for e in events] == ["django.db.models.signals.pre_init"]
    assert events[0].receivers == []


def test_topology_lists_connected_receivers_before_anything_fires(probe):
    def never_fired(sender, **kwargs):
        pass

    module_level_signal.connect(never_fired, sender=Author)
    try:
        snapshot = resolved(probe.strings, probe.watcher.snapshot())
    finally:
        module_level_signal.disconnect(never_fired, sender=Author)
    wiring = {s.name: s.receivers for s in snapshot.signals}
    (receiver,) = [r for r in wiring["tests.django_probe.test_capture.module_level_signal"]
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


@pytest.mark.django_db(transaction=True)
def test_request_context_under_asgi(probe):

    from django.test import AsyncClient

    from tests.django_probe.testapp.urls import page_viewed

    page_viewed.connect(lambda sender, **kw: None, weak=False, dispatch_uid="asgi")
    try:
        response = asyncio.run(AsyncClient().get("/hello/", headers={"X-Request-ID": "asgi-1"}))
    finally:
        page_viewed.disconnect(dispatch_uid="asgi")
    assert response.status_code == 200
    (viewed,) = dispatches(probe.events, "page_viewed")
    (started,) = dispatches(probe.events, "request_started")
    # Django >= 5.0's ASGIHandler uses asend(); 4.2 wraps send() in sync_to_async.
    assert started.method == ("asend" if django.VERSION >= (5, 0) else "send")
    assert viewed.request == ("asgi-1", "GET", "/hello/", None)
    assert started.request == viewed.request


def test_lazy_objects_are_never_evaluated(probe, monkeypatch):
    import sys
    import types

    from django.utils.functional import SimpleLazyObject
    from django.utils.translation import gettext_lazy

    evaluations: list[str] = []
    # A module holding a lazy object (like django.contrib.staticfiles.storage does); made
    # here because pytest's collection itself would evaluate one in a test module.
    module = types.ModuleType("lazy_module_for_probe_test")
    module.storage = SimpleLazyObject(lambda: evaluations.append("module") or object())
    monkeypatch.setitem(sys.modules, module.__name__, module)

    lazy_user = SimpleLazyObject(lambda: evaluations.append("kwarg") or "user")
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    signal.send(sender=None, user=lazy_user, label=gettext_lazy("Hello"))
    probe.registry.scan()  # names signals by walking every module attribute
    probe.watcher.snapshot()
    assert evaluations == []
    assert probe.events[-1].kwargs == {"user": "<SimpleLazyObject (not evaluated)>",
                                       "label": "<lazy __proxy__>"}
    str(lazy_user)  # once the app evaluates it, its value may be described
    signal.send(sender=None, user=lazy_user)
    assert probe.events[-1].kwargs == {"user": "'user'"}


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_request_ids_differ_between_forked_workers(probe):
    import os

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    from django.core.signals import request_started

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked worker (gunicorn --preload) numbers its requests afresh
        try:
            probe.recorder.begin_request(request_started, {"environ": environ})
            from django_probe.capture import current_request

            os.write(write, current_request.get()[0].encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child_id = os.read(read, 100).decode()
    probe.recorder.begin_request(request_started, {"environ": environ})
    from django_probe.capture import current_request

    assert child_id and current_request.get()[0] != child_id
    os.close(read)
    os.close(write)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_does_not_report_the_no_receiver_counts_of_its_parent(probe):
    import os

    lonely = Signal()
    for _ in range(3):
        lonely.send(sender=Author)  # counted in the parent, not drained yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            lonely.send(sender=Author)
            drained = probe.recorder.drain_empty()
            os.write(write, str(sum(i.count for i in drained.items)).encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child_total = os.read(read, 100).decode()
    os.close(read)
    os.close(write)
    assert child_total == "1"  # its own dispatch only
    (item,) = [i for i in resolved(probe.strings, probe.recorder.drain_empty()).items
               if i.sender == "testapp.Author"]
    assert item.count == 3  # the parent still reports its own


def test_no_receiver_counts_are_kept_per_signal_sender_and_method(probe):
    first = Signal()
    second = Signal()
    for _ in range(4):
        first.send(sender=Author)
    first.send(sender=None)
    first.send_robust(sender=Author)
    second.send(sender=Author)
    counts = {(i.signal, i.sender, i.method): i.count
              for i in resolved(probe.strings, probe.recorder.drain_empty()).items}
    one, two = probe.recorder.registry.name(first), probe.recorder.registry.name(second)
    assert one != two
    assert counts == {(one, "testapp.Author", "send"): 4,
                      (one, "None", "send"): 1,
                      (one, "testapp.Author", "send_robust"): 1,
                      (two, "testapp.Author", "send"): 1}
    first.send(sender=Author)  # a drained pair is counted afresh
    (item,) = resolved(probe.strings, probe.recorder.drain_empty()).items
    assert (item.sender, item.count) == ("testapp.Author", 1)


@pytest.mark.skipif(not _dispatch.MODERN, reason="asend() is Django >= 5.0")
def test_a_cancelled_asend_is_recorded_and_its_nest_keeps_nothing(probe):
    # Cancelling asend() cancels its async receivers, but its sync ones go on in their
    # thread and end after the dispatch was recorded: their late rows must not be kept.
    import threading

    from asgiref.sync import sync_to_async

    from django_probe import capture

    cancelled = Signal()
    nests, gate = [], threading.Event()

    def blocks(sender, **kwargs):
        nests.append(capture.current_dispatch.get())
        gate.wait(30)
        return "late"

    async def never_returns(sender, **kwargs):
        await asyncio.sleep(3600)

    cancelled.connect(blocks, weak=False)
    cancelled.connect(never_returns, weak=False)

    async def main():
        task = asyncio.ensure_future(cancelled.asend(sender=None))
        while not nests:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        await sync_to_async(lambda: None)()  # the same thread: after blocks() has ended

    asyncio.run(main())
    name = probe.recorder.registry.name(cancelled)
    (event,) = [e for e in probe.events if e.kind == "D" and e.signal == name]
    assert event.raised is True and event.method == "asend"
    assert [(r.is_async, r.outcome) for r in event.receivers] == [
        (False, "skipped"), (True, "raised")]  # blocks() had not ended yet
    (nest,) = nests
    assert nest.done and list(nest.calls) == []  # its late row was not kept


def test_thread_names_are_those_of_the_dispatching_threads(probe):
    import threading

    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    signal.send(sender=None)
    for name in ("worker-a", "worker-b"):  # ids of finished threads are often reused
        thread = threading.Thread(target=signal.send, kwargs={"sender": None}, name=name)
        thread.start()
        thread.join()
    signal.send(sender=None)
    assert [e.thread for e in probe.events] == [
        "MainThread", "worker-a", "worker-b", "MainThread"]


def test_a_failure_while_counting_a_no_receiver_dispatch_never_reaches_the_app(probe,
                                                                              monkeypatch):
    def broken(signal):
        raise RuntimeError("naming bug")

    monkeypatch.setattr(probe.registry, "name", broken)
    lonely = Signal()
    assert lonely.send(sender=None) == []  # the app sees Django's own result
    assert next(probe.recorder.failures) == 1  # one failure counted (next() reads it)


def test_timestamps_are_wall_clock_times_of_the_dispatch_start(probe):
    # ts is derived from the monotonic start of the receivers plus a wall-clock offset
    # (one clock read fewer per dispatch): it must still read like time.time_ns().
    tick = Signal()
    tick.connect(lambda sender, **kw: time.sleep(0.002), weak=False)
    stamps = []
    for _ in range(3):
        before = time.time_ns()
        tick.send(sender=None)
        stamps.append((before, time.time_ns()))
    events = dispatches(probe.events, "")
    assert len(events) == 3
    for event, (before, after) in zip(events, stamps, strict=True):
        assert before - 1_000_000 <= event.ts <= after - event.dur + 1_000_000
    assert events[0].ts < events[1].ts < events[2].ts


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
