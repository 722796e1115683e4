"""The request context: dispatches tied to their request (WSGI, ASGI, forks), traceparent."""

from __future__ import annotations

import asyncio

import django
import pytest

from django_probe import wire
from tests.django_probe.support import dispatches, resolved


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
