"""Nesting under realistic orders: random dispatch trees emitted when each dispatch ends."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import dispatch, frame


@st.composite
def forests(draw):
    """(events in emission order, true parent id, true depth) of a random dispatch forest."""
    count = draw(st.integers(1, 40))
    parents: dict[int, int | None] = {}
    for i in range(1, count + 1):
        parents[i] = draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
    depth = {}
    for i in range(1, count + 1):
        depth[i] = 0 if parents[i] is None else depth[parents[i]] + 1
    children: dict[int | None, list[int]] = {}
    for i, p in parents.items():
        children.setdefault(p, []).append(i)
    order: list[int] = []

    def emit(node: int) -> None:  # post-order: a dispatch is sent when it ends
        for child in children.get(node, []):
            emit(child)
        order.append(node)

    for root in children.get(None, []):
        emit(root)
    post = draw(st.booleans())
    if not post:  # also try the opposite order, parents first
        order = sorted(order)
    return order, parents, depth


@settings(max_examples=150, deadline=None)
@given(forest=forests(), cuts=st.lists(st.integers(1, 40), max_size=6))
def test_parent_rows_and_depths_match_the_tree_whatever_the_batching(forest, cuts):
    order, parents, depth = forest
    state = MonitorState(capacity=100)
    events = [dispatch(i, parent=parents[i]) for i in order]
    bounds = sorted({0, len(events), *[c for c in cuts if c < len(events)]})
    for a, b in zip(bounds, bounds[1:]):
        state.apply([frame(events[a:b], seq=a)])
    row_of = {state.store.row(r).id: r for r in range(state.store.first, state.store.end)}
    for dispatch_id, row in row_of.items():
        stored = state.store.row(row)
        assert stored.depth == depth[dispatch_id]
        expected_parent = parents[dispatch_id]
        assert stored.parent_row == (None if expected_parent is None
                                     else row_of[expected_parent])
        assert sorted(stored.children) == sorted(
            row_of[c] for c, p in parents.items() if p == dispatch_id)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(st.integers(0, 12), st.one_of(st.none(), st.integers(0, 12))),
                      min_size=1, max_size=40),
       cuts=st.lists(st.integers(1, 40), max_size=5), capacity=st.integers(4, 64))
def test_whole_array_depths_equal_the_chain_walk_on_any_ids(monkeypatch, pairs, cuts, capacity):
    """Duplicate ids, self-parents and cycles (hostile input) included: both ways agree."""
    from monitor_gui.core import nesting

    events = [dispatch(i, parent=p) for i, p in pairs]
    bounds = sorted({0, len(events), *[c for c in cuts if c < len(events)]})
    results = []
    for fast in (True, False):
        monkeypatch.setattr(nesting, "FAST_DEPTHS", fast)
        state = MonitorState(capacity=capacity)
        updated = [state.apply([frame(events[a:b], seq=a)]).updated
                   for a, b in zip(bounds, bounds[1:])]
        results.append((updated, state.store.column("depth").tolist(),
                        state.store.column("parent").tolist()))
    assert results[0] == results[1]


def test_whole_array_depths_fall_back_for_cycles_and_long_chains(monkeypatch):
    from monitor_gui.core import nesting

    cases = [
        [dispatch(1, parent=2), dispatch(2, parent=1), dispatch(3, parent=3)],  # cycles
        [dispatch(i, parent=i + 1) for i in range(40)] + [dispatch(40)],  # 40 levels
    ]
    for events in cases:
        got = []
        for fast in (True, False):
            monkeypatch.setattr(nesting, "FAST_DEPTHS", fast)
            state = MonitorState(capacity=100)
            state.apply([frame(events)])
            got.append((state.store.column("depth").tolist(),
                        state.store.column("parent").tolist()))
        assert got[0] == got[1]
    assert got[0][0] == list(range(40, -1, -1))


def test_recent_ids_are_remembered_in_two_bounded_generations(monkeypatch):
    from monitor_gui.core import nesting

    monkeypatch.setattr(nesting, "_RECENT_MAX", 8)
    state = MonitorState(capacity=100)
    for i in range(12):  # one dispatch per frame: ids 0..11
        state.apply([frame([dispatch(i)], seq=i)])
    newer, older = state.nesting.recent[0]
    assert len(newer) + len(older) <= 8 + 1
    # A child of a parent still remembered finds its row; one of a forgotten parent waits.
    state.apply([frame([dispatch(100, parent=11), dispatch(101, parent=0)], seq=12)])
    assert state.store.row(12).parent_row == 11 and state.store.row(12).depth == 1
    assert state.store.row(13).parent_row is None and 0 in state.nesting.pending[0]
