"""``signal-monitor export --format otlp``: the real recording to an OTLP/JSON file, and a
recording POSTed to a (tiny, loopback) OTLP/HTTP collector."""

from __future__ import annotations

import json
from collections import Counter

import pytest

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from django_probe import wire
from monitor_gui import cli
from monitor_gui.core.recording import read_recording
from tests.monitor_gui.conftest import REAL_RECORDING
from tests.monitor_gui.core import diffdata


@pytest.fixture(scope="module")
def real_export(tmp_path_factory):
    """The real recording exported once: (spans by id, expected counts)."""
    out = tmp_path_factory.mktemp("otlp") / "real.otlp.json"
    assert cli.main(["export", "--format", "otlp", str(REAL_RECORDING), "--out", str(out)]) == 0
    spans = {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            for rs in json.loads(line)["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        spans[s["spanId"]] = s
    dispatches = calls = raised = nested = 0
    for frame in read_recording(REAL_RECORDING):
        for e in frame.events:
            if e[0] == wire.KIND_DISPATCH:
                dispatches += 1
                nested += e.parent is not None
                for r in e.receivers:
                    calls += r.outcome != wire.SKIPPED
                    raised += r.outcome == wire.RAISED
    return spans, {"dispatches": dispatches, "calls": calls, "raised": raised, "nested": nested}


def _attrs(span):
    return {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}


@pytest.mark.slow
@pytest.mark.timeout(600)  # ~20 s alone; protobuf's JSON printer is pure Python
def test_real_recording_to_an_otlp_json_file(real_export):
    spans, expected = real_export
    assert len(spans) == expected["dispatches"] + expected["calls"]  # ids are unique
    kinds = Counter("django.receiver" in _attrs(s) for s in spans.values())
    assert kinds == {False: expected["dispatches"], True: expected["calls"]}
    nested = by_receiver = 0
    for s in spans.values():
        parent = spans.get(s.get("parentSpanId"))
        if "django.receiver" in _attrs(s):  # a receiver: child of its dispatch
            assert parent is not None and "django.receiver" not in _attrs(parent)
            assert parent["traceId"] == s["traceId"]
            assert int(parent["startTimeUnixNano"]) <= int(s["startTimeUnixNano"])
        elif parent is not None:  # a nested dispatch: child of a receiver of its parent
            nested += 1  # dispatch (or of the parent dispatch, if it starts before it)
            assert parent["traceId"] == s["traceId"]
            if "django.receiver" in _attrs(parent):
                by_receiver += 1
                parent = spans[parent["parentSpanId"]]
            assert "django.receiver" not in _attrs(parent)
    assert nested == expected["nested"]  # every parent is in the recording
    assert by_receiver > 0.9 * nested
    errors = [s for s in spans.values() if s.get("status", {}).get("code") == 2]
    assert len(errors) >= expected["raised"] > 0
    raised = next(s for s in errors if "django.receiver" in _attrs(s))
    assert _attrs(raised)["exception.type"] and raised["events"][0]["name"] == "exception"
    some = next(s for s in spans.values() if "url.path" in _attrs(s))
    assert {"django.signal", "django.signal.sender", "django.signal.outcome",
            "http.request.method", "thread.name"} <= set(_attrs(some))


def test_endpoint_receives_the_spans_over_otlp_http(otlp_collector, tmp_path, capsys):
    server, handler = otlp_collector
    rec = diffdata.write(tmp_path / "a.jsonl", "a")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    assert cli.main(["export", "--format", "otlp", str(rec), "--endpoint", url,
                     "--service-name", "shop"]) == 0
    assert "to " + url + "/v1/traces" in capsys.readouterr().err
    assert handler.received
    spans = []
    for path, content_type, body in handler.received:
        assert path == "/v1/traces" and content_type == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            service = {a.key: a.value.string_value for a in rs.resource.attributes}
            assert service["service.name"] == "shop"
            for ss in rs.scope_spans:
                spans.extend(ss.spans)
    dispatches = len(diffdata.plan("a"))
    assert len(spans) == 2 * dispatches  # one receiver each
    assert sum(1 for s in spans if s.parent_span_id) == dispatches


def test_a_refusing_collector_is_an_error(otlp_collector, tmp_path, capsys):
    server, handler = otlp_collector
    handler.status = 400  # not retried
    rec = diffdata.write(tmp_path / "a.jsonl", "a")
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    assert cli.main(["export", "--format", "otlp", str(rec), "--endpoint", url]) == 1
    assert "did not accept the spans" in capsys.readouterr().err


def test_otlp_usage_errors(tmp_path, capsys):
    rec = str(diffdata.write(tmp_path / "a.jsonl", "a"))
    assert cli.main(["export", "--format", "otlp", rec, "--endpoint", "http://x:1",
                     "--out", "f.json"]) == 2
    assert cli.main(["export", rec, "--endpoint", "http://x:1"]) == 2  # perfetto
    assert "need --format otlp" in capsys.readouterr().err
