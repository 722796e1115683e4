"""The compiled decoder (_colframe + colbatch) must store exactly what the Python path does.

It only takes frames that wire accepts in full; everything else must be left to the
Python decoders (wire's verdict). These tests compare whole monitor states built both
ways, and check the decoder's acceptance against wire's on fuzzed input.
"""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core import colbatch, fastwire
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, frame, heartbeat, receiver
from tests.monitor_gui.core.test_malformed import BAD_EVENTS, CASES, plain

pytestmark = pytest.mark.skipif(colbatch._colframe is None, reason="_colframe is not built")
SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@pytest.fixture(autouse=True)
def ingest_path():
    """These tests choose the path themselves (overrides conftest's parametrized one)."""


def snapshot(state: MonitorState):
    """Everything the GUI can read from a state, with internal ids resolved to values."""
    store = state.store
    rows = []
    for r in range(store.first, store.end):
        row = store.row(r)
        rows.append((row.to_dispatch(), row.proc, row.proc_key, row.depth, row.parent_row,
                     row.children, row.error))
    edges = {(e.kind, e.src, e.dst): (e.count, e.skipped, e.errors, e.total_ns, e.max_ns,
                                      e.last_ts, e.known)
             for e in [*state.graph.sent.values(), *state.graph.calls.values()]}
    procs = {k: (p.events, p.dispatches, p.lost_gaps, p.malformed, p.next_seq, p.dropped_send)
             for k, p in state.processes.items()}
    signals = {name: (s.count, s.errors, s.empty_count) for name, s in state.signals.items()}
    texts = [store.receivers.columns["text"][i % store.receivers.capacity]
             for i in range(store.receivers.first, store.receivers.end)]
    return rows, edges, procs, signals, state.totals, texts


def both(batches, monkeypatch, capacity=1000):
    """Apply ``batches`` (lists of frames) on each path; return both snapshots and changes."""
    out = []
    for accel in (True, False):
        monkeypatch.setattr(colbatch, "AVAILABLE", accel)
        state = MonitorState(capacity=capacity)
        changes = [state.apply(list(b), now=10**18) for b in batches]
        summary = [(c.appended, c.evicted, sorted(c.updated), sorted(c.fired),
                    sorted(c.signals_changed), c.processes_changed) for c in changes]
        out.append((snapshot(state), summary))
    return out


def assert_same(batches, monkeypatch, capacity=1000):
    compiled, python = both(batches, monkeypatch, capacity)
    assert compiled == python
    return compiled


VARIED = [
    dispatch(1), dispatch(2, parent=1, request=None)._replace(site=None),
    dispatch(3, receivers=[], kwargs={}),
    dispatch(4, receivers=[receiver(outcome=wire.RAISED), receiver(outcome=wire.SKIPPED)]),
    dispatch(5, parent=99, signal="app.signals.ünïcode", sender="app.Modèl",
             kwargs={"clé": "välue", "created": "True"}, thread="Thread-7 (worker)"),
    dispatch(6, receivers=[receiver(value="'a long return value' " * 20),
                           receiver(name="other", module="", value=None)]),
    dispatch(7, parent=6, method="asend_robust", raised=True, request="req-2"),
    dispatch(8, ts=2**63 - 1, dur=0)._replace(tid=-(2**63), site=wire.CallSite("f", -5, "g")),
]


def test_varied_dispatches_are_stored_the_same(monkeypatch):
    (rows, *_), _ = assert_same([[frame(VARIED, 0), frame(VARIED[:3], 8)]], monkeypatch)
    assert len(rows) == 11 and rows[4][0].signal == "app.signals.ünïcode"


def test_runs_stop_at_frames_the_decoder_leaves_to_python_and_keep_arrival_order(monkeypatch):
    frames = [frame(VARIED[:2], 0), frame([heartbeat(dropped_send=3)], 2),
              frame(VARIED[2:5], 3), CASES[sorted(CASES)[0]], frame(VARIED[5:], 6),
              wire.decode_frame(frame([dispatch(20)], 9)),  # an already decoded frame
              frame([dispatch(21, parent=20)], 10, proc=OTHER)]
    (rows, _, procs, *_), _ = assert_same([frames], monkeypatch)
    assert [r[0].id for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 20, 21]
    assert procs[("web1", 101, "boot-a")][5] == 3  # the heartbeat between runs counted


def test_runs_are_bounded_and_split_the_same_way(monkeypatch):
    monkeypatch.setattr(colbatch, "RUN_EVENTS", 3)
    frames = [frame([dispatch(i * 2, parent=i * 2 - 1 if i else None), dispatch(i * 2 + 1)],
                    i * 2) for i in range(6)]
    assert_same([frames, frames[3:]], monkeypatch)


def test_each_frame_is_offered_to_the_compiled_decoder_once(monkeypatch):
    monkeypatch.setattr(colbatch, "RUN_EVENTS", 2)
    starts = []
    decode = colbatch.decode_run

    def recording(frames, start):
        starts.append(start)
        return decode(frames, start)

    monkeypatch.setattr(colbatch, "decode_run", recording)
    frames = [frame([dispatch(1), dispatch(2)], 0), frame([dispatch(3)], 2),  # run 1 (full)
              frame([heartbeat()], 3),  # refused: straight to the Python path
              frame([dispatch(4)], 4), CASES[sorted(CASES)[0]], frame([dispatch(5)], 5)]
    taken, _, refused = decode(frames, 0)
    assert (taken, refused) == (1, False)  # stopped because the run was full, not refused
    state = MonitorState(capacity=100)
    state.apply(frames)
    assert starts == [0, 1, 3, 5] and len(state.store) == 5


def test_gaps_eviction_and_nesting_across_batches(monkeypatch):
    first = [frame([dispatch(i, parent=i + 1)], i) for i in range(0, 40, 2)]
    later = [frame([dispatch(i) for i in range(1, 41, 2)], 60)]  # parents arrive late; gap
    (rows, _, procs, *_), summary = assert_same([first, later], monkeypatch, capacity=25)
    assert len(rows) == 25 and procs[("web1", 101, "boot-a")][2] == 40
    assert any(s[2] for s in summary)  # older rows' parents were updated


def test_a_full_process_table_skips_the_same_frames(monkeypatch):
    out = []
    for accel in (True, False):
        monkeypatch.setattr(colbatch, "AVAILABLE", accel)
        state = MonitorState(capacity=100, max_processes=1)
        state.apply([frame([dispatch(1)], 0), frame([dispatch(2)], 0, proc=OTHER),
                     frame([dispatch(3), dispatch(4)], 1)], now=1)
        out.append(snapshot(state))
        assert [r[0].id for r in out[-1][0]] == [1, 3, 4]
    assert out[0] == out[1]


def decoded_rows(frames):
    """The dispatches of a run as wire.Dispatch values rebuilt from the decoder's columns."""
    taken, run, _ = colbatch.decode_run(frames, 0)
    if not taken:
        return taken, None
    names, free, texts = run["names"], run["free"], run["texts"]

    def name(i):
        return None if i < 0 else names[i]

    def text(i):
        return None if i < 0 else free[i]

    out, r = [], 0
    for i in range(run["n"]):
        calls = []
        for _ in range(int(run["nrecv"][i])):
            outcome = wire.OUTCOMES[run["r_outcome"][r]]
            raised = outcome == wire.RAISED
            calls.append(wire.ReceiverCall(
                name(run["r_name"][r]), name(run["r_module"][r]), name(run["r_file"][r]),
                int(run["r_line"][r]), bool(run["r_async"][r]), int(run["r_dur"][r]), outcome,
                None if raised else texts[r], name(run["r_exc_type"][r]),
                texts[r] if raised else None))
            r += 1
        site = None if run["site_file"][i] < 0 else wire.CallSite(
            names[run["site_file"][i]], int(run["site_line"][i]), names[run["site_func"][i]])
        req = None if run["req_id"][i] < 0 else wire.RequestInfo(
            free[run["req_id"][i]], names[run["req_method"][i]], free[run["req_path"][i]])
        off, n = int(run["kwoff"][i]), int(run["kwlen"][i])
        parent = int(run["pdid"][i])
        out.append(wire.Dispatch(
            wire.KIND_DISPATCH, int(run["ts"][i]), int(run["did"][i]),
            None if parent == -(2**63) else parent, names[run["signal"][i]],
            names[run["sender"][i]], wire.METHODS[run["method"][i]], int(run["dur"][i]),
            free[run["thread"][i]], int(run["tid"][i]), site, req,
            msgpack.unpackb(run["kwargs"][off:off + n]), calls, bool(run["raised"][i])))
    return taken, (run["headers"], out)


def agrees_with_wire(data: bytes) -> bool:
    """If the decoder takes ``data``, wire accepts it whole with the same values."""
    taken, got = decoded_rows([data])
    try:
        expected = wire.decode_frame(data)
    except wire.WireError:
        assert not taken, "took a frame wire rejects"
        return False
    if not taken:
        return False
    assert expected.malformed == 0 and all(e[0] == wire.KIND_DISPATCH for e in expected.events)
    headers, rows = got
    assert headers == [(*expected.proc, expected.seq, len(expected.events))]
    assert rows == [as_stored(e) for e in expected.events]
    return True


def clamp32(v: int) -> int:
    return min(max(v, -(2**31)), 2**31 - 1)


def as_stored(d: wire.Dispatch) -> wire.Dispatch:
    """What the store keeps of a dispatch, on either path: line numbers clamped to its
    int32 columns, and one text per call (a raised call's message, else its value)."""
    site = d.site and d.site._replace(line=clamp32(d.site.line))
    calls = [c._replace(line=clamp32(c.line), value=None, exc_msg=c.exc_msg)
             if c.outcome == wire.RAISED else c._replace(line=clamp32(c.line), exc_msg=None)
             for c in d.receivers]
    return d._replace(site=site, receivers=calls)


def test_decoder_takes_valid_frames_with_wires_values():
    assert agrees_with_wire(frame(VARIED, 3))
    assert agrees_with_wire(frame([], 0))


@pytest.mark.parametrize("name", sorted(CASES))
def test_decoder_leaves_every_malformed_frame_to_python(name):
    assert not agrees_with_wire(CASES[name])


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_decoder_leaves_frames_with_a_malformed_event_to_python(name):
    data = wire.encode_frame(PROC, 0, [list(VARIED[0]), BAD_EVENTS[name]])
    assert not agrees_with_wire(data)


def test_decoder_leaves_unusual_but_valid_frames_to_python():
    long_text = dispatch(1, signal="s" * (wire.MAX_STR + 1))  # wire skips just this event
    wide = dispatch(2, signal="é" * (wire.MAX_STR // 2 + 1))  # valid: bytes > MAX_STR
    huge = dispatch(3, ts=2**64 - 1)  # valid, beyond int64: the Python path clamps it
    for events in ([VARIED[0], long_text], [wide], [huge], [VARIED[0], heartbeat()]):
        data = frame(events)
        assert colbatch.decode_run([data], 0) == (0, None, True)
        assert wire.decode_frame(data).events  # ... yet wire accepts (some of) it


def test_invalid_utf8_and_trailing_bytes_end_the_run_before_that_frame():
    good = frame([dispatch(1)])
    bad_utf8 = good.replace(b"auth.User", b"auth.Use\xff")
    assert bad_utf8 != good
    trailing = good + b"\xc0"
    for bad in (bad_utf8, trailing):
        taken, run, refused = colbatch.decode_run([good, bad, good], 0)
        assert taken == 1 and refused and run["n"] == 1 and "auth.Use\ufffd" not in run["names"]


@settings(max_examples=400, deadline=None, suppress_health_check=SUPPRESS)
@given(index=st.integers(0, len(VARIED) - 1), field=st.integers(0, 14), value=plain)
def test_fuzz_one_field_replaced(index, field, value):
    event = list(VARIED[index])
    event[field] = value
    try:
        data = msgpack.packb(["dsm", 1, list(PROC), 0, [list(VARIED[0]), event]],
                             use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return
    agrees_with_wire(data)


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(field=st.integers(0, 9), value=plain)
def test_fuzz_one_receiver_field_replaced(field, value):
    call = list(receiver())
    call[field] = value
    event = [*list(VARIED[0])[:13], [call], False]
    try:
        data = msgpack.packb(["dsm", 1, list(PROC), 0, [event]], use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return
    agrees_with_wire(data)


VALID = frame(VARIED, 5)


@settings(max_examples=500, deadline=None, suppress_health_check=SUPPRESS)
@given(st.lists(st.integers(0, len(VALID) * 8 - 1), min_size=1, max_size=3),
       st.integers(0, len(VALID)))
def test_fuzz_bit_flips_and_truncation(bits, cut):
    data = bytearray(VALID)
    for b in bits:
        data[b // 8] ^= 1 << (b % 8)
    agrees_with_wire(bytes(data))
    agrees_with_wire(VALID[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(st.binary(max_size=300))
def test_fuzz_bytes(data):
    agrees_with_wire(data)


@settings(max_examples=100, deadline=None, suppress_health_check=SUPPRESS)
@given(st.lists(st.sampled_from(range(len(VARIED))), min_size=1, max_size=12),
       st.lists(st.integers(0, 3), min_size=1, max_size=6))
def test_fuzz_state_built_both_ways_is_the_same(picks, splits):
    events = [VARIED[i]._replace(id=100 + n) for n, i in enumerate(picks)]
    frames, at = [], 0
    for s in splits:
        if at < len(events):
            frames.append(frame(events[at:at + s + 1], at))
            at += s + 1
    mp = pytest.MonkeyPatch()
    try:
        assert_same([frames], mp, capacity=8)
    finally:
        mp.undo()


def test_fastwire_is_still_what_decides_for_the_rest():
    # The compiled path changes no verdict: a frame it leaves is fastwire's.
    data = CASES[sorted(CASES)[1]]
    assert colbatch.decode_run([data], 0) == (0, None, True)
    with pytest.raises(wire.WireError):
        fastwire.decode(data)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                 b"\xe2\x82", b"ok\x80", "é€😀".encode()])
def test_kwargs_text_is_utf8_checked_like_wire(raw):
    marker = b"Z" * len(raw)
    data = frame([dispatch(1, kwargs={"k": marker.decode()})])
    data = data.replace(marker, raw)
    valid = agrees_with_wire(data)
    try:
        raw.decode()
    except UnicodeDecodeError:
        assert not valid
    else:
        assert valid
