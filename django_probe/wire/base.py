"""The wire format's constants, limits and field types, and the error a bad message raises."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

PROTOCOL_VERSION = 4
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
KIND_ROLLBACK = "B"
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
