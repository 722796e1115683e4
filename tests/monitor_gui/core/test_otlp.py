"""core.otlp: the span model (parents, trace ids, attributes, errors) in OTLP/JSON."""

from __future__ import annotations

import io
import json

import pytest

pytest.importorskip("opentelemetry.sdk")

from django_probe import wire
from monitor_gui.core import otlp, otlp_export
from tests.monitor_gui.core.events import PROC, dispatch, receiver

T0 = 1_700_000_000_000_000_000


def _frames():
    """A request's save (two receivers, the second sends a nested dispatch and raises under
    send_robust), then a dispatch outside any request."""
    child = dispatch(2, ts=T0 + 1_500, parent=1, signal="shop.signals.order_paid",
                     sender="shop.Order", dur=300, request="req-9",
                     receivers=[receiver("mail", "shop.mail", dur=200)])
    parent = dispatch(1, ts=T0, dur=5_000, request="req-9", method="send_robust",
                      receivers=[receiver("first", "shop.receivers", dur=1_000),
                                 receiver("pay", "shop.receivers", dur=3_000,
                                          outcome=wire.RAISED,
                                          exc=("builtins.KeyError", "'total'")),
                                 receiver("third", "shop.receivers", outcome=wire.SKIPPED)])
    alone = dispatch(3, ts=T0 + 10_000, request=None, signal="django.core.signals.setting_changed")
    return [wire.Frame(PROC, 0, [child, parent, alone], 0)]


@pytest.fixture(scope="module")
def spans():
    out = io.StringIO()
    summary = otlp_export.write_json(_frames(), out)
    lines = out.getvalue().splitlines()
    assert len(lines) == summary.requests == 1
    doc = json.loads(lines[0])
    (rs,) = doc["resourceSpans"]
    attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
    assert attrs["host.name"] == {"stringValue": "web1"}
    assert attrs["process.pid"] == {"intValue": "101"}
    (ss,) = rs["scopeSpans"]
    assert ss["scope"]["name"] == "django_signal_monitor"
    assert summary.spans == len(ss["spans"]) == 3 + 4  # skipped receivers are not spans
    return {s["name"]: s for s in ss["spans"]}


def _attrs(span):
    return {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}


def test_dispatch_and_receiver_spans(spans):
    save, pay = spans["post_save"], spans["shop.receivers.pay"]
    first = spans["shop.receivers.first"]
    assert len(save["traceId"]) == 32 and len(save["spanId"]) == 16  # hex, as OTLP/JSON says
    assert "parentSpanId" not in save
    assert int(save["startTimeUnixNano"]) == T0 and int(save["endTimeUnixNano"]) == T0 + 5_000
    a = _attrs(save)
    assert a["django.signal"] == "django.db.models.signals.post_save"
    assert a["django.signal.sender"] == "auth.User"
    assert a["django.signal.method"] == "send_robust"
    assert a["django.signal.outcome"] == "receiver_raised"
    assert a["http.request.method"] == "POST" and a["url.path"] == "/signup/"
    assert a["django.signal.skipped"] == {"values": [{"stringValue": "shop.receivers.third"}]}
    # receivers one after another from the dispatch's start, children of its span
    assert first["parentSpanId"] == pay["parentSpanId"] == save["spanId"]
    assert int(first["startTimeUnixNano"]) == T0
    assert int(pay["startTimeUnixNano"]) == T0 + 1_000
    assert int(pay["endTimeUnixNano"]) == T0 + 4_000
    assert _attrs(first)["code.line.number"] == "12"
    assert "status" not in first or first["status"] == {}


def test_a_receiver_that_raised_is_an_error(spans):
    pay = spans["shop.receivers.pay"]
    assert pay["status"]["code"] == 2  # STATUS_CODE_ERROR
    assert "builtins.KeyError" in pay["status"]["message"]
    a = _attrs(pay)
    assert a["exception.type"] == "builtins.KeyError" and a["django.receiver.outcome"] == "raised"
    (event,) = pay["events"]
    assert event["name"] == "exception"


def test_nested_dispatch_is_a_child_of_the_receiver_that_sent_it(spans):
    nested, pay, save = spans["order_paid"], spans["shop.receivers.pay"], spans["post_save"]
    assert nested["parentSpanId"] == pay["spanId"]  # started at T0 + 1,500: in pay's slice
    assert nested["traceId"] == save["traceId"] == f"{otlp.request_trace_id('req-9'):032x}"
    assert spans["shop.mail.mail"]["parentSpanId"] == nested["spanId"]


def test_a_dispatch_outside_requests_has_its_own_trace(spans):
    alone = spans["setting_changed"]
    assert alone["traceId"] != spans["post_save"]["traceId"]
    assert "parentSpanId" not in alone


def test_ids_are_deterministic():
    a, b = io.StringIO(), io.StringIO()
    otlp_export.write_json(_frames(), a)
    otlp_export.write_json(_frames(), b)
    assert a.getvalue() == b.getvalue()


def test_traces_url():
    assert otlp_export.traces_url("http://c:4318") == "http://c:4318/v1/traces"
    assert otlp_export.traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert otlp_export.traces_url("https://c/otlp/v1/traces") == "https://c/otlp/v1/traces"


TRACE, PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.mark.parametrize("header, joins", [(f"00-{TRACE}-{PARENT}-01", True),
                                           (f"00-{'0' * 32}-{PARENT}-01", False),
                                           (f"ff-{TRACE}-{PARENT}-01", False)])
def test_a_request_with_a_traceparent_puts_its_dispatches_into_that_trace(header, joins):
    request = wire.RequestInfo("req-7", "GET", "/", header)
    top = dispatch(1, ts=T0, dur=5_000, receivers=[receiver("first", "shop.receivers",
                                                            dur=4_000)])._replace(request=request)
    nested = dispatch(2, ts=T0 + 100, parent=1, dur=50, signal="shop.signals.paid")._replace(
        request=request)
    out = io.StringIO()
    otlp_export.write_json([wire.Frame(PROC, 0, [nested, top], 0)], out)
    (rs,) = json.loads(out.getvalue())["resourceSpans"]
    spans = {s["name"]: s for s in rs["scopeSpans"][0]["spans"]}
    top_span, nested_span = spans["post_save"], spans["paid"]
    assert nested_span["parentSpanId"] == spans["shop.receivers.first"]["spanId"]
    assert nested_span["traceId"] == top_span["traceId"]
    if joins:
        assert top_span["traceId"] == TRACE
        assert top_span["parentSpanId"] == PARENT
        assert _attrs(top_span)["django.request.traceparent"] == header
    else:
        assert top_span["traceId"] == f"{otlp.request_trace_id('req-7'):032x}"
        assert "parentSpanId" not in top_span
