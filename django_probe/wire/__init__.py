"""The event wire format: the one definition shared by the probe, the monitor and the tests."""

from __future__ import annotations

# Imports neither Django, zmq nor Qt (an import-linter contract enforces it). Every message
# is one ZeroMQ frame holding a msgpack array. Each event type is defined once, as a
# NamedTuple whose annotations are the wire's rules (types, ranges, lengths); encoding,
# decoding and validation all derive from these classes through msgspec, in C. Field
# meanings are documented in docs/protocol.md, and a test keeps the two in step.
#
# Names are interned (protocol 2): a ``Ref`` is either a string or the id of one the same
# process instance defined earlier in a ``Strings`` event. ``strings.py`` holds both ends:
# the probe's ``Interner`` and the monitor's ``Vocabulary``.
#
# Never pickle: msgpack carries only plain data, and extension types are refused.
#
# The probe builds events on the application's threads as *exact* tuples in these field
# orders (CPython's GC untracks exact tuples of plain values, never tuple subclasses); they
# pack identically. ``typed()`` names and validates them.
#
# Callers import the package (``from django_probe import wire``, then ``wire.X``); the
# names below are its whole surface. Its modules, each importing only those before it:
#   base.py          constants, limits, field types (Str, Ref, Count...), WireError
#   events.py        the data channel's events (probe -> monitor), Event, Frame
#   codec.py         pack_event/frame_of/encode_frame; decode_frame/decode_event/version_error
#   readable.py      event_to_dict/event_from_dict (recordings, docs); typed() (plain tuples)
#   live_control.py  Rule/Rules, the control channel's message (monitor -> probes)
# msgspec's decoders are built once, when the package is imported.
from .base import (
    CALLBACK_OUTCOMES,
    DEFAULT_ENDPOINT,
    DIGEST_LEN,
    DISCARDED,
    KIND_COUNTS,
    KIND_DISPATCH,
    KIND_HEARTBEAT,
    KIND_HELLO,
    KIND_MUTED,
    KIND_ON_COMMIT,
    KIND_RULES,
    KIND_STRINGS,
    KIND_TOPOLOGY,
    MAGIC,
    MAX_CONTROL_BYTES,
    MAX_EVENTS_PER_FRAME,
    MAX_FRAME_BYTES,
    MAX_ITEMS,
    MAX_LEASE_MS,
    MAX_RULES,
    MAX_SAMPLE,
    MAX_STR,
    MAX_STRINGS,
    METHODS,
    MIN_LEASE_MS,
    OUTCOMES,
    PROTOCOL_VERSION,
    RAISED,
    RETURNED,
    SKIPPED,
    TRACEPARENT_PATTERN,
    CallbackOutcome,
    Count,
    Method,
    Outcome,
    Ref,
    Str,
    StringId,
    StrMap,
    Traceparent,
    WireError,
)
from .codec import (
    DispatchFrame,
    decode_event,
    decode_frame,
    decode_raw_event,
    dispatch_frame,
    encode_frame,
    frame_of,
    pack_event,
    version_error,
)
from .events import (
    EVENT_TYPES,
    CallSite,
    ConnectedReceiver,
    Counts,
    Dispatch,
    EmptyCount,
    Event,
    Frame,
    Heartbeat,
    Hello,
    Muted,
    MutedCount,
    Names,
    OnCommit,
    Proc,
    ReceiverCall,
    RequestInfo,
    SignalWiring,
    Strings,
    Topology,
    TxContext,
)
from .live_control import (
    Rule,
    Rules,
    canonical_rules,
    control_endpoint_of,
    decode_rules,
    encode_rules,
    rules_digest,
)
from .readable import (
    event_from_dict,
    event_to_dict,
    typed,
)

__all__ = [
    "CALLBACK_OUTCOMES",
    "DEFAULT_ENDPOINT",
    "DIGEST_LEN",
    "DISCARDED",
    "EVENT_TYPES",
    "KIND_COUNTS",
    "KIND_DISPATCH",
    "KIND_HEARTBEAT",
    "KIND_HELLO",
    "KIND_MUTED",
    "KIND_ON_COMMIT",
    "KIND_RULES",
    "KIND_STRINGS",
    "KIND_TOPOLOGY",
    "MAGIC",
    "MAX_CONTROL_BYTES",
    "MAX_EVENTS_PER_FRAME",
    "MAX_FRAME_BYTES",
    "MAX_ITEMS",
    "MAX_LEASE_MS",
    "MAX_RULES",
    "MAX_SAMPLE",
    "MAX_STR",
    "MAX_STRINGS",
    "METHODS",
    "MIN_LEASE_MS",
    "OUTCOMES",
    "PROTOCOL_VERSION",
    "RAISED",
    "RETURNED",
    "SKIPPED",
    "TRACEPARENT_PATTERN",
    "CallSite",
    "CallbackOutcome",
    "ConnectedReceiver",
    "Count",
    "Counts",
    "Dispatch",
    "DispatchFrame",
    "EmptyCount",
    "Event",
    "Frame",
    "Heartbeat",
    "Hello",
    "Method",
    "Muted",
    "MutedCount",
    "Names",
    "OnCommit",
    "Outcome",
    "Proc",
    "ReceiverCall",
    "Ref",
    "RequestInfo",
    "Rule",
    "Rules",
    "SignalWiring",
    "Str",
    "StrMap",
    "StringId",
    "Strings",
    "Topology",
    "Traceparent",
    "TxContext",
    "WireError",
    "canonical_rules",
    "control_endpoint_of",
    "decode_event",
    "decode_frame",
    "decode_raw_event",
    "decode_rules",
    "dispatch_frame",
    "encode_frame",
    "encode_rules",
    "event_from_dict",
    "event_to_dict",
    "frame_of",
    "pack_event",
    "rules_digest",
    "typed",
    "version_error",
]
