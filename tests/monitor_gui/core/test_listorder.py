"""The dispatch list's order: nesting trees in pre-order, parents first, on real traffic."""

from __future__ import annotations

import numpy as np

from monitor_gui.core.listorder import tree_order
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import dispatch, frame


def assert_pre_order(store, ordered: np.ndarray) -> None:
    """Each dispatch whose parent is listed comes after it, with only the parent's other
    descendants in between; and no nested dispatch is listed before its parent."""
    pos = {int(r): i for i, r in enumerate(ordered)}
    parent = store.column("parent", ordered)

    def ancestors(row: int) -> set[int]:
        out = set()
        while (up := int(store.column("parent", np.asarray([row]))[0])) in store:
            out.add(up)
            row = up
        return out

    for i, (row, up) in enumerate(zip(ordered.tolist(), parent.tolist(), strict=True)):
        if up not in pos:
            continue
        assert pos[up] < i, (row, up)
        for between in ordered[pos[up] + 1:i].tolist():
            assert up in ancestors(between), (row, up, between)


def test_real_recording_nested_dispatches_follow_their_parent(real_state):
    store = real_state.store
    rows = np.arange(store.first, store.end, dtype=np.int64)
    depth = store.column("depth", rows)
    assert (depth > 0).sum() > 10_000  # pre_init/post_init under post_migrate, saves in logins
    roots, perm = tree_order(store, rows)
    ordered = rows[perm]
    assert sorted(ordered.tolist()) == rows.tolist()
    assert np.all(np.diff(roots[perm]) >= 0)  # trees in root order, each contiguous
    # Completion order put every child above its parent; now every one is below it.
    parent = store.column("parent", rows)
    assert np.all(parent[depth > 0] > rows[depth > 0])
    where = np.empty(len(rows), np.int64)
    where[perm] = np.arange(len(rows))
    nested = np.flatnonzero(depth > 0)
    assert np.all(where[parent[nested] - store.first] < where[nested])
    # A slice with whole trees is checked in full (the loop is slow on 42k rows).
    biggest = np.bincount(roots - store.first).argmax() + store.first
    tree = ordered[roots[perm] == biggest]
    assert len(tree) > 100 and tree[0] == biggest
    assert_pre_order(store, ordered[: np.flatnonzero(ordered == tree[-1])[0] + 1][-3000:])


def test_children_arriving_first_are_ordered_under_their_parent():
    state = MonitorState(capacity=100)
    t = 1_700_000_000_000_000_000
    # Sent when they end: grandchild 4, child 3, child 2 (which started first), root 1;
    # then an unrelated root 5 and a late child 6 of root 1 (an async task's dispatch).
    events = [dispatch(4, ts=t + 40, parent=3), dispatch(3, ts=t + 30, parent=1),
              dispatch(2, ts=t + 20, parent=1), dispatch(1, ts=t + 10),
              dispatch(5, ts=t + 50), dispatch(6, ts=t + 60, parent=1)]
    state.apply([frame(events)])
    store = state.store
    rows = np.arange(store.first, store.end, dtype=np.int64)
    roots, perm = tree_order(store, rows)
    ids = store.column("did", rows[perm]).tolist()
    assert ids == [1, 2, 3, 4, 6, 5]
    assert store.column("depth", rows[perm]).tolist() == [0, 1, 1, 2, 1, 0]
    assert_pre_order(store, rows[perm])
    # A filtered selection keeps the trees of hidden parents together.
    shown = rows[store.column("did", rows) != 1]
    roots, perm = tree_order(store, shown)
    assert store.column("did", shown[perm]).tolist() == [2, 3, 4, 6, 5]


def test_a_parent_cycle_from_hostile_ids_still_orders_every_row():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1, parent=2), dispatch(2, parent=1), dispatch(3)])])
    rows = np.arange(state.store.first, state.store.end, dtype=np.int64)
    roots, perm = tree_order(state.store, rows)
    assert sorted(rows[perm].tolist()) == rows.tolist()
