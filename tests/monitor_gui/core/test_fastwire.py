"""The fast decoder must agree with django_probe.wire on every input (differential tests)."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core import fastwire
from tests.monitor_gui.core.events import PROC, dispatch, heartbeat, receiver
from tests.monitor_gui.core.test_malformed import BAD_EVENTS, CASES, plain


@pytest.fixture(autouse=True, params=["typed", "columns"])
def decoder_path(request, monkeypatch):
    """Run every test with the msgspec decoder and with the pure-Python column checks."""
    if request.param == "columns":
        monkeypatch.setattr(fastwire, "_TYPED", None)
    elif fastwire._TYPED is None:
        pytest.skip("msgspec is not installed")
    return request.param


def as_plain(value):
    """NamedTuples and lists both become lists, so the two decoders' outputs compare."""
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value


def rows(columns, count):
    return [as_plain(list(row)) for row in zip(*columns)] if count else []


def agree(data) -> None:
    try:
        expected = wire.decode_frame(data)
    except wire.WireError:
        with pytest.raises(wire.WireError):
            fastwire.decode(data)
        return
    got = fastwire.decode(data)
    assert (got.proc, got.seq, got.malformed) == (expected.proc, expected.seq, expected.malformed)
    want_d = [e for e in expected.events if e[0] == wire.KIND_DISPATCH]
    want_o = [e for e in expected.events if e[0] != wire.KIND_DISPATCH]
    assert got.count == len(want_d)
    assert rows(got.columns, got.count) == as_plain(want_d)
    calls = [r for d in want_d for r in d.receivers]
    assert rows(got.receivers, len(calls)) == as_plain(calls)
    assert got.others == want_o


GOOD = [
    dispatch(1), dispatch(2, parent=1, request=None)._replace(site=None),
    dispatch(3, receivers=[], kwargs={}),
    dispatch(4, receivers=[receiver(outcome=wire.RAISED), receiver(outcome=wire.SKIPPED)]),
]


def test_agrees_on_valid_frames():
    agree(wire.encode_frame(PROC, 0, GOOD))
    agree(wire.encode_frame(PROC, 5, [*GOOD, heartbeat()]))  # mixed kinds: the slow path
    agree(wire.encode_frame(PROC, 0, []))


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_on_malformed_frames(name):
    agree(CASES[name])


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_agrees_on_each_malformed_event(name):
    agree(wire.encode_frame(PROC, 0, [list(GOOD[0]), BAD_EVENTS[name], list(GOOD[3])]))


def test_long_strings_fall_back_to_wire_and_only_skip_their_event():
    long = dispatch(9, signal="s" * (wire.MAX_STR + 1))
    data = wire.encode_frame(PROC, 0, [GOOD[0], long])
    agree(data)
    assert fastwire.decode(data).malformed == 1


def test_bool_is_not_an_int_and_int_is_not_a_bool():
    agree(wire.encode_frame(PROC, 0, [[*list(GOOD[0])[:1], True, *list(GOOD[0])[2:]]]))
    agree(wire.encode_frame(PROC, 0, [[*list(GOOD[0])[:14], 1]]))


mutation = st.sampled_from(range(15))
SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=400, deadline=None, suppress_health_check=SUPPRESS)
@given(index=st.integers(0, len(GOOD) - 1), field=mutation, value=plain)
def test_fuzz_one_field_replaced(index, field, value):
    event = list(GOOD[index])
    event[field] = value
    try:
        data = msgpack.packb(["dsm", 1, list(PROC), 0, [list(GOOD[0]), event]], use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return
    agree(data)


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(field=st.integers(0, 9), value=plain)
def test_fuzz_one_receiver_field_replaced(field, value):
    call = list(receiver())
    call[field] = value
    event = [*list(GOOD[0])[:13], [call], False]
    try:
        data = msgpack.packb(["dsm", 1, list(PROC), 0, [event]], use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return
    agree(data)


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(st.binary(max_size=300))
def test_fuzz_bytes(data):
    agree(data)


@settings(max_examples=200, deadline=None, suppress_health_check=SUPPRESS)
@given(index=st.integers(0, len(GOOD) - 1), field=mutation, value=plain)
def test_decode_events_agrees_with_wire(index, field, value):
    event = list(GOOD[index])
    event[field] = value
    try:
        data = msgpack.packb(["dsm", 1, list(PROC), 0, [list(GOOD[1]), event]], use_bin_type=True)
    except (OverflowError, ValueError, TypeError):
        return
    for frame in (data, wire.encode_frame(PROC, 3, GOOD)):
        try:
            expected = wire.decode_frame(frame)
        except wire.WireError:
            with pytest.raises(wire.WireError):
                fastwire.decode_events(frame)
            continue
        got = fastwire.decode_events(frame)
        assert (got.proc, got.seq, got.malformed) == (expected.proc, expected.seq,
                                                      expected.malformed)
        assert as_plain(got.events) == as_plain(expected.events)


def typed_or_error(decode, data):
    try:
        return as_plain(decode(data))
    except Exception:
        return "rejected"


@pytest.fixture
def vocab(decoder_path):
    if decoder_path != "typed":
        pytest.skip("the vocabulary decoder needs msgspec")
    return fastwire.VocabDecoder()


def test_vocab_decoder_returns_the_learned_string_objects(vocab):
    vocab.decode(wire.encode_frame(PROC, 0, GOOD))
    assert vocab.rebuilds == 1 and vocab.decoder is not None
    data = wire.encode_frame(PROC, 4, GOOD)
    again = vocab.decode(data)
    assert as_plain(again) == as_plain(fastwire._TYPED.decode(data))
    # One str object per value, whichever event or frame it comes from.
    later = vocab.decode(wire.encode_frame(PROC, 8, GOOD))
    assert all(d[4] is again[4][0][4] for d in [*again[4], *later[4]])
    assert vocab.rebuilds == 1  # nothing new: no rebuild


def test_vocab_decoder_learns_new_values_and_rebuilds_at_most_every_few_frames(
        vocab, monkeypatch):
    monkeypatch.setattr(fastwire, "REBUILD_FRAMES", 3)
    vocab.decode(wire.encode_frame(PROC, 0, GOOD))
    new = [dispatch(9, signal="app.signals.new")]
    data = wire.encode_frame(PROC, 4, new)
    assert as_plain(vocab.decode(data)) == as_plain(fastwire._TYPED.decode(data))
    assert "app.signals.new" in vocab.vocab["signal"] and vocab.rebuilds == 1
    vocab.decode(data)  # still new to the built decoder: decoded by the plain one
    vocab.decode(data)
    assert vocab.rebuilds == 2  # the third frame since the last rebuild
    before = vocab.rebuilds
    vocab.decode(data)
    assert vocab.rebuilds == before


def test_vocab_decoder_gives_up_on_a_field_with_too_many_values(vocab, monkeypatch):
    monkeypatch.setattr(fastwire, "VOCAB_MAX", 3)
    for i in range(5):
        data = wire.encode_frame(PROC, i, [dispatch(i, sender=f"app.Sender{i}")])
        assert as_plain(vocab.decode(data)) == as_plain(fastwire._TYPED.decode(data))
    assert vocab.vocab["sender"] is None and vocab.vocab["signal"]
    monkeypatch.setattr(fastwire, "VOCAB_CHARS", 10)
    data = wire.encode_frame(PROC, 9, [dispatch(9, signal="a.long.signal.name")])
    vocab.decode(data)
    assert vocab.vocab["signal"] is None


@settings(max_examples=200, deadline=None, suppress_health_check=SUPPRESS)
@given(index=st.integers(0, len(GOOD) - 1), field=mutation, value=plain,
       rfield=st.integers(0, 9), rvalue=plain)
def test_fuzz_vocab_decoder_agrees_with_the_plain_one(vocab, index, field, value, rfield,
                                                     rvalue):
    vocab.decode(wire.encode_frame(PROC, 0, GOOD))  # learned: the vocabulary decoder runs
    event = list(GOOD[index])
    event[field] = value
    call = list(receiver())
    call[rfield] = rvalue
    other = [*list(GOOD[0])[:13], [call], False]
    for events in ([event], [other], [list(GOOD[1]), event, other]):
        try:
            data = msgpack.packb(["dsm", 1, list(PROC), 0, events], use_bin_type=True)
        except (OverflowError, ValueError, TypeError):
            continue
        assert typed_or_error(vocab.decode, data) == typed_or_error(fastwire._TYPED.decode,
                                                                      data)
