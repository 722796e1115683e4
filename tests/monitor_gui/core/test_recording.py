"""Recordings: JSON Lines round trips (plain, .gz, .zst), regrouping, untrusted lines."""

from __future__ import annotations

import gzip
import json
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core.recording import RecordingReader, RecordingWriter, read_recording
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, heartbeat, receiver

ALL_KINDS = [
    wire.Hello(wire.KIND_HELLO, 1, {"django": "5.2", "probe": "0.1"}),
    wire.Topology(wire.KIND_TOPOLOGY, 2, [wire.SignalWiring("s", [
        wire.ConnectedReceiver("r", "m", "m.py", 3, True, "auth.User", False)])]),
    dispatch(1, parent=2, kwargs={"unicode": "é✓", "quote": '"'}),
    dispatch(2, receivers=[receiver(outcome=wire.RAISED), receiver(outcome=wire.SKIPPED)],
             raised=True, request=None)._replace(site=None),
    heartbeat(dropped_queue=1, dropped_send=2),
    wire.Counts(wire.KIND_COUNTS, 3, 10**9, [wire.EmptyCount("s", "x", "send", 4)]),
    dispatch(5, tx=wire.TxContext("default", 2)),
    wire.OnCommit(wire.KIND_ON_COMMIT, 4, 5, "default", 2, "send_email", "app.mail",
                  "/app/mail.py", 3, wire.CallSite("/app/receivers.py", 9, "on_save"), False,
                  wire.DISCARDED, 6, 0, None, None),
]


def frames() -> list[wire.Frame]:
    return [wire.Frame(PROC, 0, ALL_KINDS[:3], 0), wire.Frame(OTHER, 10, [dispatch(9)], 0),
            wire.Frame(PROC, 3, ALL_KINDS[3:], 0)]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_round_trip_every_event_kind(tmp_path, suffix):
    path = tmp_path / f"rec{suffix}"
    with RecordingWriter(path) as writer:
        for f in frames():
            writer.write(f)
    assert writer.events == len(ALL_KINDS) + 1
    back = list(read_recording(path))
    assert [(f.proc, f.seq, f.events) for f in back] == [
        (f.proc, f.seq, f.events) for f in frames()]


def test_lines_are_self_describing_json(tmp_path):
    path = tmp_path / "rec.jsonl.gz"
    with RecordingWriter(path) as writer:
        writer.write(frames()[1])
    (line,) = gzip.open(path, "rt").read().splitlines()
    record = json.loads(line)
    assert record["proc"] == {"pid": 202, "host": "web2", "boot": "boot-b"}
    assert record["seq"] == 10 and record["kind"] == "D" and record["signal"]
    assert record["receivers"][0]["name"] == "create_profile"


def test_consecutive_events_are_regrouped_into_frames(tmp_path):
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path) as writer:
        for i in range(5):
            writer.write(wire.Frame(PROC, i, [dispatch(i)], 0))
        writer.write(wire.Frame(PROC, 9, [dispatch(9)], 0))  # a gap starts a new frame
    back = list(read_recording(path))
    assert [(f.seq, len(f.events)) for f in back] == [(0, 5), (9, 1)]


def test_malformed_counts_and_gaps_survive_a_round_trip(tmp_path):
    original = [wire.Frame(PROC, 0, [dispatch(1)], 2), wire.Frame(PROC, 5, [dispatch(2)], 0)]
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path) as writer:
        for f in original:
            writer.write(f)
        writer.write_bad_frame(None)
    live, replayed = MonitorState(capacity=10), MonitorState(capacity=10)
    live.apply(original)
    reader = RecordingReader(path)
    replayed.apply(list(reader))
    key = ("web1", 101, "boot-a")
    assert live.processes[key].lost_gaps == replayed.processes[key].lost_gaps == 2
    assert live.processes[key].malformed == replayed.processes[key].malformed == 2
    assert reader.malformed == 1  # the undecodable frame with no known sender


def test_untrusted_lines_are_counted_not_raised(tmp_path):
    path = tmp_path / "rec.jsonl"
    good = wire.event_to_dict(dispatch(1)) | {"proc": {"pid": 1, "host": "h", "boot": "b"},
                                              "seq": 0}
    bad_event = dict(good, seq=1, dur=-5)
    lines = ["not json", "[1, 2]", json.dumps({"kind": "D", "seq": 0}), "",
             json.dumps(dict(good, proc={"pid": "x"})), json.dumps(good), json.dumps(bad_event),
             json.dumps(dict(good, seq=-1)), "\udcff"]
    path.write_text("\n".join(lines) + "\n", errors="surrogateescape")
    path.write_bytes(path.read_bytes() + b"\xff\xfe garbage\n")
    reader = RecordingReader(path)
    back = list(reader)
    assert reader.malformed == 7  # every line but the empty one, the good and the bad event
    assert [(len(f.events), f.malformed) for f in back] == [(1, 1)]
    state = MonitorState(capacity=10)
    state.apply(back)
    assert state.processes[("h", 1, "b")].malformed == 1


def test_missing_zstandard_is_explained(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(RuntimeError, match="zstandard"):
        RecordingWriter(tmp_path / "x.jsonl.zst")


def test_fast_event_dict_matches_wire_for_named_and_plain_tuples():
    from monitor_gui.core.recording import event_dict

    for event in ALL_KINDS:
        assert event_dict(event) == wire.event_to_dict(event)
    tx = wire.TxContext("default", 1)
    plain = tuple(dispatch(3, receivers=[receiver()], tx=tx))  # as msgspec decodes it
    plain = (*plain[:10], tuple(plain[10]), tuple(plain[11]), plain[12],
             [tuple(r) for r in plain[13]], plain[14], tuple(plain[15]))
    assert event_dict(plain) == wire.event_to_dict(dispatch(3, receivers=[receiver()], tx=tx))


def _line_record(event, **extra):
    record = wire.event_to_dict(event) | {"proc": {"pid": 1, "host": "h", "boot": "b"},
                                          "seq": 4}
    record.update(extra)
    return record


def test_fast_line_decoding_takes_valid_dispatches():
    from monitor_gui.core.lines import decode_dispatch_line

    for event in ALL_KINDS:
        got = decode_dispatch_line(json.dumps(_line_record(event)))
        if event[0] == wire.KIND_DISPATCH:
            assert got == (wire.Proc(1, "h", "b"), 4, event)
        else:
            assert got is None  # other kinds take wire's path
    # Names are Refs there as on the wire: an id is valid (a negative one is not).
    record = _line_record(ALL_KINDS[2], signal=7)
    assert decode_dispatch_line(json.dumps(record))[2] == wire.event_from_dict(record)
    assert decode_dispatch_line(json.dumps(_line_record(ALL_KINDS[2], signal=-7))) is None
    # A recording made before RequestInfo.traceparent existed still takes the fast path.
    with_request = next(e for e in ALL_KINDS if e[0] == wire.KIND_DISPATCH and e.request)
    record = _line_record(with_request)
    del record["request"]["traceparent"]
    assert decode_dispatch_line(json.dumps(record))[2] == with_request._replace(
        request=with_request.request._replace(traceparent=None))


def test_plain_frames_hold_the_same_values_and_fill_the_same_store(real_frames):
    from monitor_gui.core.recording import read_recording
    from monitor_gui.core.state import MonitorState
    from tests.monitor_gui.conftest import REAL_RECORDING

    plain = list(islice(read_recording(REAL_RECORDING, plain=True), 60))
    named = real_frames[:60]
    for a, b in zip(plain, named, strict=True):
        assert a.events == b.events  # a NamedTuple equals the tuple of its values
        for e in a.events:
            if e[0] == wire.KIND_DISPATCH:
                assert type(e) is tuple and all(type(r) is tuple for r in e[13])
    states = [MonitorState(capacity=100_000) for _ in range(2)]
    states[0].apply(plain)
    states[1].apply(named)
    rows = [[s.store.row(i) for i in range(s.store.first, s.store.end)] for s in states]
    assert rows[0] == rows[1] and len(rows[0]) > 1000


def test_every_dispatch_line_of_an_older_recording_takes_the_fast_path():
    # The shipped recording predates protocol 3's fields (tx, traceparent, ...): fields added
    # later need defaults, or every line falls back to wire's decoder (~10x slower to open).
    import zstandard

    from monitor_gui.core.lines import decode_dispatch_line
    from tests.monitor_gui.conftest import REAL_RECORDING

    with open(REAL_RECORDING, "rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    lines = [line for line in raw.split(b"\n") if b'"kind":"D"' in line]
    assert len(lines) > 40_000
    assert sum(decode_dispatch_line(line) is None for line in lines) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
FIELDS = [*wire.Dispatch._fields, "proc", "seq"]


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values, drop=st.booleans())
def test_fast_line_decoding_accepts_only_what_wire_accepts(field, value, drop):
    from monitor_gui.core.lines import decode_dispatch_line
    from monitor_gui.core.recording_reader import _proc

    record = _line_record(ALL_KINDS[3])
    if drop:
        del record[field]
    else:
        record[field] = value
    got = decode_dispatch_line(json.dumps(record))
    if got is None:
        return  # wire.event_from_dict decides, exactly as before
    assert got[2] == wire.event_from_dict(record)
    assert got[0] == _proc(record["proc"]) and got[1] == record["seq"] >= 0


@settings(max_examples=300, deadline=None)
@given(part=st.sampled_from(["receivers", "site", "request", "kwargs", "proc"]),
       key=st.text(max_size=8), value=json_values)
def test_fast_line_decoding_nested_fields(part, key, value):
    from monitor_gui.core.lines import decode_dispatch_line

    record = _line_record(ALL_KINDS[2])  # has site, request, kwargs, receivers
    target = record[part][0] if part == "receivers" else record[part]
    if target is None:
        return
    keys = list(target)
    target[keys[hash(key) % len(keys)] if keys and key else key] = value
    got = decode_dispatch_line(json.dumps(record))
    if got is not None:
        assert got[2] == wire.event_from_dict(record)
