"""MonitorState.apply: storage round trip, nesting, graph, signals, totals, clear."""

from __future__ import annotations

import numpy as np
import pytest

from django_probe import wire
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import PROC, dispatch, frame, receiver


def test_rows_round_trip_every_dispatch_field():
    state = MonitorState(capacity=100)
    events = [
        dispatch(1, kwargs={"a": "1", "b": "x=y"}),
        dispatch(2, request=None, kwargs={},
                 receivers=[receiver(outcome=wire.RAISED, exc=("app.Err", "bad")),
                            receiver("audit", "audit.hooks", outcome=wire.SKIPPED)]),
        dispatch(3, method="asend_robust", raised=True, thread="worker-1"),
        dispatch(4)._replace(site=None),
        dispatch(5, kwargs={"weird": "a\x1fb\x1ec"}),  # separators survive too
    ]
    changes = state.apply([frame(events)])
    assert changes.appended == 5 and changes.evicted == 0
    assert (state.store.first, state.store.end, len(state.store)) == (0, 5, 5)
    for row, event in enumerate(events):
        stored = state.store.row(row)
        assert stored.to_dispatch() == event
        assert stored.proc == "web1:101" and stored.proc_key == ("web1", 101, "boot-a")
    assert state.store.row(1).error and not state.store.row(0).error
    assert list(state.store.column("raised")) == [False, False, True, False, False]


def test_accepts_decoded_frames_too():
    state = MonitorState(capacity=10)
    state.apply([wire.Frame(PROC, 0, [dispatch(1)], 0)])
    assert state.store.row(0).id == 1


def test_children_before_parent_are_adopted_across_batches():
    state = MonitorState(capacity=100)
    # The probe emits a dispatch when it ends, so the grandchild comes first.
    state.apply([frame([dispatch(3, parent=2)])])
    assert state.store.row(0).depth == 1 and state.store.row(0).parent_row is None
    state.apply([frame([dispatch(2, parent=1)], seq=1)])
    changes = state.apply([frame([dispatch(1), dispatch(4)], seq=2)])
    rows = [state.store.row(i) for i in range(4)]
    assert [r.depth for r in rows] == [2, 1, 0, 0]
    assert [r.parent_row for r in rows] == [1, 2, None, None]
    assert rows[2].children == [1] and rows[1].children == [0]
    assert changes.updated == [1]  # row 0 already had depth 2 from the previous batch


def test_child_after_parent_gets_depth_directly():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), dispatch(2, parent=1), dispatch(3, parent=2)])])
    assert [state.store.row(i).depth for i in range(3)] == [0, 1, 2]
    assert state.store.row(2).parent_row == 1


def test_nesting_is_per_process():
    state = MonitorState(capacity=100)
    other = wire.Proc(9, "h", "b")
    state.apply([frame([dispatch(5, parent=1)]), frame([dispatch(1)], proc=other)])
    assert state.store.row(0).parent_row is None


def test_cyclic_parent_ids_do_not_hang():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1, parent=2), dispatch(2, parent=1), dispatch(3, parent=3)])])
    assert len(state.store) == 3


def test_graph_edges_aggregate_counts_errors_and_durations():
    state = MonitorState(capacity=100)
    state.apply([frame([
        dispatch(1, dur=10, receivers=[receiver(dur=4), receiver("audit", "x", dur=6)]),
        dispatch(2, dur=30, ts=99, receivers=[
            receiver(dur=20, outcome=wire.RAISED), receiver("audit", "x", outcome=wire.SKIPPED)]),
    ])])
    sent = state.graph.edge(SENDER_TO_SIGNAL, "auth.User", "django.db.models.signals.post_save")
    assert (sent.count, sent.errors, sent.total_ns, sent.max_ns, sent.mean_ns) == (2, 1, 40, 30, 20)
    call = state.graph.edge(SIGNAL_TO_RECEIVER, "django.db.models.signals.post_save",
                            "accounts.receivers.create_profile")
    assert (call.count, call.errors, call.total_ns, call.max_ns) == (2, 1, 24, 20)
    audit = state.graph.edge(SIGNAL_TO_RECEIVER, "django.db.models.signals.post_save", "x.audit")
    assert (audit.count, audit.skipped) == (1, 1)
    assert sent.last_ts == dispatch(1).ts  # ts=99 is older
    nodes = {(n.kind, n.name): n for n in state.graph.nodes()}
    assert nodes[("receiver", "accounts.receivers.create_profile")].errors == 1
    assert nodes[("signal", "django.db.models.signals.post_save")].count == 2


def test_changes_report_fired_edges_and_signals():
    state = MonitorState(capacity=100)
    changes = state.apply([frame([dispatch(1, signal="a.sig")])])
    assert set(changes.fired) == {
        (SENDER_TO_SIGNAL, "auth.User", "a.sig"),
        (SIGNAL_TO_RECEIVER, "a.sig", "accounts.receivers.create_profile"),
    }
    assert changes.edges_changed >= set(changes.fired)
    assert "a.sig" in changes.signals_changed
    assert state.apply([]).fired == []


def test_signal_stats_counts_rates_and_empty_counts():
    state = MonitorState(capacity=100)
    base = 1_700_000_000_000_000_000
    state.apply([frame([dispatch(i, ts=base + i * 100_000_000, raised=i == 0) for i in range(20)])])
    stats = state.signals["django.db.models.signals.post_save"]
    assert (stats.count, stats.errors) == (20, 1)
    assert stats.rate == pytest.approx(20 / 10)
    empty = wire.EmptyCount("django.db.models.signals.pre_init", "auth.User", "send", 7)
    counts = wire.Counts(wire.KIND_COUNTS, base, 10**9, [empty])
    changes = state.apply([frame([counts], seq=20)])
    assert state.signals["django.db.models.signals.pre_init"].empty_count == 7
    assert state.empty_counts[("django.db.models.signals.pre_init", "auth.User", "send")] == 7
    assert "django.db.models.signals.pre_init" in changes.signals_changed
    # Event time moves on 30 s without that signal: its rate decays to zero.
    later = dispatch(99, ts=base + 30 * 10**9, signal="other")
    state.apply([frame([later], seq=21)])
    assert stats.rate == 0


def test_topology_marks_known_and_never_fired_receivers():
    state = MonitorState(capacity=100)
    mod = "accounts.receivers"
    wiring = [wire.SignalWiring("django.db.models.signals.post_save", [
        wire.ConnectedReceiver("create_profile", mod, "a.py", 1, False, None, True),
        wire.ConnectedReceiver("never", mod, "a.py", 9, False, None, True)]),
        wire.SignalWiring("app.quiet", [])]
    topo = wire.Topology(wire.KIND_TOPOLOGY, 1, wiring)
    changes = state.apply([frame([topo, dispatch(1)])])
    assert changes.topology_changed
    assert [e.dst for e in state.graph.never_fired()] == ["accounts.receivers.never"]
    assert state.signals["app.quiet"].known and state.signals["app.quiet"].count == 0
    nodes = {(n.kind, n.name): n for n in state.graph.nodes()}
    assert nodes[("receiver", "accounts.receivers.never")].known_only
    assert not nodes[("receiver", "accounts.receivers.create_profile")].known_only
    assert nodes[("signal", "app.quiet")].known_only
    # The same snapshot again changes nothing.
    assert not state.apply([frame([topo], seq=2)]).topology_changed


def test_hello_is_kept_per_process():
    state = MonitorState(capacity=10)
    state.apply([frame([wire.Hello(wire.KIND_HELLO, 1, {"django": "5.2"})])])
    assert state.processes[("web1", 101, "boot-a")].info == {"django": "5.2"}


def test_totals_and_clear():
    state = MonitorState(capacity=10)
    state.apply([frame([dispatch(1), dispatch(2)]), b"\x00junk"])
    totals = state.totals
    assert (totals.events, totals.dispatches, totals.malformed, totals.stored) == (2, 2, 1, 2)
    state.clear()
    assert state.totals == type(totals)(0, 0, 0, 0, 0, 0)
    assert not state.signals and not state.graph.edges() and not state.processes
    state.apply([frame([dispatch(7)], seq=50)])  # a fresh baseline: no false gap after clear
    assert state.totals.lost == 0 and state.store.row(0).id == 7


def test_large_batches_are_applied_in_chunks_with_one_combined_changes(monkeypatch):
    from monitor_gui.core import sub_batches

    frames = [frame([dispatch(2 * i + 1, parent=2 * i + 2), dispatch(2 * i + 2)], seq=2 * i)
              for i in range(10)]
    whole = MonitorState(capacity=8)
    expected = whole.apply(frames)
    monkeypatch.setattr(sub_batches, "CHUNK_BYTES", 1)  # every frame its own sub-batch
    chunked = MonitorState(capacity=8)
    changes = chunked.apply(frames)
    assert (changes.appended, changes.evicted) == (expected.appended, expected.evicted) == (8, 0)
    assert set(changes.fired) == set(expected.fired)

    def edges(state: MonitorState) -> dict:
        return {key: (e.count, e.skipped, e.errors, e.total_ns, e.max_ns, e.last_ts)
                for table in (state.graph.sent, state.graph.calls)
                for key, e in table.items()}

    # The graph is folded once over the merged sub-batches: same aggregates as one batch.
    assert edges(chunked) == edges(whole) and sum(e[0] for e in edges(whole).values()) >= 20
    rows = range(chunked.store.first, chunked.store.end)
    assert [chunked.store.row(r).to_dispatch() for r in rows] == [
        whole.store.row(r).to_dispatch() for r in rows]
    assert [chunked.store.row(r).depth for r in rows] == [1, 0] * 4
    assert [chunked.store.row(r).parent_row for r in rows] == [
        r + 1 if r % 2 == 0 else None for r in rows]


def test_rates_decay_on_the_monitor_clock_when_traffic_stops():
    state = MonitorState(capacity=100)
    base = 1_700_000_000_000_000_000  # old event timestamps, as in a replayed recording
    wall = 1_800_000_000_000_000_000
    state.apply([frame([dispatch(i, ts=base + i * 10**8) for i in range(10)])], now=wall)
    stats = state.signals["django.db.models.signals.post_save"]
    assert stats.rate == 1.0  # 10 dispatches in the 10 s window
    assert state.refresh_rates(now=wall + 2 * 10**9) == set()  # still inside the window
    assert state.refresh_rates(now=wall + 30 * 10**9) == {stats.name}
    assert stats.rate == 0
    assert state.event_clock(now=wall + 5) == base + 9 * 10**8 + 5


def test_sub_batches_merge_small_frames_and_never_overflow_with_a_big_one(monkeypatch):
    from monitor_gui.core import sub_batches

    monkeypatch.setattr(sub_batches, "CHUNK_BYTES", 100)
    frames = [b"a" * 30, b"b" * 30, b"c" * 30, b"d" * 60, b"e" * 150, b"f" * 10]
    # A frame that would push a sub-batch past CHUNK_BYTES starts the next one; a frame
    # larger than CHUNK_BYTES is a sub-batch of its own.
    assert [[len(f) for f in c] for c in sub_batches.sub_batches(frames)] == [
        [30, 30, 30], [60], [150], [10]]


def test_kwargs_of_a_sub_batch_share_one_packed_block():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(i, kwargs={"i": str(i), "k": "v"}) for i in range(5)])])
    slots = state.store.column("kwargs")
    assert all(slot is slots[0] for slot in slots) and isinstance(slots[0], bytes)
    lens = state.store.column("kwlen")
    assert (state.store.column("kwoff") == np.cumsum(lens) - lens).all()
    assert len(slots[0]) == lens.sum()
    got = state.store.row(3).kwargs
    assert got == {"i": "3", "k": "v"}
    got["i"] = "changed"  # a caller's copy: the store is not modified through it
    assert state.store.row(3).kwargs == {"i": "3", "k": "v"}


def test_kwargs_that_cannot_be_packed_are_kept_per_row():
    from monitor_gui.core.query import Filter
    from monitor_gui.core.store import NO_KWARGS_BLOCK

    # A decoded frame (e.g. from a recording) may carry a lone surrogate, which msgpack
    # cannot encode: that sub-batch keeps each row's dict.
    events = [dispatch(1, kwargs={"bad": "x\ud800"}), dispatch(2, kwargs={})]
    state = MonitorState(capacity=10)
    state.apply([wire.Frame(PROC, 0, events, 0)])
    assert state.store.column("kwoff").tolist() == [NO_KWARGS_BLOCK, NO_KWARGS_BLOCK]
    assert [state.store.row(i).to_dispatch() for i in range(2)] == events
    assert state.select(Filter(text="bad=x")).tolist() == [0]
