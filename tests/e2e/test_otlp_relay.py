"""The live OTLP relay end to end: a real demo site (the probe streaming) logs a user in;
``signal-monitor record --otlp URL`` relays the dispatches as spans, as they come, to an
OTLP/HTTP collector (a local HTTP server decoding the protobuf); the nested dispatches keep
their parents and their trace."""

from __future__ import annotations

import signal

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from demo_site.traffic import Browser
from tests.e2e.support import wait_until
from tests.e2e.test_ctrl_c import start, stop_with, wait_bound

pytestmark = pytest.mark.e2e


def spans_of(handler) -> list:
    spans = []
    for _path, _type, body in list(handler.received):
        for rs in ExportTraceServiceRequest.FromString(body).resource_spans:
            for ss in rs.scope_spans:
                spans.extend(ss.spans)
    return spans


def attrs(span) -> dict:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


def test_a_login_reaches_the_collector_live_with_its_parents(tmp_path, otlp_collector,
                                                             start_site):
    server, handler = otlp_collector
    url = f"http://127.0.0.1:{server.server_address[1]}"
    recorder, port = start(tmp_path, "record", "--otlp", url, "--service-name", "demo")
    wait_bound(recorder, port)
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": f"tcp://127.0.0.1:{port}"})
    assert Browser(site.base_url).login("demo", "demo-password-123")

    def logged_in() -> bool:
        return any(attrs(s).get("django.signal", "").endswith("user_logged_in")
                   for s in spans_of(handler))

    # Sent while the recorder runs, not at its exit: the relay flushes every second.
    wait_until(logged_in, "the user_logged_in span at the collector", timeout=60)
    assert recorder.poll() is None
    _took, err = stop_with(recorder, signal.SIGINT)
    assert recorder.returncode == 0, err
    assert "otlp: " in err and "dropped" not in err.split("otlp: ")[-1]
    spans = spans_of(handler)
    by_id = {s.span_id: s for s in spans}
    logged = next(s for s in spans if attrs(s).get("django.signal", "").endswith(
        "user_logged_in") and "django.receiver" not in attrs(s))
    # update_last_login (a user_logged_in receiver) saves the user: that post_save is
    # nested in the receiver's span, in the same trace.
    (save,) = [s for s in spans if attrs(s).get("django.signal") ==
               "django.db.models.signals.post_save" and s.trace_id == logged.trace_id
               and attrs(s).get("django.signal.sender") == "auth.User"]
    parent = by_id[save.parent_span_id]
    assert parent.parent_span_id == logged.span_id  # the receiver's span, then the dispatch
    assert "update_last_login" in attrs(parent).get("django.receiver", "")
    assert site.stop() == 0
