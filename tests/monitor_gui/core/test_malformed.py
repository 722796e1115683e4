"""Untrusted input: every malformed case is counted and skipped, and apply never raises."""

from __future__ import annotations

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import PROC, dispatch, frame, heartbeat, receiver

KEY = ("web1", 101, "boot-a")


def check_consistent(state: MonitorState) -> None:
    """Every stored row must be readable whatever garbage came in."""
    for row in range(state.store.first, state.store.end):
        state.store.row(row)
    state.graph.nodes()
    totals = state.totals
    assert totals.stored == len(state.store) <= state.store.capacity
    assert totals.events == sum(p.events for p in state.processes.values())


def packed(*top) -> bytes:
    return msgpack.packb(list(top), use_bin_type=True)


V = wire.PROTOCOL_VERSION
GOOD = list(dispatch(1))
CASES = {
    "empty": b"",
    "random bytes": b"\xc1\xff\x00garbage",
    "not an array": packed("dsm"),
    "wrong magic": packed("xyz", 1, list(PROC), 0, []),
    "wrong version": packed("dsm", 1, list(PROC), 0, [GOOD]),
    "version as string": packed("dsm", "2", list(PROC), 0, [GOOD]),
    "short frame": packed("dsm", V, list(PROC), 0),
    "bad proc": packed("dsm", V, [1, 2, 3], 0, [GOOD]),
    "negative seq": packed("dsm", V, list(PROC), -4, [GOOD]),
    "events not a list": packed("dsm", V, list(PROC), 0, {"a": 1}),
    "non-utf8 string": wire.encode_frame(PROC, 0, [GOOD]).replace(b"auth.User", b"auth\xff\xfeser"),
    "bin type": packed("dsm", V, list(PROC), 0, [[b"D"]]),
    "ext type": msgpack.packb(["dsm", V, list(PROC), 0, [msgpack.ExtType(5, b"x")]]),
    "huge": b"\x00" * (wire.MAX_FRAME_BYTES + 1),
    "truncated": wire.encode_frame(PROC, 0, [GOOD])[:-3],
    "nested too deep": packed("dsm", V, list(PROC), 0, [[[[[[]]]]]]),
    # msgspec raises RecursionError, not DecodeError, for arrays nested this deep.
    "nested beyond the recursion limit": packed("dsm", V, list(PROC), 0, [])[:-1]
    + b"\x91" * 100_000 + b"\xc0",
}


def test_every_malformed_frame_kind_is_counted_once():
    state = MonitorState(capacity=10)
    for name, data in CASES.items():
        before = state.totals.malformed
        changes = state.apply([data])
        assert state.totals.malformed == before + 1, name
        assert changes.appended == 0, name
    # Frames whose sender is readable are blamed on it, the rest on the unknown bucket.
    assert state.processes[KEY].malformed >= 5
    assert state.process_table.unknown_malformed >= 4
    state.apply([frame([dispatch(2)])])  # still alive and accepting
    assert len(state.store) == 1


BAD_EVENTS = {
    "unknown kind": ["Q", 1],
    "empty": [],
    "not a list": "D",
    "dispatch short": GOOD[:-1],
    "ts as float": [*GOOD[:1], 1.5, *GOOD[2:]],
    "negative dur": [*GOOD[:7], -1, *GOOD[8:]],
    "bad method": [*GOOD[:6], "shout", *GOOD[7:]],
    "bad receivers": [*GOOD[:13], "nope", GOOD[14]],
    "bad outcome": [*GOOD[:13], [[*list(receiver())[:6], "exploded", None, None, None]], False],
    "raised not bool": [*GOOD[:14], 1],
    "kwargs not strings": [*GOOD[:12], {"a": 1}, *GOOD[13:]],
    "long string": [*GOOD[:4], "s" * (wire.MAX_STR + 1), *GOOD[5:]],
    "heartbeat negative": [*list(heartbeat())[:4], -1, 0, 0, 0],
    "counts bad item": ["C", 1, 1, [["sig", "snd", "send", -3]]],
    "topology bad": ["T", 1, [["sig", [["only", "three", "fields"]]]]],
    "hello bad info": ["I", 1, {"k": 5}],
}


def test_every_malformed_event_kind_is_counted_and_neighbours_survive():
    state = MonitorState(capacity=100)
    events = []
    for bad in BAD_EVENTS.values():
        events += [bad, GOOD]
    state.apply([wire.encode_frame(PROC, 0, events)])
    info = state.processes[KEY]
    assert info.malformed == len(BAD_EVENTS)
    assert info.events == len(state.store) == len(BAD_EVENTS)


def test_integers_beyond_int64_are_clamped_not_fatal():
    state = MonitorState(capacity=10)
    # msgpack carries uint64; numpy columns are int64 (site lines int32).
    huge = dispatch(2**63 + 7, ts=2**64 - 1, dur=2**64 - 1)._replace(
        site=wire.CallSite("f.py", 2**40, "fn"))
    state.apply([frame([huge, dispatch(2)])])
    row = state.store.row(0)
    assert row.ts == row.id == row.dur == 2**63 - 1 and row.site.line == 2**31 - 1
    assert state.store.row(1).id == 2


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.floats()
    | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_fuzz_arbitrary_bytes(frames):
    state = MonitorState(capacity=16)
    state.apply(frames)
    check_consistent(state)
    assert state.totals.malformed + len(state.processes) >= 1 or not frames


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(plain, max_size=6), seq=st.integers(-5, 2**64 - 1),
       proc=st.one_of(st.just(list(PROC)), plain))
def test_fuzz_structured_frames(events, seq, proc):
    state = MonitorState(capacity=16)
    try:
        data = msgpack.packb(["dsm", V, proc, seq, events], use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return  # not representable in msgpack at all
    state.apply([data, frame([dispatch(1)], seq=0)])
    check_consistent(state)


def _mutations(draw_bytes: bytes, positions: list[int]) -> bytes:
    data = bytearray(draw_bytes)
    for p in positions:
        if data:
            data[p % len(data)] ^= 0xFF
    return bytes(data)


VALID = wire.encode_frame(PROC, 0, [
    dispatch(1, parent=3), dispatch(2, receivers=[receiver(outcome=wire.RAISED)]), heartbeat(),
    wire.Counts("C", 1, 1, [wire.EmptyCount("s", "x", "send", 2)]),
    wire.Topology("T", 1, [wire.SignalWiring("s", [
        wire.ConnectedReceiver("r", "m", "f", 1, False, None, True)])]),
    wire.Hello("I", 1, {"v": "1"}),
])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=4), st.integers(0, len(VALID)))
def test_fuzz_bit_flips_and_truncation_of_a_valid_frame(positions, cut):
    state = MonitorState(capacity=16)
    state.apply([_mutations(VALID, positions), VALID[:cut]])
    check_consistent(state)
