"""The human-readable diff report (``signal-monitor diff`` without ``--json``)."""

from __future__ import annotations

from collections.abc import Iterable

from monitor_gui.core.diff import (
    CALLS,
    CRITERIA,
    DEFAULT_FAIL_ON,
    NEW_EDGES,
    NEW_ERRORS,
    P95,
    VANISHED_EDGES,
    DiffReport,
    EdgeChange,
)
from monitor_gui.core.graph import SENDER_TO_SIGNAL


def _ms(ns: float) -> str:
    return f"{ns / 1e6:.3f} ms"


def _edge(c: EdgeChange) -> str:
    arrow = " -> " if c.kind == SENDER_TO_SIGNAL else " => "
    return f"{c.src}{arrow}{c.dst}"


_TITLES = {
    NEW_ERRORS: "New errors (a receiver raises in B where it did not in A)",
    VANISHED_EDGES: "Vanished edges (in A, not in B)",
    NEW_EDGES: "New edges (in B, not in A)",
    CALLS: "Calls changed beyond noise",
    P95: "p95 duration changed beyond noise",
}


def _line(c: EdgeChange) -> str:
    if c.what == NEW_ERRORS:
        types = f"; new exception types: {', '.join(c.new_exceptions)}" if c.new_exceptions else ""
        return f"{_edge(c)}: {c.errors_a} -> {c.errors_b} errors of {c.calls_b} calls{types}"
    if c.what == VANISHED_EDGES:
        return f"{_edge(c)}: {c.calls_a} calls in A"
    if c.what == NEW_EDGES:
        errors = f", {c.errors_b} errors" if c.errors_b else ""
        return f"{_edge(c)}: {c.calls_b} calls in B{errors}"
    if c.what == CALLS:
        ratio = f" (x{c.calls_b / c.calls_a:.2f})" if c.calls_a else ""
        return f"{_edge(c)}: {c.calls_a} -> {c.calls_b} calls{ratio}"
    ratio = c.p95_b_ns / max(c.p95_a_ns, 1.0)
    return f"{_edge(c)}: p95 {_ms(c.p95_a_ns)} -> {_ms(c.p95_b_ns)} (x{ratio:.2f})"


def format_report(report: DiffReport, fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> str:
    """The human-readable report: a summary line, then each non-empty group.

    ``->`` is a sender -> signal edge, ``=>`` a signal => receiver edge.
    """
    fail_on = list(fail_on)
    counts = ", ".join(f"{len(report.changes.get(c, []))} {c}" for c in CRITERIA)
    lines = [f"A: {report.a} ({report.dispatches_a:,} dispatches)",
             f"B: {report.b} ({report.dispatches_b:,} dispatches)", counts]
    for what in CRITERIA:
        items = report.changes.get(what, [])
        if not items:
            continue
        mark = " [fails]" if what in fail_on else ""
        lines += ["", f"{_TITLES[what]}: {len(items)}{mark}"]
        lines += [f"  {_line(c)}" for c in items]
    if not report.all_changes():
        lines.append("No differences.")
    return "\n".join(lines)
