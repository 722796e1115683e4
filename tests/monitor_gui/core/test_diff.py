"""core.diff: edges that appear or vanish, calls and p95 beyond noise, new errors."""

from __future__ import annotations

import pytest

from monitor_gui.core import diff, diff_text
from monitor_gui.core.diff import CALLS, NEW_EDGES, NEW_ERRORS, P95, VANISHED_EDGES, NoiseRule
from tests.monitor_gui.conftest import REAL_RECORDING
from tests.monitor_gui.core import diffdata
from tests.monitor_gui.core.diffdata import MOD, SIGNAL

R = "signal->receiver"
S = "sender->signal"


def _receivers(report, what):
    return {c.dst for c in report.changes[what] if c.kind == R}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("diff")
    a = diffdata.write(d / "a.jsonl", "a")
    b = diffdata.write(d / "b.jsonl.gz", "b")
    return diff.diff_recordings(a, b)


def test_edges_that_appear_and_vanish(report):
    new = {(c.kind, c.src, c.dst) for c in report.changes[NEW_EDGES]}
    assert new == {(R, SIGNAL, f"{MOD}.fresh"), (S, "shop.Order", SIGNAL)}
    vanished = {(c.kind, c.src, c.dst) for c in report.changes[VANISHED_EDGES]}
    assert vanished == {(R, SIGNAL, f"{MOD}.gone")}
    gone = report.changes[VANISHED_EDGES][0]
    assert (gone.calls_a, gone.calls_b) == (10, 0)


def test_new_errors_a_receiver_starts_raising_or_raises_something_new(report):
    errors = {c.dst: c for c in report.changes[NEW_ERRORS]}
    assert set(errors) == {f"{MOD}.flaky", f"{MOD}.grumpy"}
    flaky, grumpy = errors[f"{MOD}.flaky"], errors[f"{MOD}.grumpy"]
    assert (flaky.errors_a, flaky.errors_b) == (0, 5)
    assert flaky.new_exceptions == ("builtins.ValueError",)
    assert grumpy.errors_a == 3 and grumpy.new_exceptions == ("builtins.TypeError",)
    assert report.changes[NEW_ERRORS][0] is flaky  # more errors first


def test_calls_and_p95_beyond_noise_only(report):
    assert _receivers(report, CALLS) == {f"{MOD}.doubling"}
    (doubling,) = report.changes[CALLS]
    assert (doubling.calls_a, doubling.calls_b) == (60, 120)
    assert _receivers(report, P95) == {f"{MOD}.slow"}
    (slow,) = report.changes[P95]
    assert 2.9 < slow.p95_b_ns / slow.p95_a_ns < 3.1
    # grumpy's 30 -> 32 calls is noise; steady changed nowhere
    everything = {c.dst for c in report.all_changes()} | {c.src for c in report.all_changes()}
    assert f"{MOD}.steady" not in everything


def test_noise_rule():
    rule = NoiseRule()
    assert not rule.calls_changed(10, 20)  # 10 < 3 * sqrt(30): a small count doubling is noise
    assert rule.calls_changed(60, 120)
    assert not rule.calls_changed(100_000, 101_000)  # 1 %: beyond 3 sigma, not beyond 10 %
    assert rule.calls_changed(100_000, 111_000)
    assert rule.p95_changed(40, 100_000, 40, 300_000)
    assert not rule.p95_changed(40, 5_000, 40, 15_000)  # x3, but 10 us: under the floor
    assert not rule.p95_changed(40, 100_000, 40, 140_000)  # above the floor, under x1.5
    assert not rule.p95_changed(5, 100_000, 40, 300_000)  # too few calls for a p95


def test_report_text_and_json(report):
    text = diff_text.format_report(report)
    assert text.index("New errors") < text.index("Vanished edges") < text.index("New edges")
    assert text.index("New edges") < text.index("Calls changed") < text.index("p95 duration")
    assert f"{SIGNAL} => {MOD}.gone: 10 calls in A" in text
    assert "60 -> 120 calls (x2.00)" in text
    doc = report.to_json()
    assert doc["summary"] == {NEW_ERRORS: 2, VANISHED_EDGES: 1, NEW_EDGES: 2, CALLS: 1, P95: 1}
    assert doc["differs"] is True
    assert doc["changes"][NEW_ERRORS][0]["new_exceptions"] == ["builtins.ValueError"]


def test_the_real_recording_against_itself_reports_nothing():
    state = diff.load_state(REAL_RECORDING)
    report = diff.diff_states(state, state)
    assert report.all_changes() == []
    assert report.dispatches_a == 42_025
    assert "No differences." in diff_text.format_report(report)
    assert diff.exception_types(state)  # the recording has raising receivers
