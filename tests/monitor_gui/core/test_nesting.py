"""Nesting under realistic orders: random dispatch trees emitted when each dispatch ends."""

from __future__ import annotations

from hypothesis import given, settings
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
