"""Perfetto / Chrome trace-event export: complete events, nesting by time, metadata."""

from __future__ import annotations

import io
import json

from django_probe import wire
from monitor_gui.core import perfetto
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, receiver

T = 1_700_000_000_000_000_000


def exported(frames) -> list[dict]:
    out = io.StringIO()
    perfetto.export(frames, out)
    doc = json.loads(out.getvalue())
    assert doc["displayTimeUnit"] == "ns"
    return doc["traceEvents"]


def test_one_complete_event_per_dispatch_and_receiver_nested_by_time():
    # post_save's receiver (50 us) sends a nested signal at +10 us lasting 20 us.
    child = dispatch(2, ts=T + 12_000, parent=1, signal="app.child", dur=20_000,
                     receivers=[receiver("inner", "m", dur=15_000)])
    parent = dispatch(1, ts=T, dur=60_000, receivers=[
        receiver("outer", "m", dur=50_000), receiver("after", "m", dur=5_000,
                                                     outcome=wire.RAISED)])
    events = exported([wire.Frame(PROC, 0, [child, parent], 0)])
    slices = {e["name"]: e for e in events if e["ph"] == "X"}
    assert set(slices) == {"app.child", "m.inner", "django.db.models.signals.post_save",
                           "m.outer", "m.after"}

    def inside(inner, outer):
        end = outer["ts"] + outer["dur"]
        return outer["ts"] <= inner["ts"] and inner["ts"] + inner["dur"] <= end

    post_save = slices["django.db.models.signals.post_save"]
    assert post_save["ts"] == 0 and post_save["dur"] == 60.0  # microseconds
    assert inside(slices["app.child"], slices["m.outer"])
    assert inside(slices["m.inner"], slices["app.child"])
    assert inside(slices["m.outer"], post_save) and inside(slices["m.after"], post_save)
    after = slices["m.after"]
    assert after["ts"] == 50.0 and "ValueError" in after["args"]["exception"]
    assert {e["pid"] for e in slices.values()} == {101}
    assert {e["tid"] for e in slices.values()} == {4242}
    assert post_save["args"]["kwargs.created"] == "True"


def test_metadata_names_processes_and_threads_and_separates_equal_pids():
    twin = wire.Proc(101, "other-host", "boot-c")  # same OS pid, different machine
    events = exported([wire.Frame(PROC, 0, [dispatch(1)], 0),
                       wire.Frame(OTHER, 0, [dispatch(1, thread="worker")], 0),
                       wire.Frame(twin, 0, [dispatch(1)], 0)])
    names = {e["args"]["name"]: e["pid"] for e in events if e["name"] == "process_name"}
    assert len(set(names.values())) == 3
    assert any(n.startswith("web2:202") for n in names)
    threads = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert threads == {"MainThread", "worker"}


def test_non_dispatch_events_and_empty_input():
    assert exported([]) == []
    hb = wire.Heartbeat("H", 1, 0, 0, 0, 0, 0, 0)
    assert exported([wire.Frame(PROC, 0, [hb], 0)]) == []
