"""Per-edge statistics (core.stats) against the graph's aggregates and numpy on the raw rows."""

from __future__ import annotations

import numpy as np
import pytest

from django_probe import wire
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER
from monitor_gui.core.query import Filter
from monitor_gui.core.state import MonitorState
from monitor_gui.core.stats import edge_stats, stats_for
from monitor_gui.core.store import OUTCOME_CODES
from tests.monitor_gui.core.events import dispatch, frame, receiver

POST_SAVE = "django.db.models.signals.post_save"


def raw_receiver_durations(state: MonitorState, signal: str, label: str) -> np.ndarray:
    """Durations of the calls of (signal, receiver) that ran, read straight off the rings."""
    store, ring = state.store, state.store.receivers
    phys = np.arange(ring.first, ring.end) % ring.capacity
    owner = ring.columns["dispatch"][phys]
    live = owner >= store.first
    phys, owner = phys[live], owner[live]
    owner_signal = store.dispatches.columns["signal"][owner % store.capacity]
    mask = ((ring.columns["label"][phys] == state.strings.lookup(label))
            & (owner_signal == state.strings.lookup(signal))
            & (ring.columns["outcome"][phys] != OUTCOME_CODES[wire.SKIPPED]))
    return ring.columns["dur"][phys[mask]]


def raw_sender_durations(state: MonitorState, sender: str, signal: str) -> np.ndarray:
    store = state.store
    phys = np.arange(store.first, store.end) % store.capacity
    cols = store.dispatches.columns
    mask = ((cols["sender"][phys] == state.strings.lookup(sender))
            & (cols["signal"][phys] == state.strings.lookup(signal)))
    return cols["dur"][phys[mask]]


def assert_matches_numpy(s, durs: np.ndarray) -> None:
    assert s.calls == len(durs)
    # Exact equality: the stats replicate np.percentile's default (linear) interpolation.
    assert s.p50_ns == np.percentile(durs, 50)
    assert s.p95_ns == np.percentile(durs, 95)
    assert s.mean_ns == pytest.approx(durs.mean(), rel=1e-12)
    assert s.max_ns == durs.max()


def test_every_fired_graph_edge_has_the_graphs_counts(real_state):
    table = edge_stats(real_state)
    fired = {e.key: e for e in real_state.graph.edges() if e.count}
    assert len(real_state.store) == real_state.totals.dispatches  # nothing evicted
    assert set(table.keys()) == set(fired)
    for i, key in enumerate(table.keys()):
        edge = fired[key]
        assert int(table.calls[i]) == edge.count
        assert int(table.errors[i]) == edge.errors
        assert int(table.max_ns[i]) == edge.max_ns
        assert int(table.last_ts[i]) == edge.last_ts
        assert float(table.mean_ns[i]) == pytest.approx(edge.mean_ns, rel=1e-12)
    assert table.errors.sum() > 0  # the recording has failing edges: the check is not vacuous


def test_receiver_percentiles_equal_numpys_on_the_raw_rows(real_state):
    table = edge_stats(real_state)
    receivers = [i for i, k in enumerate(table.keys())
                 if k[0] == SIGNAL_TO_RECEIVER and table.calls[i] >= 4]
    by_calls = sorted(receivers, key=lambda i: int(table.calls[i]))
    # The busiest, a middling and the least called pair with a few calls.
    picked = [by_calls[-1], by_calls[len(by_calls) // 2], by_calls[0]]
    assert len({int(table.calls[i]) for i in picked}) == 3
    for i in picked:
        _, signal, label = table.key(i)
        durs = raw_receiver_durations(real_state, signal, label)
        assert len(durs) > 1
        assert_matches_numpy(table.stats(i), durs)


def test_sender_percentiles_use_the_dispatch_duration(real_state):
    table = edge_stats(real_state)
    senders = [i for i, k in enumerate(table.keys()) if k[0] == SENDER_TO_SIGNAL]
    for i in sorted(senders, key=lambda i: int(table.calls[i]))[-3:]:
        _, sender, signal = table.key(i)
        assert_matches_numpy(table.stats(i), raw_sender_durations(real_state, sender, signal))


def test_rate_counts_the_last_window_before_the_newest_dispatch(real_state):
    store = real_state.store
    ts = store.column("ts")
    table = edge_stats(real_state, window_s=2.0)
    assert table.now_ns == ts.max()
    busiest = int(np.argmax(table.recent))
    _, sender, signal = next(table.key(i) for i in np.argsort(-table.recent)
                             if table.key(int(i))[0] == SENDER_TO_SIGNAL)
    i = table.row_of((SENDER_TO_SIGNAL, sender, signal))
    mask = ((store.column("sender") == real_state.strings.lookup(sender))
            & (store.column("signal") == real_state.strings.lookup(signal))
            & (ts >= ts.max() - 2_000_000_000))
    assert table.recent[i] == mask.sum() > 0
    assert table.stats(i).rate == mask.sum() / 2.0
    assert 0 < table.recent[busiest] < table.calls[busiest]  # the window is a real cut


def test_rows_restrict_the_table_to_the_filter(real_state):
    rows = real_state.select(Filter(signals=frozenset({POST_SAVE})))
    assert 0 < len(rows) < len(real_state.store)
    whole = edge_stats(real_state)
    part = edge_stats(real_state, rows)
    assert {k[2] if k[0] == SENDER_TO_SIGNAL else k[1] for k in part.keys()} == {POST_SAVE}
    assert int(part.calls[[k[0] == SENDER_TO_SIGNAL for k in part.keys()]].sum()) == len(rows)
    # Every post_save dispatch is selected, so each of its edges keeps its whole figures.
    for i, key in enumerate(part.keys()):
        assert part.stats(i) == whole.stats_for(*key)


def test_a_receiver_filter_keeps_only_the_dispatches_that_called_it(real_state):
    table = edge_stats(real_state)
    i = max((i for i, k in enumerate(table.keys()) if k[0] == SIGNAL_TO_RECEIVER
             and k[1] == POST_SAVE), key=lambda i: int(table.calls[i]))
    _, signal, label = table.key(i)
    rows = real_state.select(Filter(signals=frozenset({signal}), receivers=frozenset({label})))
    part = edge_stats(real_state, rows)
    assert part.stats_for(SIGNAL_TO_RECEIVER, signal, label) == table.stats(i)
    senders = part.calls[[k[0] == SENDER_TO_SIGNAL for k in part.keys()]]
    assert int(senders.sum()) == len(rows)


def test_stats_for_one_edge_equals_the_tables_row(real_state):
    table = edge_stats(real_state)
    for i in range(0, len(table), max(1, len(table) // 40)):
        assert stats_for(real_state, *table.key(i)) == table.stats(i)
    assert stats_for(real_state, SENDER_TO_SIGNAL, "no.such.Sender", POST_SAVE) is None
    with pytest.raises(ValueError):
        stats_for(real_state, "sender->receiver", "a", "b")


def test_empty_state_and_empty_selection_give_empty_tables(real_state):
    assert len(edge_stats(MonitorState(capacity=10))) == 0
    assert len(edge_stats(real_state, np.empty(0, np.int64))) == 0


def test_only_live_rows_count_after_the_ring_wraps():
    state = MonitorState(capacity=50)
    durs = [(i * 7919) % 1000 for i in range(130)]
    events = [dispatch(i, dur=d, receivers=[receiver(dur=d * 3), receiver("audit", "logs",
                                                                          dur=d + 1)])
              for i, d in enumerate(durs)]
    for seq in range(0, 130, 10):
        state.apply([frame(events[seq:seq + 10], seq=seq // 10)])
    assert state.store.first > 0
    table = edge_stats(state)
    s = table.stats_for(SIGNAL_TO_RECEIVER, POST_SAVE, "accounts.receivers.create_profile")
    live = np.asarray(durs[state.store.first:], np.int64) * 3
    assert_matches_numpy(s, live)
    assert_matches_numpy(table.stats_for(SENDER_TO_SIGNAL, "auth.User", POST_SAVE),
                         np.asarray(durs[state.store.first:], np.int64))


def test_skipped_calls_are_not_calls_and_raised_ones_are_errors():
    state = MonitorState(capacity=100)
    events = [dispatch(i, receivers=[receiver("first", "m", dur=10 + i,
                                              outcome=wire.RAISED if i % 3 == 0
                                              else wire.RETURNED),
                                     receiver("second", "m", outcome=wire.SKIPPED if i % 3 == 0
                                              else wire.RETURNED, dur=5)])
              for i in range(30)]
    state.apply([frame(events)])
    table = edge_stats(state)
    first = table.stats_for(SIGNAL_TO_RECEIVER, POST_SAVE, "m.first")
    second = table.stats_for(SIGNAL_TO_RECEIVER, POST_SAVE, "m.second")
    assert (first.calls, first.errors) == (30, 10)
    assert (second.calls, second.errors) == (20, 0)
    assert table.stats_for(SENDER_TO_SIGNAL, "auth.User", POST_SAVE).errors == 10


def test_durations_too_long_to_pack_still_sort_exactly():
    state = MonitorState(capacity=100)
    durs = [2**62 + 5, 3, 2**61, 17, 2**63 - 1]  # beyond the 62 bits left by one group
    state.apply([frame([dispatch(i, dur=d, receivers=[]) for i, d in enumerate(durs)])])
    s = edge_stats(state).stats_for(SENDER_TO_SIGNAL, "auth.User", POST_SAVE)
    assert_matches_numpy(s, np.asarray(durs, np.int64))
