"""The live-control channel's message (monitor -> probes): the rule set, packed and checked."""

from __future__ import annotations

# The second channel, monitor -> probes (docs/live-control.md): one message, a Rules,
# is the monitor's whole rule set (state, not commands: applying it twice is applying it
# once). It never travels inside a frame.
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

from .base import (
    DIGEST_LEN,
    KIND_RULES,
    MAGIC,
    MAX_CONTROL_BYTES,
    MAX_LEASE_MS,
    MAX_RULES,
    MAX_SAMPLE,
    MIN_LEASE_MS,
    PROTOCOL_VERSION,
    Count,
    Str,
    WireError,
)
from .codec import pack_event


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

    packed = pack_event(canonical_rules(rules))
    return hashlib.blake2b(packed, digest_size=DIGEST_LEN // 2).hexdigest()


def encode_rules(ts: int, lease_ms: int, rules: Sequence[Rule]) -> bytes:
    """The control message carrying ``rules`` (canonical order, digest computed)."""
    ordered = canonical_rules(rules)
    return pack_event(Rules(MAGIC, PROTOCOL_VERSION, KIND_RULES, ts, lease_ms,
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
