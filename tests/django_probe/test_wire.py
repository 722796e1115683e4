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
                          {"instance": "auth.User pk=3", "created": "True"}, [call], False)
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
