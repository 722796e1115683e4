"""The event wire format: the one definition shared by the probe, the monitor and the tests.

Imports neither Django, zmq nor Qt (an import-linter contract enforces it). Every message
is one ZeroMQ frame holding a msgpack array. Each event type is defined once below, as a
NamedTuple whose annotations are the wire's rules (types, ranges, lengths); encoding,
decoding and validation all derive from these classes through msgspec, in C. Field
meanings are documented in docs/protocol.md, and a test keeps the two in step.

Names are interned (protocol 2): a ``Ref`` is either a string or the id of one the same
process instance defined earlier in a ``Strings`` event. ``strings.py`` holds both ends:
the probe's ``Interner`` and the monitor's ``Vocabulary``.

Never pickle: msgpack carries only plain data, and extension types are refused.

The probe builds events on the application's threads as *exact* tuples in these field
orders (CPython's GC untracks exact tuples of plain values, never tuple subclasses); they
pack identically. ``typed()`` names and validates them.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

PROTOCOL_VERSION = 3
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"  # the monitor binds it, probes connect; loopback only
MAGIC = "dsm"  # first element of every frame: "django signal monitor"

# Hard limits enforced when decoding untrusted frames (before anything is materialised:
# a length is checked against its array header, a type at its first byte).
MAX_FRAME_BYTES = 16 * 1024 * 1024
MAX_EVENTS_PER_FRAME = 20_000
MAX_STR = 8_192
MAX_ITEMS = 4_096
MAX_STRINGS = 65_536  # ids a process may define; past them, names travel as strings
# Live control (monitor -> probe, docs/live-control.md): one message is at most this
# long and holds at most MAX_RULES rules; a digest is DIGEST_LEN hex digits.
MAX_CONTROL_BYTES = 64 * 1024
MAX_RULES = 256
MAX_SAMPLE = 1_000_000  # the largest N of "1 in N"
DIGEST_LEN = 16
MIN_LEASE_MS, MAX_LEASE_MS = 1_000, 600_000

KIND_HELLO = "I"
KIND_DISPATCH = "D"
KIND_HEARTBEAT = "H"
KIND_COUNTS = "C"
KIND_TOPOLOGY = "T"
KIND_STRINGS = "S"
KIND_ON_COMMIT = "O"
KIND_MUTED = "M"
KIND_RULES = "R"  # a control message (monitor -> probe), never inside a frame

METHODS = ("send", "send_robust", "asend", "asend_robust", "receiver")
RETURNED = "returned"
RAISED = "raised"
SKIPPED = "skipped"  # never ran: an earlier receiver raised under send()/asend()
OUTCOMES = (RETURNED, RAISED, SKIPPED)

Str = Annotated[str, msgspec.Meta(max_length=MAX_STR)]
Count = Annotated[int, msgspec.Meta(ge=0)]
StringId = Annotated[int, msgspec.Meta(ge=0, lt=MAX_STRINGS)]
Ref = StringId | Str  # a name: its id (see Strings) or the string itself
# A W3C Trace Context ``traceparent`` header (version 00 form, lowercase hex).
TRACEPARENT_PATTERN = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
Traceparent = Annotated[str, msgspec.Meta(pattern=TRACEPARENT_PATTERN)]
Method = Literal["send", "send_robust", "asend", "asend_robust", "receiver"]
Outcome = Literal["returned", "raised", "skipped"]
# What became of an on_commit() callback: the receivers' three, and "discarded" (a
# rollback removed it before its transaction committed).
DISCARDED = "discarded"
CALLBACK_OUTCOMES = (RETURNED, RAISED, SKIPPED, DISCARDED)
CallbackOutcome = Literal["returned", "raised", "skipped", "discarded"]
StrMap = Annotated[dict[Str, Str], msgspec.Meta(max_length=MAX_ITEMS)]


class WireError(ValueError):
    """A frame that is not a valid message of this protocol."""


class Proc(NamedTuple):
    """Identifies one probe process instance (a restart or fork gets a new ``boot``)."""

    pid: int
    host: Str
    boot: Str  # random token per process instance, regenerated after fork()


class CallSite(NamedTuple):
    file: Ref
    line: int
    func: Ref


class RequestInfo(NamedTuple):
    id: Str
    method: Ref
    path: Ref
    traceparent: Traceparent | None = None  # the request's W3C ``traceparent`` header


class ReceiverCall(NamedTuple):
    """One receiver that a dispatch called (or skipped), in call order."""

    name: Ref  # qualified name, e.g. "create_profile" or "AuditLog.on_login"
    module: Ref
    file: Ref
    line: int
    is_async: bool
    dur: Count  # nanoseconds; 0 when skipped
    outcome: Outcome
    value: Str | None  # summary of the return value (returned)
    exc_type: Ref | None  # exception class path (raised)
    exc_msg: Str | None  # bounded exception message (raised)


class TxContext(NamedTuple):
    """The transaction a dispatch ran in: the first connection inside ``atomic()``."""

    alias: Ref  # database alias, e.g. "default"
    depth: Annotated[int, msgspec.Meta(ge=1)]  # atomic blocks open on it (1: outermost)


class Dispatch(NamedTuple):
    """One call of send/send_robust/asend/asend_robust that reached at least one receiver."""

    kind: Literal["D"]
    ts: int  # start, Unix epoch nanoseconds
    id: int  # dispatch id, unique within the process instance
    parent: int | None  # id of the dispatch whose receiver sent this one
    signal: Ref  # dotted name, e.g. "django.db.models.signals.post_save"
    sender: Ref  # "auth.User", "module.Class" or a short repr
    method: Method
    dur: Count  # total nanoseconds
    thread: Ref
    tid: int
    site: CallSite | None  # the frame that called send()
    request: RequestInfo | None
    kwargs: StrMap  # bounded, redacted summaries
    receivers: Annotated[list[ReceiverCall], msgspec.Meta(max_length=MAX_ITEMS)]
    raised: bool  # the dispatch propagated an exception to its caller
    tx: TxContext | None  # None: no connection of its thread was inside atomic()


class OnCommit(NamedTuple):
    """One ``transaction.on_commit()`` callback queued while a dispatch's receivers ran,
    sent once its fate is known (it ran, or a rollback discarded it)."""

    kind: Literal["O"]
    ts: int  # when on_commit() was called, Unix epoch nanoseconds
    dispatch: int  # id of the running dispatch whose receiver (or deeper code) queued it
    alias: Ref  # database alias of the connection it was queued on
    depth: Count  # atomic blocks open when it was queued (0: autocommit, ran at once)
    name: Ref  # the callback's qualified name, named like a receiver
    module: Ref
    file: Ref
    line: int
    site: CallSite | None  # the code that called on_commit()
    robust: bool  # on_commit(..., robust=True): an exception is logged, not raised
    outcome: CallbackOutcome
    end: int  # when it finished running or was discarded, Unix epoch nanoseconds
    dur: Count  # nanoseconds it ran; 0 when it never ran
    exc_type: Ref | None  # exception class path (raised)
    exc_msg: Str | None  # bounded exception message (raised)


class Heartbeat(NamedTuple):
    """Periodic health of the probe: cumulative counters since the process started."""

    kind: Literal["H"]
    ts: Count
    captured: Count  # events handed to the queue
    sent: Count  # events handed to zmq
    dropped_queue: Count  # dropped because the queue was full
    dropped_send: Count  # dropped because zmq would block (monitor absent/slow)
    queue_depth: Count
    queue_max: Count
    # Live control (docs/live-control.md): the digest of the rules this process applies
    # ("" for none) and the dispatches they kept from streaming so far. Defaults: a
    # heartbeat that ends before them reads as "no rules".
    rules: Annotated[str, msgspec.Meta(max_length=DIGEST_LEN)] = ""
    muted: Count = 0


class EmptyCount(NamedTuple):
    signal: Ref
    sender: Ref
    method: Method
    count: Count


class Counts(NamedTuple):
    """Dispatches that found no receiver, aggregated over a window."""

    kind: Literal["C"]
    ts: int  # end of the window
    window: int  # nanoseconds
    items: Annotated[list[EmptyCount], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]


Names = Annotated[list[Str], msgspec.Meta(max_length=256)]


class MutedCount(NamedTuple):
    signal: Ref
    sender: Ref
    method: Method
    count: Count  # dispatches a rule kept from streaming (muted or sampled out)
    raised: Count  # of which propagated an exception to their caller


class Muted(NamedTuple):
    """Dispatches that live-control rules kept from streaming, aggregated over a window."""

    kind: Literal["M"]
    ts: int  # end of the window
    window: int  # nanoseconds
    items: Annotated[list[MutedCount], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]


class ConnectedReceiver(NamedTuple):
    """A connected receiver. The fields after ``weak`` are facts for wiring diagnostics;
    each may be None (unknown), so recordings made before them still read."""

    name: Ref
    module: Ref
    file: Ref  # where the receiver is defined
    line: int
    is_async: bool
    sender: Ref | None  # None: any sender
    weak: bool
    site: CallSite | None = None  # the connect() call or @receiver; None: before the probe
    connected_at: int | None = None  # Unix ns of the connect() call, when it was seen
    after_startup: bool | None = None  # connected once Django's app registry was ready
    uid: Str | None = None  # the dispatch_uid it was connected with (None: keyed by itself)
    target: Count | None = None  # index of this signal's first receiver calling the same callable
    params: Names | None = None  # names it accepts as keywords; None: not a plain function
    required: Names | None = None  # parameters without a default (beyond self)
    varkw: bool | None = None  # it accepts **kwargs
    died_at: int | None = None  # (SignalWiring.died only) Unix ns its weak reference died


class SignalWiring(NamedTuple):
    name: Ref
    receivers: Annotated[list[ConnectedReceiver], msgspec.Meta(max_length=MAX_ITEMS)]
    # Weak receivers garbage-collected while still connected (never disconnected).
    died: Annotated[list[ConnectedReceiver], msgspec.Meta(max_length=MAX_ITEMS)] | None = None


class Topology(NamedTuple):
    """Every known signal and the receivers connected to it right now."""

    kind: Literal["T"]
    ts: int
    signals: Annotated[list[SignalWiring], msgspec.Meta(max_length=MAX_ITEMS)]


class Hello(NamedTuple):
    """First event of every process instance: versions and configuration."""

    kind: Literal["I"]
    ts: int
    info: Annotated[dict[Str, Str], msgspec.Meta(max_length=256)]


class Strings(NamedTuple):
    """Defines ids ``first``, ``first + 1``... of this process instance as ``values``.

    The probe sends each name once, before the first event that uses its id, and all of
    them again every few seconds and after a reconnect, so a monitor that starts or
    restarts later learns them too (docs/protocol.md, "Interned names").
    """

    kind: Literal["S"]
    first: StringId
    values: Annotated[list[Str], msgspec.Meta(max_length=MAX_ITEMS)]


Event = Dispatch | Heartbeat | Counts | Topology | Hello | Strings | OnCommit | Muted
EVENT_TYPES: dict[str, type] = {
    KIND_DISPATCH: Dispatch, KIND_HEARTBEAT: Heartbeat, KIND_COUNTS: Counts,
    KIND_TOPOLOGY: Topology, KIND_HELLO: Hello, KIND_STRINGS: Strings,
    KIND_ON_COMMIT: OnCommit, KIND_MUTED: Muted,
}


class Frame(NamedTuple):
    proc: Proc
    seq: int  # sequence number of events[0]; events are numbered consecutively
    events: list[Event]
    malformed: int  # events in this frame that failed validation and were skipped


# --------------------------------------------------------------------------- encoding


def _plain(value: Any) -> Any:
    # msgspec packs exact types only; a str subclass (a SafeString) or an IntEnum packs as
    # its base type, like msgpack-python did. Anything else is not plain data.
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
# without packing them again. Raises TypeError/OverflowError for what is not plain data.
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
    """Pack one frame. ``seq`` numbers the first event; the next frame of the process
    starts at ``seq + len(events)``, so the monitor can count events lost in transit."""
    return frame_of(proc, seq, [_pack(event) for event in events])


# --------------------------------------------------------------------------- decoding

_Magic = Literal["dsm"]
# The envelope first: what identifies the sender and the protocol, events left undecoded.
_Envelope = tuple[_Magic, Any, Any, Any,
                  Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]]
_envelope = msgspec.msgpack.Decoder(_Envelope)
_proc = msgspec.msgpack.Decoder(Proc)
# The common frame, in one call: dispatches only (the publisher sends strings, heartbeats
# and snapshots in frames of their own when the stream is busy).
DispatchFrame = tuple[_Magic, Literal[PROTOCOL_VERSION], Proc, Count,  # type: ignore[valid-type]
                      Annotated[list[Dispatch], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]]
dispatch_frame = msgspec.msgpack.Decoder(DispatchFrame)
_event_decoders = {kind.encode(): msgspec.msgpack.Decoder(cls)
                   for kind, cls in EVENT_TYPES.items()}


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


def _kind_of(raw: msgspec.Raw) -> bytes:
    # An event is an array whose first item is a one-letter string: fixarray or array16
    # header, then 0xa1 and the letter.
    b = memoryview(raw)
    start = 1 if b[0] & 0xF0 == 0x90 else 3
    return bytes(b[start + 1:start + 2]) if b[start:start + 1] == b"\xa1" else b""


def decode_raw_event(raw: msgspec.Raw) -> Event:
    """Validate one packed event against its definition; WireError if it is none."""
    decoder = _event_decoders.get(_kind_of(raw))
    if decoder is None:
        raise WireError("not an event of this protocol")
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise WireError(f"bad event: {exc}") from None
    except RecursionError:  # arrays nested deeper than the interpreter's stack
        raise WireError("bad event: nested too deeply") from None


def decode_frame(data: bytes) -> Frame:
    """Decode and validate one untrusted frame; names stay as sent (ids or strings).

    Raise WireError when the frame as a whole is unusable (not msgpack, wrong magic
    or version, bad process identity). Individual bad events are skipped and counted
    in ``Frame.malformed`` so one bad event does not hide its good neighbours.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("frame must be bytes")
    if len(data) > MAX_FRAME_BYTES:
        raise WireError("frame too large")
    try:
        typed = dispatch_frame.decode(data)
    except (msgspec.DecodeError, RecursionError):
        pass
    else:
        return Frame(typed[2], typed[3], typed[4], 0)
    try:
        _magic, version, proc, seq, events = _envelope.decode(data)
    except msgspec.DecodeError as exc:
        raise WireError(f"not a signal-monitor frame: {exc}") from None
    except RecursionError:
        raise WireError("not a signal-monitor frame: nested too deeply") from None
    problem = version_error(version)
    if problem is not None:
        raise WireError(problem)
    try:
        proc = msgspec.convert(proc, Proc)
    except msgspec.ValidationError:
        raise WireError("bad process identity") from None
    if type(seq) is not int or seq < 0:
        raise WireError("bad sequence number")
    out: list[Event] = []
    malformed = 0
    for raw in events:
        try:
            out.append(decode_raw_event(raw))
        except WireError:
            malformed += 1
    return Frame(proc, seq, out, malformed)


def decode_event(value: Any) -> Event:
    """Validate one event given as plain Python data (an array: its kind first)."""
    if type(value) not in (list, tuple) or not value or value[0] not in EVENT_TYPES:
        raise WireError("event must be an array starting with its kind")
    try:
        return msgspec.convert(value, EVENT_TYPES[value[0]])
    except msgspec.ValidationError as exc:
        raise WireError(f"bad event: {exc}") from None


# --------------------------------------------------------------------------- readable form


def _to_plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: _to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """The self-describing form used by JSON Lines recordings and the docs."""
    return _to_plain(event)


def _nested(hint: Any) -> Any:
    """The NamedTuple inside a field's annotation (Optional, list or Annotated), if any."""
    if hasattr(hint, "_fields"):
        return hint
    for arg in typing.get_args(hint):
        found = _nested(arg)
        if found is not None:
            return found
    return None


# For each event type and the NamedTuples inside it: field -> the NamedTuple it holds.
_INNER: dict[type, dict[str, Any]] = {}
for _cls in (*EVENT_TYPES.values(), CallSite, RequestInfo, ReceiverCall, EmptyCount,
             ConnectedReceiver, SignalWiring, TxContext, MutedCount):
    _INNER[_cls] = {f: _nested(h) for f, h in typing.get_type_hints(_cls).items()}


def _positional(cls: Any, value: Any) -> Any:
    """``value`` (a dict of ``cls``'s fields, or already positional) in field order."""
    if isinstance(value, list):
        return [_positional(cls, v) for v in value]
    if isinstance(value, dict) and cls is not None:
        inner, defaults = _INNER[cls], cls._field_defaults
        # A field missing from an older recording reads as its default, if it has one.
        return [_positional(inner[f], value[f]) if f in value else defaults.get(f)
                for f in cls._fields]
    return value


def event_from_dict(d: dict[str, Any]) -> Event:
    """Inverse of event_to_dict, validated exactly like an event from the wire."""
    if not isinstance(d, dict) or d.get("kind") not in EVENT_TYPES:
        raise WireError("not an event object")
    return decode_event(_positional(EVENT_TYPES[d["kind"]], d))


def typed(event: Any) -> Event:
    """Validate an event built as plain tuples (as the probe's hot path builds them) and
    return it as the NamedTuples above, exactly as the monitor would decode it."""
    try:
        packed = _pack(event)
    except (TypeError, OverflowError) as exc:
        raise WireError(f"not packable: {type(exc).__name__}") from None
    return decode_raw_event(msgspec.Raw(packed))


# --------------------------------------------------------------------------- live control
# The second channel, monitor -> probes (docs/live-control.md): one message, a Rules,
# is the monitor's whole rule set (state, not commands: applying it twice is applying it
# once). It never travels inside a frame.


class Rule(NamedTuple):
    """One live-control rule: which dispatches it matches and what it does to them."""

    signal: Str | None  # dotted signal name; None: any signal (then sender is set)
    sender: Str | None  # sender label as the monitor shows it; None: any sender
    every: Annotated[int, msgspec.Meta(ge=0, le=MAX_SAMPLE)]  # 0: mute; N: stream 1 in N


class Rules(NamedTuple):
    """The monitor's current rule set, sent again every few seconds while it runs."""

    magic: Literal["dsm"]
    version: Literal[PROTOCOL_VERSION]  # type: ignore[valid-type]
    kind: Literal["R"]
    ts: Count  # when the monitor sent it (Unix ns, the monitor's clock)
    lease: Annotated[int, msgspec.Meta(ge=MIN_LEASE_MS, le=MAX_LEASE_MS)]  # ms it holds
    digest: Annotated[str, msgspec.Meta(max_length=DIGEST_LEN)]  # rules_digest(rules)
    rules: Annotated[list[Rule], msgspec.Meta(max_length=MAX_RULES)]


_rules_decoder = msgspec.msgpack.Decoder(Rules)


def control_endpoint_of(endpoint: str) -> str | None:
    """The control endpoint next to a data ``endpoint``: the next tcp port, or the ipc
    path / inproc name with ".control" appended; None when there is none (port 65535, a
    wildcard port, anything else)."""
    if endpoint.startswith("tcp://"):
        host, _, port = endpoint[len("tcp://"):].rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65535:
            return f"tcp://{host}:{int(port) + 1}"
        return None
    if endpoint.startswith(("ipc://", "inproc://")):
        return endpoint + ".control"
    return None


def canonical_rules(rules: Sequence[Rule]) -> list[Rule]:
    """``rules`` in the one order both ends digest them (by signal, sender, every)."""
    return sorted((Rule(*r) for r in rules),
                  key=lambda r: (r.signal or "", r.signal is None, r.sender or "",
                                 r.sender is None, r.every))


def rules_digest(rules: Sequence[Rule]) -> str:
    """A short digest of a rule set ("" for no rules): what heartbeats report."""
    if not rules:
        return ""
    import hashlib

    packed = _pack(canonical_rules(rules))
    return hashlib.blake2b(packed, digest_size=DIGEST_LEN // 2).hexdigest()


def encode_rules(ts: int, lease_ms: int, rules: Sequence[Rule]) -> bytes:
    """The control message carrying ``rules`` (canonical order, digest computed)."""
    ordered = canonical_rules(rules)
    return _pack(Rules(MAGIC, PROTOCOL_VERSION, KIND_RULES, ts, lease_ms,
                       rules_digest(ordered), ordered))


def decode_rules(data: Any) -> Rules:
    """Validate one untrusted control message; WireError says why it is refused.

    Beyond the types and bounds above: every rule names a signal or a sender, no two
    rules match the same (signal, sender), and the digest is the rules' own."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("control message must be bytes")
    if len(data) > MAX_CONTROL_BYTES:
        raise WireError("control message too large")
    try:
        message = _rules_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise WireError(f"not a control message of protocol {PROTOCOL_VERSION}: "
                        f"{exc}") from None
    except RecursionError:
        raise WireError("control message nested too deeply") from None
    keys = set()
    for rule in message.rules:
        if rule.signal is None and rule.sender is None:
            raise WireError("a rule must name a signal or a sender")
        keys.add((rule.signal, rule.sender))
    if len(keys) != len(message.rules):
        raise WireError("two rules for the same signal and sender")
    if message.digest != rules_digest(message.rules):
        raise WireError("control message digest does not match its rules")
    return message
