"""One trace of an OTLP/JSON file drawn as a trace viewer's waterfall (docs/screenshot-otlp.png).

It reads the file ``signal-monitor export --format otlp`` wrote, so the picture shows
exactly the spans a collector receives: each span's name indented under its parent, a
bar from its start to its end on the trace's time axis, its duration, errors in red, and
below, the resource and the attributes of one span. A docs tool, not part of the monitor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WIDTH, ROW_H, NAME_W, MARGIN = 1600, 20, 560, 16
ERROR = 2  # OTLP's STATUS_CODE_ERROR


@dataclass
class Span:
    name: str
    span_id: str
    parent: str
    start: int
    end: int
    error: bool
    attributes: dict[str, Any]
    resource: dict[str, Any]
    children: list[Span] = field(default_factory=list)


def _value(v: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue's one field ("stringValue", "intValue", …)."""
    return next(iter(v.values()), "")


def read_spans(path: str | Path) -> list[tuple[str, Span]]:
    """(trace id, span) for every span of every request (line) of the file."""
    found = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        for rs in json.loads(line).get("resourceSpans", []):
            resource = {a["key"]: _value(a["value"]) for a in rs["resource"]["attributes"]}
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    found.append((s["traceId"], Span(
                        s["name"], s["spanId"], s.get("parentSpanId", ""),
                        int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]),
                        s.get("status", {}).get("code") == ERROR,
                        {a["key"]: _value(a["value"]) for a in s.get("attributes", [])},
                        resource)))
    return found


def trace_of(spans: list[tuple[str, Span]], span_name: str
             ) -> tuple[str, list[tuple[int, Span]], Span]:
    """The trace holding the first span called ``span_name``: its id, (depth, span) in
    tree order, and that span. KeyError when no span has that name."""
    trace, chosen = next(((t, s) for t, s in spans if s.name == span_name), (None, None))
    if chosen is None:
        raise KeyError(f"no span {span_name!r}")
    members = {s.span_id: s for t, s in spans if t == trace}
    roots = []
    for span in members.values():
        parent = members.get(span.parent)
        (parent.children if parent else roots).append(span)
    rows: list[tuple[int, Span]] = []

    def walk(span: Span, depth: int) -> None:
        rows.append((depth, span))
        for child in sorted(span.children, key=lambda s: s.start):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda s: s.start):
        walk(root, 0)
    return str(trace), rows, chosen


def _duration(ns: int) -> str:
    if not ns:
        return "0"  # (the probe does not time a dispatch without receivers)
    return f"{ns / 1e6:.2f} ms" if ns >= 100_000 else f"{ns / 1e3:.1f} µs"


def render(path: str | Path, out: str | Path, span_name: str = "user_logged_in") -> str:
    """Draw the trace of the first ``span_name`` span in the OTLP/JSON file ``path`` to the
    PNG ``out``, detailing that span; returns a one-line summary."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QFont, QGuiApplication, QImage, QPainter

    from monitor_gui.qt.theme import LIGHT as T

    app = QGuiApplication.instance() or QGuiApplication(["trace_picture"])  # fonts need one
    trace, rows, chosen = trace_of(read_spans(path), span_name)
    details = sorted(chosen.attributes.items())
    resource = ", ".join(f"{k}={v}" for k, v in chosen.resource.items())
    top = 70
    height = top + ROW_H * len(rows) + 60 + 18 * len(details) + MARGIN
    image = QImage(WIDTH, height, QImage.Format.Format_ARGB32)
    image.fill(T.background)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(app.font())
    font.setPointSizeF(9)
    bold = QFont(font)
    bold.setBold(True)
    start = min(s.start for _, s in rows)
    span_ns = max(max(s.end for _, s in rows) - start, 1)
    left, right = NAME_W + MARGIN, WIDTH - MARGIN - 80
    scale = (right - left) / span_ns
    first = rows[0][1]
    p.setFont(bold)
    p.setPen(T.text)
    where = " ".join(str(first.attributes.get(k, "")) for k in ("http.request.method", "url.path"))
    p.drawText(MARGIN, 24, f"Trace {trace} · {where.strip() or first.name} · "
                           f"{len(rows)} spans · {_duration(span_ns)}")
    p.setFont(font)
    p.setPen(T.muted)
    p.drawText(MARGIN, 44, f"resource: {resource}")
    for i in range(5):  # the time axis
        x = left + (right - left) * i / 4
        p.drawText(QRectF(x - 40, top - 22, 80, 16), Qt.AlignmentFlag.AlignCenter,
                   _duration(int(span_ns * i / 4)))
        p.setPen(T.grid)
        p.drawLine(int(x), top - 4, int(x), top + ROW_H * len(rows))
        p.setPen(T.muted)
    for n, (depth, span) in enumerate(rows):
        y = top + n * ROW_H
        if span is chosen:
            p.fillRect(QRectF(0, y, WIDTH, ROW_H), T.grid)
        receiver = "django.receiver" in span.attributes
        p.setPen(T.error if span.error else (T.text if not receiver else T.muted))
        p.setFont(bold if not receiver else font)
        p.drawText(QRectF(MARGIN + 16 * depth, y, NAME_W - 16 * depth, ROW_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, span.name)
        x0 = left + (span.start - start) * scale
        bar = QRectF(x0, y + 4, max((span.end - span.start) * scale, 2), ROW_H - 8)
        p.fillRect(bar, T.error if span.error else (T.accent if not receiver else T.flash))
        p.setFont(font)
        p.setPen(T.muted)
        p.drawText(QRectF(bar.right() + 4, y, 90, ROW_H), Qt.AlignmentFlag.AlignVCenter,
                   _duration(span.end - span.start))
    y = top + ROW_H * len(rows) + 30
    p.setFont(bold)
    p.setPen(T.text)
    p.drawText(MARGIN, y, f"Attributes of {chosen.name} (span {chosen.span_id})")
    p.setFont(font)
    for key, value in details:
        y += 18
        p.setPen(T.muted)
        p.drawText(MARGIN + 16, y, key)
        p.setPen(T.text)
        p.drawText(MARGIN + 300, y, str(value))
    p.end()
    if not image.save(str(out)):
        raise OSError(f"cannot write {out}")
    return f"{len(rows)} spans of the trace of {chosen.name}"
