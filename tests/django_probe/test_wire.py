"""wire's encoding: events packed one by one and joined are the frame msgpack would pack."""

from __future__ import annotations

import enum

import msgpack
import pytest
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from django_probe import wire

PROC = wire.Proc(4242, "host-a", "0123456789abcdef")


def dispatch(i: int, **changes) -> wire.Dispatch:
    call = wire.ReceiverCall("on_save", "app.receivers", "/app/receivers.py", 7, False, 900,
                             wire.RETURNED, "None", None, None)
    event = wire.Dispatch(wire.KIND_DISPATCH, 1_700_000_000_000_000_000 + i, i, None,
                          "django.db.models.signals.post_save", "auth.User", "send", 1200,
                          "MainThread", 140_000_000_000, wire.CallSite("/app/views.py", 3, "v"),
                          wire.RequestInfo("ab-1", "POST", "/login/"),
                          {"instance": "auth.User pk=3", "created": "True"}, [call], False,
                          None)
    return event._replace(**changes)


def msgpack_frame(seq: int, events: list) -> bytes:
    """The reference: the whole frame packed by msgpack in one call."""
    return msgpack.packb((wire.MAGIC, wire.PROTOCOL_VERSION, PROC, seq, events),
                         use_bin_type=True)


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 300, 65_535, 65_536])
def test_joined_frame_is_byte_identical_across_array_header_sizes(n):
    # fixarray (< 16), array 16 (< 65536) and array 32 headers; tiny items keep it cheap.
    items = [i % 100 for i in range(n)]
    packed = [wire.pack_event(item) for item in items]
    assert wire.frame_of(PROC, 7, packed) == msgpack_frame(7, items)


def test_encode_frame_of_every_event_kind_is_what_msgpack_packs():
    events = [
        wire.Hello(wire.KIND_HELLO, 1, {"probe": "0.1", "pid": "4242"}),
        dispatch(1),
        dispatch(2, parent=1, site=None, request=None, kwargs={}, receivers=[], raised=True),
        wire.Heartbeat(wire.KIND_HEARTBEAT, 2, 10, 9, 1, 0, 3, 1000),
        wire.Counts(wire.KIND_COUNTS, 3, 5_000_000,
                    [wire.EmptyCount("django.db.models.signals.pre_init", "auth.User",
                                     "send", 20_000)]),
    ]
    data = wire.encode_frame(PROC, 2**40, events)
    assert data == msgpack_frame(2**40, events)
    assert wire.decode_frame(data).events == events


class Colour(enum.IntEnum):
    RED = 1


def test_subclasses_of_plain_types_pack_as_their_base_type_like_msgpack():
    # A SafeString from a template helper or an IntEnum must not make an event unpackable.
    event = dispatch(1, sender=SafeString("auth.User"), tid=Colour.RED)
    assert wire.pack_event(event) == msgpack.packb(event, use_bin_type=True)


@pytest.mark.parametrize("value", [object(), 2**64, -(2**63) - 1])
def test_values_that_are_not_plain_data_are_refused(value):
    with pytest.raises((TypeError, OverflowError)):
        wire.pack_event(dispatch(1, kwargs={"x": value}))


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20)
    | st.binary(max_size=20) | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@given(st.lists(plain, max_size=20), st.integers(0, 2**63))
def test_any_plain_events_join_into_the_frame_msgpack_packs(events, seq):
    packed = [wire.pack_event(event) for event in events]
    assert wire.frame_of(PROC, seq, packed) == msgpack_frame(seq, events)


# --------------------------------------------------------------------------- decoding


def test_a_frame_of_every_kind_decodes_to_the_definitions():
    events = [wire.Hello(wire.KIND_HELLO, 1, {"pid": "1"}),
              wire.Strings(wire.KIND_STRINGS, 0, ["django.db.models.signals.post_save"]),
              dispatch(1, signal=0), wire.Heartbeat(wire.KIND_HEARTBEAT, 2, 10, 9, 1, 0, 3, 9),
              wire.Topology(wire.KIND_TOPOLOGY, 3, [wire.SignalWiring(0, [
                  wire.ConnectedReceiver("f", "m", "/m.py", 1, False, None, True)])])]
    frame = wire.decode_frame(wire.encode_frame(PROC, 5, events))
    assert frame == wire.Frame(PROC, 5, events, 0)
    assert [type(e) for e in frame.events] == [type(e) for e in events]


@pytest.mark.parametrize("bad", [
    ("D", 1),  # too short
    ("X", 1, 2),  # unknown kind
    dispatch(1, dur=-1),  # a negative duration
    dispatch(1, method="emit"),  # not a METHODS value
    dispatch(1, signal="s" * (wire.MAX_STR + 1)),  # over the string limit
    dispatch(1, sender=wire.MAX_STRINGS),  # an id past the limit
    dispatch(1, receivers=[("f",) * 10]),  # a receiver call of the wrong shape
    wire.Heartbeat(wire.KIND_HEARTBEAT, 1, -1, 0, 0, 0, 0, 0),
    wire.Strings(wire.KIND_STRINGS, -1, ["a"]),
    ("S", 0, [1]),  # definitions are strings
    ("I", 1, {"k": 1}),  # hello values are strings
])
def test_each_bad_event_is_skipped_and_counted_beside_its_good_neighbours(bad):
    good = dispatch(2)
    frame = wire.decode_frame(wire.encode_frame(PROC, 0, [good, bad, good]))
    assert frame.events == [good, good] and frame.malformed == 1


@pytest.mark.parametrize("version,said", [
    (3, "protocol version 3 from the probe, this monitor speaks 4"),
    (5, "protocol version 5 from the probe, this monitor speaks 4: upgrade the monitor"),
    (4.0, "bad protocol version 4.0"), (True, "bad protocol version True")])
def test_only_the_integer_version_is_read_and_refusals_name_both_versions(version, said):
    data = msgpack.packb(["dsm", version, list(PROC), 0, [list(dispatch(1))]])
    with pytest.raises(wire.WireError, match=said.replace("(", r"\(")):
        wire.decode_frame(data)


@pytest.mark.parametrize("data", [b"", b"\xc1", msgpack.packb(["dsm", wire.PROTOCOL_VERSION]),
                                  msgpack.packb(["xyz", 2, list(PROC), 0, []]),
                                  msgpack.packb(["dsm", wire.PROTOCOL_VERSION, [1, 2, 3], 0, []]),
                                  msgpack.packb(["dsm", wire.PROTOCOL_VERSION, list(PROC), -1, []]),
                                  msgpack.packb({"dsm": 2})])
def test_unusable_frames_are_refused_whole(data):
    with pytest.raises(wire.WireError):
        wire.decode_frame(data)


def test_a_frame_of_millions_of_empty_arrays_is_refused_without_building_them():
    """Issue 15: 16 MB of empty arrays behind a plausible header used to cost 1.2 GB."""
    import tracemalloc

    n = wire.MAX_FRAME_BYTES - 64
    # the items after the array header
    head = msgpack.packb(["dsm", wire.PROTOCOL_VERSION, list(PROC), 0])[1:]
    events = [b"\x95", head, b"\xdd", n.to_bytes(4, "big"), b"\x90" * n]
    data = b"".join(events)[:wire.MAX_FRAME_BYTES]
    inner = b"".join([b"\x95", head, b"\x91", b"\xdc\xff\xff", b"\x90" * 65_535])
    tracemalloc.start()
    try:
        with pytest.raises(wire.WireError):
            wire.decode_frame(data)
        frame = wire.decode_frame(inner)  # one event that is a 65,535-array of arrays
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert frame.events == [] and frame.malformed == 1
    assert peak < 8 * 1024 * 1024


def test_typed_names_the_tuples_the_hot_path_builds():
    raw = tuple(dispatch(1))
    raw = raw[:10] + (tuple(raw[10]), tuple(raw[11]), raw[12], tuple(map(tuple, raw[13])),
                      raw[14], ("default", 2))
    assert wire.typed(raw) == dispatch(1, tx=wire.TxContext("default", 2))
    with pytest.raises(wire.WireError):
        wire.typed(raw[:-1])


def test_readable_form_round_trips_and_is_validated():
    event = dispatch(3)
    d = wire.event_to_dict(event)
    assert d["site"] == {"file": "/app/views.py", "line": 3, "func": "v"}
    assert wire.event_from_dict(d) == event
    with pytest.raises(wire.WireError):
        wire.event_from_dict({**d, "dur": "slow"})
    with pytest.raises(wire.WireError):
        wire.event_from_dict({"kind": "Z"})


def test_arrays_nested_past_the_stack_are_a_wire_error():
    deep = b"\x91" * 200_000 + b"\x90"
    head = msgpack.packb(["dsm", wire.PROTOCOL_VERSION, list(PROC), 0])[1:]
    with pytest.raises(wire.WireError):
        wire.decode_frame(b"\x95" + head + b"\x91" + deep)
    with pytest.raises(wire.WireError):
        wire.decode_frame(b"\x95" + deep)
