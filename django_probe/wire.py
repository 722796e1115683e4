"""The event wire format: the one definition shared by the probe, the monitor and the tests.

Imports neither Django, zmq nor Qt (an import-linter contract enforces it). Every
message is one ZeroMQ frame holding a msgpack array; events are positional
arrays (NamedTuples here) because the monitor must decode 200k events/s in
Python and positional arrays unpack about 3x faster than maps. Field meanings
are documented in docs/protocol.md; this module is the source of truth.

Never pickle: msgpack with extension types disabled carries only plain data.

The probe builds events on the application's threads as *exact* tuples in these field
orders (not the NamedTuple classes: CPython's GC untracks exact tuples of plain values,
never tuple subclasses); they pack identically. ``typed()`` names and validates them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import msgpack
import msgspec

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"  # the monitor binds it, probes connect; loopback only
MAGIC = "dsm"  # first element of every frame: "django signal monitor"

# Hard limits enforced when decoding untrusted frames.
MAX_FRAME_BYTES = 16 * 1024 * 1024
MAX_EVENTS_PER_FRAME = 20_000
MAX_STR = 8_192
MAX_ITEMS = 4_096

# Event kind codes (first element of each event array).
KIND_HELLO = "I"
KIND_DISPATCH = "D"
KIND_HEARTBEAT = "H"
KIND_COUNTS = "C"
KIND_TOPOLOGY = "T"

# How a dispatch was made.
METHODS = ("send", "send_robust", "asend", "asend_robust", "receiver")

# Receiver outcomes.
RETURNED = "returned"
RAISED = "raised"
SKIPPED = "skipped"  # never ran: an earlier receiver raised under send()/asend()
OUTCOMES = (RETURNED, RAISED, SKIPPED)


class WireError(ValueError):
    """A frame that is not a valid message of this protocol."""


class Proc(NamedTuple):
    """Identifies one probe process instance (a restart or fork gets a new ``boot``)."""

    pid: int
    host: str
    boot: str  # random token per process instance, regenerated after fork()


class CallSite(NamedTuple):
    file: str
    line: int
    func: str


class RequestInfo(NamedTuple):
    id: str
    method: str
    path: str


class ReceiverCall(NamedTuple):
    """One receiver that a dispatch called (or skipped), in call order."""

    name: str  # qualified name, e.g. "create_profile" or "AuditLog.on_login"
    module: str
    file: str
    line: int
    is_async: bool
    dur: int  # nanoseconds; 0 when skipped
    outcome: str  # one of OUTCOMES
    value: str | None  # summary of the return value (returned)
    exc_type: str | None  # exception class path (raised)
    exc_msg: str | None  # bounded exception message (raised)


class Dispatch(NamedTuple):
    """One call of send/send_robust/asend/asend_robust that reached at least one receiver."""

    kind: str  # KIND_DISPATCH
    ts: int  # start, Unix epoch nanoseconds
    id: int  # dispatch id, unique within the process instance
    parent: int | None  # id of the dispatch whose receiver sent this one
    signal: str  # dotted name, e.g. "django.db.models.signals.post_save"
    sender: str  # "auth.User", "module.Class" or a short repr
    method: str  # one of METHODS
    dur: int  # total nanoseconds
    thread: str
    tid: int
    site: CallSite | None  # the frame that called send()
    request: RequestInfo | None
    kwargs: dict[str, str]  # bounded, redacted summaries
    receivers: list[ReceiverCall]
    raised: bool  # the dispatch propagated an exception to its caller


class Heartbeat(NamedTuple):
    """Periodic health of the probe: cumulative counters since the process started."""

    kind: str  # KIND_HEARTBEAT
    ts: int
    captured: int  # events handed to the queue
    sent: int  # events handed to zmq
    dropped_queue: int  # dropped because the queue was full
    dropped_send: int  # dropped because zmq would block (monitor absent/slow)
    queue_depth: int
    queue_max: int


class EmptyCount(NamedTuple):
    signal: str
    sender: str
    method: str
    count: int


class Counts(NamedTuple):
    """Dispatches that found no receiver, aggregated over a window."""

    kind: str  # KIND_COUNTS
    ts: int  # end of the window
    window: int  # nanoseconds
    items: list[EmptyCount]


class ConnectedReceiver(NamedTuple):
    name: str
    module: str
    file: str
    line: int
    is_async: bool
    sender: str | None  # None: any sender
    weak: bool


class SignalWiring(NamedTuple):
    name: str
    receivers: list[ConnectedReceiver]


class Topology(NamedTuple):
    """Every known signal and the receivers connected to it right now."""

    kind: str  # KIND_TOPOLOGY
    ts: int
    signals: list[SignalWiring]


class Hello(NamedTuple):
    """First event of every process instance: versions and configuration."""

    kind: str  # KIND_HELLO
    ts: int
    info: dict[str, str]


Event = Dispatch | Heartbeat | Counts | Topology | Hello


class Frame(NamedTuple):
    proc: Proc
    seq: int  # sequence number of events[0]; events are numbered consecutively
    events: list[Event]
    malformed: int  # events in this frame that failed validation and were skipped


# --------------------------------------------------------------------------- encoding


def _plain(value: Any) -> Any:
    # msgspec packs exact types only; msgpack-python packs subclasses (a SafeString, an
    # IntEnum) as their base type, and so do we. Anything else is not plain data.
    # (msgspec also packs a few types msgpack refuses: sets, datetimes, dataclasses. The
    # probe builds events from strings, numbers and tuples only; see docs/protocol.md.)
    if isinstance(value, str):
        return "".join((value,))  # an exact copy: str(SafeString) is the SafeString itself
    for base in (int, float, bytes, tuple, list, dict):
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"not plain data: {type(value).__name__}")


# One encoder for every thread: Encoder.encode() holds the GIL throughout and allocates
# its output per call, so it keeps no state between calls.
_pack = msgspec.msgpack.Encoder(enc_hook=_plain).encode


# pack_event(event) -> bytes: one event (a NamedTuple above or a plain tuple in its order)
# packed on its own. The probe packs each event as it queues it: a queue of ``bytes``
# holds nothing the cyclic GC must scan, and ``frame_of`` joins packed events into a frame
# without packing them again. Raises TypeError/OverflowError for values that are not plain
# data. It is the encoder's own method, not a wrapper: it runs once per dispatch.
pack_event: Callable[[Any], bytes] = _pack


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))  # fixarray
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")  # array 16
    return b"\xdd" + n.to_bytes(4, "big")  # array 32


def frame_of(proc: Proc, seq: int, packed: Sequence[bytes]) -> bytes:
    """The frame holding already packed events: byte for byte what ``encode_frame``
    makes of the same events (a msgpack array is its header followed by its items)."""
    head = _pack((MAGIC, PROTOCOL_VERSION, proc, seq))  # fixarray of 4: 0x94 ...
    return b"".join((b"\x95", head[1:], _array_header(len(packed)), *packed))


def encode_frame(proc: Proc, seq: int, events: Sequence[Any]) -> bytes:
    """Pack one frame. ``events`` are the NamedTuples above (tuples pack as arrays).

    ``seq`` numbers the first event; the next frame of the process starts at
    ``seq + len(events)``, so the monitor can count events lost in transit.
    """
    return frame_of(proc, seq, [_pack(event) for event in events])


# --------------------------------------------------------------------------- decoding

_UNPACK_LIMITS = dict(
    raw=False,
    use_list=True,
    strict_map_key=True,
    max_str_len=MAX_FRAME_BYTES,
    max_bin_len=0,
    max_ext_len=0,  # no extension types: plain data only
    max_array_len=MAX_EVENTS_PER_FRAME,
    max_map_len=MAX_ITEMS,
)


def _opt_str(v: Any) -> bool:
    return v is None or (type(v) is str and len(v) <= MAX_STR)


def _str(v: Any) -> bool:
    return type(v) is str and len(v) <= MAX_STR


def _int(v: Any) -> bool:
    return type(v) is int


def _bool(v: Any) -> bool:
    return type(v) is bool


def _receiver_call(v: Any) -> ReceiverCall:
    if type(v) is not list or len(v) != 10:
        raise WireError("receiver call must be a 10-item array")
    name, module, file, line, is_async, dur, outcome, value, exc_type, exc_msg = v
    if not (
        _str(name) and _str(module) and _str(file) and _int(line) and _bool(is_async)
        and _int(dur) and dur >= 0 and outcome in OUTCOMES and _opt_str(value)
        and _opt_str(exc_type) and _opt_str(exc_msg)
    ):
        raise WireError("bad receiver call field")
    return ReceiverCall(name, module, file, line, is_async, dur, outcome, value, exc_type, exc_msg)


def _str_map(v: Any) -> dict[str, str]:
    if type(v) is not dict:
        raise WireError("expected a map")
    for key, value in v.items():
        if not (_str(key) and _str(value)):
            raise WireError("map keys and values must be strings")
    return v


def _dispatch(v: list) -> Dispatch:
    if len(v) != 15:
        raise WireError("dispatch must have 15 fields")
    (kind, ts, id_, parent, signal, sender, method, dur, thread, tid,
     site, request, kwargs, receivers, raised) = v
    if not (
        _int(ts) and _int(id_) and (parent is None or _int(parent))
        and _str(signal) and _str(sender) and method in METHODS and _int(dur) and dur >= 0
        and _str(thread) and _int(tid) and _bool(raised)
    ):
        raise WireError("bad dispatch field")
    if site is not None:
        if not (type(site) is list and len(site) == 3 and _str(site[0]) and _int(site[1])
                and _str(site[2])):
            raise WireError("bad call site")
        site = CallSite(*site)
    if request is not None:
        if not (type(request) is list and len(request) == 3 and all(map(_str, request))):
            raise WireError("bad request info")
        request = RequestInfo(*request)
    if type(receivers) is not list or len(receivers) > MAX_ITEMS:
        raise WireError("receivers must be an array")
    return Dispatch(kind, ts, id_, parent, signal, sender, method, dur, thread, tid,
                    site, request, _str_map(kwargs), [_receiver_call(r) for r in receivers],
                    raised)


def _heartbeat(v: list) -> Heartbeat:
    if len(v) != 8 or not all(_int(x) and x >= 0 for x in v[1:]):
        raise WireError("bad heartbeat")
    return Heartbeat(*v)


def _counts(v: list) -> Counts:
    if len(v) != 4 or not (_int(v[1]) and _int(v[2])) or type(v[3]) is not list:
        raise WireError("bad counts")
    items = []
    for item in v[3]:
        if not (type(item) is list and len(item) == 4 and _str(item[0]) and _str(item[1])
                and item[2] in METHODS and _int(item[3]) and item[3] >= 0):
            raise WireError("bad counts item")
        items.append(EmptyCount(*item))
    return Counts(v[0], v[1], v[2], items)


def _topology(v: list) -> Topology:
    if len(v) != 3 or not _int(v[1]) or type(v[2]) is not list:
        raise WireError("bad topology")
    signals = []
    for entry in v[2]:
        if not (type(entry) is list and len(entry) == 2 and _str(entry[0])
                and type(entry[1]) is list):
            raise WireError("bad topology signal")
        receivers = []
        for r in entry[1]:
            if not (type(r) is list and len(r) == 7 and _str(r[0]) and _str(r[1]) and _str(r[2])
                    and _int(r[3]) and _bool(r[4]) and _opt_str(r[5]) and _bool(r[6])):
                raise WireError("bad topology receiver")
            receivers.append(ConnectedReceiver(*r))
        signals.append(SignalWiring(entry[0], receivers))
    return Topology(v[0], v[1], signals)


def _hello(v: list) -> Hello:
    if len(v) != 3 or not _int(v[1]):
        raise WireError("bad hello")
    return Hello(v[0], v[1], _str_map(v[2]))


_DECODERS = {
    KIND_DISPATCH: _dispatch,
    KIND_HEARTBEAT: _heartbeat,
    KIND_COUNTS: _counts,
    KIND_TOPOLOGY: _topology,
    KIND_HELLO: _hello,
}


def decode_event(v: Any) -> Event:
    """Validate one event array; raise WireError if it is not exactly a known event."""
    if type(v) is not list or not v or type(v[0]) is not str:
        raise WireError("event must be an array starting with its kind")
    decoder = _DECODERS.get(v[0])
    if decoder is None:
        raise WireError(f"unknown event kind {v[0]!r:.20}")
    return decoder(v)


def version_error(version: object) -> str | None:
    """Why a frame of protocol ``version`` cannot be read here (naming both versions), or
    None when it is exactly ours. Only the int itself is ours: ``1.0`` and ``True`` are not."""
    if type(version) is int and version == PROTOCOL_VERSION:
        return None
    if type(version) is not int:
        return (f"bad protocol version {version!r:.20} from the probe: this monitor speaks "
                f"{PROTOCOL_VERSION} (an integer)")
    shown = str(version) if abs(version) < 10**12 else f"{str(version)[:12]}…"
    fix = ("upgrade the monitor (pip install -U 'django-signal-monitor[monitor]')"
           if version > PROTOCOL_VERSION else
           "upgrade django-signal-monitor in the Django project, or use a monitor of its version")
    return f"protocol version {shown} from the probe, this monitor speaks {PROTOCOL_VERSION}: {fix}"


def decode_frame(data: bytes) -> Frame:
    """Decode and validate one untrusted frame.

    Raise WireError when the frame as a whole is unusable (not msgpack, wrong magic
    or version, bad process identity). Individual bad events are skipped and counted
    in ``Frame.malformed`` so one bad event does not hide its good neighbours.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("frame must be bytes")
    if len(data) > MAX_FRAME_BYTES:
        raise WireError("frame too large")
    try:
        top = msgpack.unpackb(data, **_UNPACK_LIMITS)
    except Exception as exc:  # msgpack raises many types for bad input; all mean "malformed"
        raise WireError(f"not a msgpack frame: {type(exc).__name__}") from None
    if type(top) is not list or len(top) != 5 or top[0] != MAGIC:
        raise WireError("not a signal-monitor frame")
    version_problem = version_error(top[1])
    if version_problem is not None:
        raise WireError(version_problem)
    proc = top[2]
    if not (type(proc) is list and len(proc) == 3 and _int(proc[0]) and _str(proc[1])
            and _str(proc[2])):
        raise WireError("bad process identity")
    if not (_int(top[3]) and top[3] >= 0) or type(top[4]) is not list:
        raise WireError("bad sequence number or events array")
    events: list[Event] = []
    malformed = 0
    for raw in top[4]:
        try:
            events.append(decode_event(raw))
        except WireError:
            malformed += 1
    return Frame(Proc(*proc), top[3], events, malformed)


# --------------------------------------------------------------------------- readable form

_TYPES: dict[str, type] = {
    KIND_DISPATCH: Dispatch,
    KIND_HEARTBEAT: Heartbeat,
    KIND_COUNTS: Counts,
    KIND_TOPOLOGY: Topology,
    KIND_HELLO: Hello,
}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """The self-describing form used by JSON Lines recordings and the docs."""
    return _plain(event)


def _positional(cls: type, value: Any) -> Any:
    if isinstance(value, dict) and hasattr(cls, "_fields"):
        return [value.get(f) for f in cls._fields]
    return value


def event_from_dict(d: dict[str, Any]) -> Event:
    """Inverse of event_to_dict, validated exactly like a frame from the wire."""
    if not isinstance(d, dict) or d.get("kind") not in _TYPES:
        raise WireError("not an event object")
    kind = d["kind"]
    v = [d.get(f) for f in _TYPES[kind]._fields]
    if kind == KIND_DISPATCH:
        v[10] = _positional(CallSite, v[10])
        v[11] = _positional(RequestInfo, v[11])
        if isinstance(v[13], list):
            v[13] = [_positional(ReceiverCall, r) for r in v[13]]
    elif kind == KIND_COUNTS and isinstance(v[3], list):
        v[3] = [_positional(EmptyCount, i) for i in v[3]]
    elif kind == KIND_TOPOLOGY and isinstance(v[2], list):
        v[2] = [
            [s.get("name"), [_positional(ConnectedReceiver, r) for r in s.get("receivers") or []]]
            if isinstance(s, dict) else s
            for s in v[2]
        ]
    return decode_event(v)


def typed(event: Any) -> Event:
    """Validate an event built as plain tuples (as the probe's hot path builds them) and
    return it as the NamedTuples above, exactly as the monitor would decode it."""
    try:
        raw = msgpack.unpackb(msgpack.packb(event, use_bin_type=True), **_UNPACK_LIMITS)
    except Exception as exc:
        raise WireError(f"not packable: {type(exc).__name__}") from None
    return decode_event(raw)
