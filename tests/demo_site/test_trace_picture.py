"""demo_site.trace_picture: one trace of an OTLP/JSON file drawn as a waterfall."""

from __future__ import annotations

import json
import struct

from demo_site import trace_picture

T = "ab" * 16


def _span(name: str, sid: str, parent: str, start: int, end: int, error: bool = False,
          **attrs: str) -> dict:
    span = {"traceId": T, "spanId": sid, "name": name, "kind": 1,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
            "attributes": [{"key": k.replace("_", "."), "value": {"stringValue": v}}
                           for k, v in attrs.items()], "status": {}}
    if parent:
        span["parentSpanId"] = parent
    if error:
        span["status"] = {"code": 2, "message": "ValueError: no"}
    return span


def otlp_file(tmp_path):
    spans = [
        _span("request_finished", "05", "", 9_000, 9_500),
        _span("user_logged_in", "01", "", 1_000, 5_000, django_signal="x.user_logged_in"),
        _span("a.record_login", "02", "01", 1_000, 3_000, django_receiver="a.record_login"),
        _span("post_save", "03", "02", 1_500, 2_000),
        _span("a.broken", "04", "01", 3_000, 5_000, error=True, django_receiver="a.broken"),
        {**_span("other", "09", "", 0, 1), "traceId": "cd" * 16},
    ]
    request = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "django"}}]},
        "scopeSpans": [{"scope": {"name": "django_signal_monitor"}, "spans": spans}]}]}
    path = tmp_path / "run.otlp.json"
    path.write_text(json.dumps(request) + "\n" + json.dumps({"resourceSpans": []}) + "\n")
    return path


def test_the_trace_is_its_spans_in_tree_order_under_their_parents(tmp_path):
    trace, rows, chosen = trace_picture.trace_of(
        trace_picture.read_spans(otlp_file(tmp_path)), "user_logged_in")
    assert trace == T and chosen.name == "user_logged_in"
    assert [(depth, s.name) for depth, s in rows] == [
        (0, "user_logged_in"), (1, "a.record_login"), (2, "post_save"), (1, "a.broken"),
        (0, "request_finished")]  # the other trace's span is not drawn
    assert rows[3][1].error and chosen.resource == {"service.name": "django"}
    assert chosen.attributes == {"django.signal": "x.user_logged_in"}


def test_render_writes_a_png_as_wide_as_the_picture_and_one_row_per_span(qapp, tmp_path):
    out = tmp_path / "trace.png"
    summary = trace_picture.render(otlp_file(tmp_path), out)
    assert summary == "5 spans of the trace of user_logged_in"
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width == trace_picture.WIDTH
    assert height == 70 + 5 * trace_picture.ROW_H + 60 + 18 * 1 + trace_picture.MARGIN
