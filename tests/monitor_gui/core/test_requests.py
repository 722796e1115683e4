"""Requests (ids, paths) are remembered only while live rows use them: the store stays bounded."""

from __future__ import annotations

import numpy as np

from django_probe import wire
from monitor_gui.core.query import Filter
from monitor_gui.core.requests import NO_REQUEST, RequestTable
from monitor_gui.core.state import MonitorState
from monitor_gui.core.strings import StringTable
from tests.monitor_gui.core.events import PROC, dispatch, frame

CAPACITY = 200


def _request_frames(count: int, per_request: int = 2, batch: int = 50) -> list[bytes]:
    """``count`` dispatches, each request (unique id and path) spanning ``per_request``."""
    frames = []
    for start in range(0, count, batch):
        events = []
        for i in range(start, start + batch):
            r = i // per_request
            events.append(dispatch(i, request=f"req-{r}")._replace(
                request=wire.RequestInfo(f"req-{r}", "GET", f"/articles/{r}/edit/")))
        frames.append(frame(events, seq=start))
    return frames


def _live_requests(state: MonitorState) -> set[int]:
    return set(state.store.column("request").tolist()) - {NO_REQUEST}


def test_requests_and_strings_stay_bounded_by_the_live_rows():
    state = MonitorState(capacity=CAPACITY)
    frames = _request_frames(50 * CAPACITY)  # 25x more unique requests than live ones
    state.apply(frames[:4])
    vocabulary = len(state.strings)  # signal, sender, names, files, thread, method...
    most = 0
    for i in range(4, len(frames), 3):
        state.apply(frames[i:i + 3])
        most = max(most, len(state.store.requests))
        assert len(state.strings) == vocabulary  # request ids and paths are not interned
    live = len(_live_requests(state))
    assert live == CAPACITY // 2
    # Between sweeps at most a quarter of the capacity of evicted rows, plus one apply.
    assert most <= live + CAPACITY // 4 + 150
    assert state.store.sweep_requests() >= 0
    assert len(state.store.requests) == live


def test_live_rows_keep_their_request_after_sweeps():
    state = MonitorState(capacity=CAPACITY)
    state.apply(_request_frames(10 * CAPACITY))
    state.store.sweep_requests()
    last = 10 * CAPACITY // 2 - 1
    rows = state.select(Filter(request=f"req-{last}"))
    assert rows.tolist() == [state.store.end - 2, state.store.end - 1]
    info = state.store.row(int(rows[0])).request
    assert info == wire.RequestInfo(f"req-{last}", "GET", f"/articles/{last}/edit/")
    first = state.store.row(state.store.first).request
    assert first is not None and first.path == f"/articles/{first.id[4:]}/edit/"
    # An evicted request is forgotten: filtering by it matches nothing, without a scan.
    assert state.select(Filter(request="req-0")).tolist() == []
    assert state.store.requests.lookup("req-0") is None


def test_a_request_still_in_use_survives_while_its_early_rows_are_evicted():
    state = MonitorState(capacity=8)
    for i in range(40):  # one long request: its first rows leave, its last stay
        state.apply([frame([dispatch(i, request="long")], seq=i)])
    assert len(state.store.requests) == 1
    assert state.select(Filter(request="long")).tolist() == list(range(32, 40))
    assert state.store.row(39).request == wire.RequestInfo("long", "POST", "/signup/")


def test_clear_forgets_requests():
    state = MonitorState(capacity=CAPACITY)
    state.apply(_request_frames(100))
    state.clear()
    assert len(state.store.requests) == 0 and state.store.requests.lookup("req-1") is None
    state.apply(_request_frames(2))
    assert state.store.row(state.store.first).request.path == "/articles/0/edit/"


def test_table_keeps_the_first_method_and_path_and_never_reuses_a_live_id():
    R = wire.RequestInfo
    strings = StringTable()
    table = RequestTable(strings)
    ids = table.intern_many([R("a", "GET", "/1/"), None, R("a", "POST", "/2/"),
                             R("b", "PUT", "/3/")])
    assert ids == [0, NO_REQUEST, 0, 1]
    assert table.get(0) == R("a", "GET", "/1/")
    assert table.get(NO_REQUEST) is None
    assert table.retain(np.asarray([1, NO_REQUEST], np.int32)) == 1
    assert table.get(0) is None and table.lookup("a") is None
    assert table.intern_many([R("a", "GET", "/1/")]) == [2]  # a fresh id, not 0 again
    table._next = 2**31 - 1  # the int32 column's last id, then the counter wraps
    assert table.intern_many([R("c", "GET", "/"), R("d", "GET", "/")]) == [2**31 - 1, 0]
    table._next = 1
    assert table.intern_many([R("e", "GET", "/")]) == [3]  # 1 and 2 are still in use
    assert len(strings) == 2  # only methods are interned (GET, PUT; the repeat of "a" kept GET)


def test_a_request_keeps_its_traceparent_from_the_wire_to_the_row():
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    events = [dispatch(1)._replace(request=wire.RequestInfo("req-t", "GET", "/", traceparent)),
              dispatch(2)._replace(request=wire.RequestInfo("req-u", "GET", "/"))]
    state = MonitorState(capacity=100)
    state.apply([wire.encode_frame(PROC, 0, events)])
    rows = [state.store.row(state.store.first + i).request for i in range(2)]
    assert [r.traceparent for r in rows] == [traceparent, None]
    bad = dispatch(3)._replace(request=wire.RequestInfo("req-v", "GET", "/", "00-not-a-trace"))
    frame = wire.decode_frame(wire.encode_frame(PROC, 2, [bad]))
    assert (frame.events, frame.malformed) == ([], 1)
