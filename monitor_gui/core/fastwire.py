"""A faster, equally strict decoder for the ingest hot path; falls back to django_probe.wire.

``wire.decode_frame`` builds NamedTuples and checks every field in Python: ~6 µs per
dispatch here, too slow for 200k events/s. This module validates a frame of dispatches
*column by column* (``set(map(type, column))`` runs at C speed) and accepts it only if
every event is certainly one ``wire`` would accept too; the columns then feed the store
directly. Any other frame, including every malformed one, goes through ``wire`` event
by event, so the verdict on bad input is always wire's. A differential test
(tests/monitor_gui/core/test_fastwire.py) checks that both decoders agree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any, NamedTuple

import msgpack

from django_probe import wire

try:  # optional accelerator: typed msgpack decoding with validation done in C
    import msgspec
except ImportError:  # pragma: no cover - the pure-Python column checks below suffice
    msgspec = None  # type: ignore[assignment]

# Same as wire's limits except strings: capping them at MAX_STR in the unpacker makes the
# per-field length checks unnecessary. A frame with a longer string fails here and is then
# judged by wire.decode_frame, which skips only the offending event.
_LIMITS: dict[str, Any] = dict(
    raw=False, use_list=True, strict_map_key=True, max_str_len=wire.MAX_STR, max_bin_len=0,
    max_ext_len=0, max_array_len=wire.MAX_EVENTS_PER_FRAME, max_map_len=wire.MAX_ITEMS,
)
_NONE = type(None)
_INT, _STR, _BOOL, _LIST, _DICT = {int}, {str}, {bool}, {list}, {dict}
_OPT_INT, _OPT_STR, _OPT_LIST = {int, _NONE}, {str, _NONE}, {list, _NONE}
_SITE_TYPES = (str, int, str)
_REQUEST_TYPES = (str, str, str)
_METHODS = frozenset(wire.METHODS)
_OUTCOMES = frozenset(wire.OUTCOMES)
_NO_DISPATCHES: tuple[Sequence[Any], ...] = ((),) * 15
_NO_RECEIVERS: tuple[Sequence[Any], ...] = ((),) * 10


# Fields whose strings repeat across events (names, code locations, receivers' return
# values, which are mostly "None"): a decoder that reads
# them as Literals of the values seen so far returns those very str objects (their hashes
# cached) instead of a fresh string per event, so neither decoding, interning nor freeing
# them costs much. Index paths: dispatch field, or (dispatch field, sub-field).
VOCAB_FIELDS: dict[str, tuple[int, ...]] = {
    "signal": (4,), "sender": (5,), "thread": (8,), "site_file": (10, 0),
    "site_func": (10, 2), "request_method": (11, 1),
    "receiver_name": (13, 0), "receiver_module": (13, 1), "receiver_file": (13, 2),
    "receiver_value": (13, 7), "exc_type": (13, 8),  # most receivers return None
}
# A field with more values, or more characters in all, than this is decoded as plain text
# from then on (hostile or unbounded vocabularies: the sets stay small).
VOCAB_MAX = 1024
VOCAB_CHARS = 64 * 1024
# Frames decoded between two rebuilds of the vocabulary decoder: at least REBUILD_FRAMES,
# and a quarter of the values known (a rebuild costs ~1.7 µs per value), so that names
# that never stop coming cost ~0.03 µs per event at most.
REBUILD_FRAMES = 64


def _typed_decoder(vocab: dict[str, tuple[str, ...]] | None = None) -> Any:
    """A msgspec decoder for a frame of dispatches only, exactly as strict as wire.

    With ``vocab``, those fields accept only the given strings (a subset of what wire
    accepts, since every value came from an accepted frame): a frame with another value
    fails and is decoded by the plain decoder instead.
    """
    if msgspec is None:
        return None
    from typing import Annotated, Literal

    text = Annotated[str, msgspec.Meta(max_length=wire.MAX_STR)]

    def field(name: str) -> Any:
        values = (vocab or {}).get(name)
        return Literal[values] if values else text  # type: ignore[valid-type]

    count = Annotated[int, msgspec.Meta(ge=0)]
    method = Literal[wire.METHODS]  # type: ignore[valid-type]
    outcome = Literal[wire.OUTCOMES]  # type: ignore[valid-type]
    call = tuple[field("receiver_name"), field("receiver_module"), field("receiver_file"),
                 int, bool, count, outcome, field("receiver_value") | None,
                 field("exc_type") | None, text | None]
    dispatch = tuple[
        Literal["D"], int, int, int | None, field("signal"), field("sender"), method, count,
        field("thread"), int, tuple[field("site_file"), int, field("site_func")] | None,
        tuple[text, field("request_method"), text] | None,
        Annotated[dict[text, text], msgspec.Meta(max_length=wire.MAX_ITEMS)],
        Annotated[list[call], msgspec.Meta(max_length=wire.MAX_ITEMS)], bool]
    frame = tuple[Literal[wire.MAGIC], Literal[wire.PROTOCOL_VERSION],  # type: ignore[valid-type]
                  tuple[int, text, text], count,
                  Annotated[list[dispatch], msgspec.Meta(max_length=wire.MAX_EVENTS_PER_FRAME)]]
    return msgspec.msgpack.Decoder(frame)


_TYPED = _typed_decoder()


class VocabDecoder:
    """Decodes frames of dispatches with a decoder specialised to the strings seen so far.

    A frame it rejects goes to the plain typed decoder (``_TYPED``); if that accepts it,
    its values are learned and the specialised decoder is rebuilt (at most once every
    REBUILD_FRAMES frames or more, so a stream of ever new names cannot make it rebuild
    per frame). A field that exceeds VOCAB_MAX values is decoded as plain text from then on.
    Accepts and rejects exactly what ``_TYPED`` does, with the same values.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, set[str] | None] = {name: set() for name in VOCAB_FIELDS}
        self._chars = dict.fromkeys(VOCAB_FIELDS, 0)
        self.decoder: Any = None
        self.rebuilds = 0
        self._dirty = False
        self._since = 0  # frames decoded since the last rebuild
        self._lock = threading.Lock()

    def decode(self, data: bytes) -> Any:
        decoder = self.decoder
        if decoder is not None:
            try:
                typed = decoder.decode(data)
            except Exception:  # a new value, or not a frame of valid dispatches only
                pass
            else:
                self._since += 1
                if self._dirty and self._since >= self._interval():
                    with self._lock:
                        self._rebuild()
                return typed
        typed = _TYPED.decode(data)  # raises for what the plain decoder rejects too
        self._learn(typed[4])
        return typed

    def _learn(self, dispatches: list[Any]) -> None:
        with self._lock:
            self._since += 1
            for name, path in VOCAB_FIELDS.items():
                known = self.vocab[name]
                if known is None:
                    continue
                if len(path) == 1:
                    values = {d[path[0]] for d in dispatches}
                elif path[0] == 13:
                    values = {c[path[1]] for d in dispatches for c in d[13]}
                else:
                    values = {d[path[0]][path[1]] for d in dispatches if d[path[0]] is not None}
                values.discard(None)
                if not values <= known:
                    values -= known
                    known |= values
                    self._dirty = True
                    self._chars[name] += sum(map(len, values))
                    if len(known) > VOCAB_MAX or self._chars[name] > VOCAB_CHARS:
                        self.vocab[name] = None
            if self._dirty and (self.decoder is None or self._since >= self._interval()):
                self._rebuild()

    def _interval(self) -> int:
        return max(REBUILD_FRAMES, sum(len(v) for v in self.vocab.values() if v) // 4)

    def _rebuild(self) -> None:
        self._dirty = False
        self._since = 0
        self.rebuilds += 1
        self.decoder = _typed_decoder(
            {name: tuple(sorted(v)) for name, v in self.vocab.items() if v})


_VOCAB = VocabDecoder()


class RawFrame(NamedTuple):
    """A validated frame with its dispatches transposed into columns."""

    proc: wire.Proc
    seq: int
    count: int  # dispatches in this frame
    columns: tuple[Sequence[Any], ...]  # 15 columns, in wire.Dispatch field order
    receivers: tuple[Sequence[Any], ...]  # 10 columns of all receiver calls, in order
    others: list[wire.Event]  # heartbeats, counts, topology, hello (decoded by wire)
    malformed: int


def _types(column: Iterable[Any]) -> set[type]:
    return set(map(type, column))


def _check_receivers(receivers: Sequence[Any]) -> tuple[Sequence[Any], ...] | None:
    """Receiver columns if every call is one wire._receiver_call accepts, else None."""
    if max(map(len, receivers), default=0) > wire.MAX_ITEMS:
        return None
    flat = list(chain.from_iterable(receivers))
    if not flat:
        return _NO_RECEIVERS
    if _types(flat) != _LIST or set(map(len, flat)) != {10}:
        return None
    cols = tuple(zip(*flat, strict=True))
    names, modules, files, lines, asyncs, durs, outcomes, values, exc_types, exc_msgs = cols
    if (_types(names) <= _STR and _types(modules) <= _STR and _types(files) <= _STR
            and _types(lines) <= _INT and _types(asyncs) <= _BOOL and _types(durs) <= _INT
            and min(durs) >= 0 and _types(outcomes) <= _STR and set(outcomes) <= _OUTCOMES
            and _types(values) <= _OPT_STR and _types(exc_types) <= _OPT_STR
            and _types(exc_msgs) <= _OPT_STR):
        return cols
    return None


def _triples(values: Sequence[Any], types: tuple[type, type, type]) -> bool:
    present = [v for v in values if v is not None]
    if not present:
        return True
    if set(map(len, present)) != {3}:
        return False
    return all(_types(col) <= {t} for col, t in zip(zip(*present, strict=True), types,
                                                     strict=True))


def check_columns(events: list[Any]) -> tuple[tuple[Sequence[Any], ...],
                                                tuple[Sequence[Any], ...]] | None:
    """Validate raw dispatch arrays column by column (C-speed set/map passes).

    Returns (columns, receiver columns) only if every event is one wire._dispatch would
    accept (strings are already bounded by the unpacker); None means "let wire decide".
    """
    try:
        if _types(events) != _LIST or set(map(len, events)) != {15}:
            return None
        cols = tuple(zip(*events, strict=True))
        (kinds, ts, ids, parents, signals, senders, methods, durs, threads, tids, sites,
         requests, kwargs, receivers, raised) = cols
        if not (_types(kinds) <= _STR and set(kinds) == {wire.KIND_DISPATCH}
                and _types(ts) <= _INT and _types(ids) <= _INT and _types(parents) <= _OPT_INT
                and _types(signals) <= _STR and _types(senders) <= _STR
                and _types(methods) <= _STR and set(methods) <= _METHODS
                and _types(durs) <= _INT and min(durs) >= 0 and _types(threads) <= _STR
                and _types(tids) <= _INT and _types(raised) <= _BOOL
                and _types(kwargs) <= _DICT and _types(receivers) <= _LIST
                and _types(sites) <= _OPT_LIST and _types(requests) <= _OPT_LIST):
            return None
        # Map keys are str by construction (strict_map_key, no bin type); values must be.
        if not _types(chain.from_iterable(map(dict.values, kwargs))) <= _STR:
            return None
        if not (_triples(sites, _SITE_TYPES) and _triples(requests, _REQUEST_TYPES)):
            return None
        rcols = _check_receivers(receivers)
    except (TypeError, ValueError):  # e.g. an unhashable value where a string belongs
        return None
    if rcols is None:
        return None
    return cols, rcols


def columns_of(dispatches: Sequence[Any]) -> tuple[tuple[Sequence[Any], ...],
                                                   tuple[Sequence[Any], ...]]:
    """Columns of already validated dispatches (wire.Dispatch tuples or raw arrays)."""
    cols = tuple(zip(*dispatches, strict=True))
    flat = list(chain.from_iterable(cols[13]))
    return cols, (tuple(zip(*flat, strict=True)) if flat else _NO_RECEIVERS)


def _raw(proc: wire.Proc, seq: int, dispatches: list[Any], others: list[wire.Event],
         malformed: int) -> RawFrame:
    if not dispatches:
        return RawFrame(proc, seq, 0, _NO_DISPATCHES, _NO_RECEIVERS, others, malformed)
    return RawFrame(proc, seq, len(dispatches), *columns_of(dispatches), others, malformed)


def split(frame: wire.Frame) -> RawFrame:
    """A wire.Frame as a RawFrame (dispatches separated from the other events)."""
    dispatches, others = [], []
    for event in frame.events:
        (dispatches if event[0] == wire.KIND_DISPATCH else others).append(event)
    return _raw(frame.proc, frame.seq, dispatches, others, frame.malformed)


def _slow(data: Any) -> RawFrame:
    return split(wire.decode_frame(data))  # raises WireError with wire's own verdict


def decode(data: Any) -> RawFrame:
    """Decode one untrusted frame; raise wire.WireError exactly when wire.decode_frame does."""
    if type(data) is not bytes or len(data) > wire.MAX_FRAME_BYTES:
        return _slow(data)
    if _TYPED is not None:
        try:
            typed = _VOCAB.decode(data)
        except Exception:  # not a frame of valid dispatches only: the checks below decide
            pass
        else:
            if typed[4]:
                return RawFrame(wire.Proc(*typed[2]), typed[3], len(typed[4]),
                                *columns_of(typed[4]), [], 0)
            return RawFrame(wire.Proc(*typed[2]), typed[3], 0, _NO_DISPATCHES, _NO_RECEIVERS,
                            [], 0)
    try:
        top = msgpack.unpackb(data, **_LIMITS)
    except Exception:  # malformed, or a string longer than MAX_STR: let wire judge it
        return _slow(data)
    if not (type(top) is list and len(top) == 5 and top[0] == wire.MAGIC
            and type(top[1]) is int and top[1] == wire.PROTOCOL_VERSION):
        return _slow(data)
    proc, seq, events = top[2], top[3], top[4]
    if not (type(proc) is list and len(proc) == 3 and type(proc[0]) is int
            and type(proc[1]) is str and type(proc[2]) is str
            and type(seq) is int and seq >= 0 and type(events) is list):
        return _slow(data)
    proc = wire.Proc(*proc)
    if events:
        checked = check_columns(events)
        if checked is not None:  # the common case: a frame of valid dispatches only
            return RawFrame(proc, seq, len(events), *checked, [], 0)
    dispatches, others = [], []
    malformed = 0
    for event in events:  # mixed or suspicious frame: wire validates event by event
        try:
            decoded = wire.decode_event(event)
        except wire.WireError:
            malformed += 1
            continue
        (dispatches if decoded[0] == wire.KIND_DISPATCH else others).append(decoded)
    return _raw(proc, seq, dispatches, others, malformed)


def decode_events(data: Any) -> wire.Frame:
    """Like wire.decode_frame (same verdicts), but dispatches may come back as plain tuples.

    For consumers that want events one by one (the headless recorder): a frame of valid
    dispatches is decoded by msgspec in C; anything else by wire itself.
    """
    if _TYPED is not None and type(data) is bytes and len(data) <= wire.MAX_FRAME_BYTES:
        try:
            typed = _VOCAB.decode(data)
        except Exception:  # not a frame of valid dispatches only: wire decides
            pass
        else:
            return wire.Frame(wire.Proc(*typed[2]), typed[3], typed[4], 0)
    return wire.decode_frame(data)
