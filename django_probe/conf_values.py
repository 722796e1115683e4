"""Whether a ``SIGNAL_PROBE`` value is usable: the type, range and format checks that
the configuration reader (``conf``) and the system checks (``checks``) share. Each
returns why a value is wrong, or None; none raises.
"""

from __future__ import annotations

import ipaddress
import re

from django_probe import wire

Z85_ALPHABET = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)

# (low, high) inclusive bounds of the numeric settings; None means unbounded.
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "QUEUE_SIZE": (1, None),
    # Leaves room for a Hello in the same frame under wire.MAX_EVENTS_PER_FRAME.
    "BATCH_SIZE": (1, wire.MAX_EVENTS_PER_FRAME // 2),
    "VALUE_MAX_LENGTH": (8, wire.MAX_STR),
    "KWARGS_MAX_ITEMS": (0, wire.MAX_ITEMS),
    # -1 (wait forever) is refused on purpose: the app must never hang at exit.
    "LINGER_MS": (0, 60_000),
    "SEND_HWM": (1, None),
}
_FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "FLUSH_INTERVAL": (0.001, 60.0),
    "HEARTBEAT_INTERVAL": (0.01, 3600.0),
    "TOPOLOGY_INTERVAL": (0.01, 3600.0),
}
_BOOLS = ("ENABLED", "STREAM_EMPTY", "INCLUDE_DELETE_SIGNALS", "CONTROL")

_TCP = re.compile(r"^tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


def endpoint_problem(endpoint: object) -> str | None:
    """Why ``endpoint`` is not a connectable ZeroMQ endpoint, or None if it is."""
    if not isinstance(endpoint, str):
        return f"must be a string, not {type(endpoint).__name__}"
    if endpoint.startswith("tcp://"):
        match = _TCP.match(endpoint)
        if match is None:
            return "a tcp endpoint must look like tcp://host:port"
        if not 1 <= int(match["port"]) <= 65535:
            return "the tcp port must be between 1 and 65535"
        return None
    for scheme in ("ipc://", "inproc://"):
        if endpoint.startswith(scheme):
            return None if len(endpoint) > len(scheme) else f"{scheme} needs a name"
    return "the scheme must be tcp://, ipc:// or inproc://"


def is_loopback_endpoint(endpoint: str) -> bool:
    """True unless ``endpoint`` is tcp to a host that may be off this machine."""
    match = _TCP.match(endpoint)
    if not endpoint.startswith("tcp://"):
        return True  # ipc:// and inproc:// never leave the machine
    if match is None:
        return False
    host = match["host"].strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere


def curve_key_problem(key: object) -> str | None:
    """Why ``key`` is not a Z85-encoded 32-byte CurveZMQ key, or None if it is."""
    if isinstance(key, bytes):
        try:
            key = key.decode("ascii")
        except UnicodeDecodeError:
            return "is not ASCII"
    if not isinstance(key, str):
        return f"must be a string, not {type(key).__name__}"
    if len(key) != 40:
        return f"must be 40 characters long (Z85), not {len(key)}"
    if not set(key) <= Z85_ALPHABET:
        return "contains characters outside the Z85 alphabet"
    return None


def value_problem(key: str, value: object) -> str | None:
    """Why ``value`` has the wrong type or range for ``key`` (bools, numbers, lists)."""
    if key in _BOOLS:
        return None if type(value) is bool else f"must be True or False, not {value!r:.40}"
    if key in _INT_RANGES:
        low, high = _INT_RANGES[key]
        if type(value) is not int:  # bool is an int subclass: refused by the exact check
            return f"must be an integer, not {type(value).__name__}"
        if value < low or (high is not None and value > high):
            return f"must be between {low} and {high}" if high is not None else f"must be >= {low}"
        return None
    if key in _FLOAT_RANGES:
        low_f, high_f = _FLOAT_RANGES[key]
        if type(value) not in (int, float):
            return f"must be a number of seconds, not {type(value).__name__}"
        if not low_f <= value <= high_f:
            return f"must be between {low_f} and {high_f} seconds"
        return None
    if key == "IGNORE_SIGNALS":
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            return "must be a list or tuple of dotted signal names"
        if not all(isinstance(name, str) for name in value):
            return "must contain only strings (dotted signal names)"
        return None
    if key == "REDACT_PATHS":
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            return "must be a list or tuple of regular expression strings"
        for pattern in value:
            if not isinstance(pattern, str):
                return f"must contain only strings, not {type(pattern).__name__}"
            problem = _regex_problem(pattern)
            if problem:
                return f"{pattern!r} {problem}"
        return None
    if key == "CONTROL_ENDPOINT":
        return None if value is None else endpoint_problem(value)
    if key == "REDACT_PATTERN":
        if value is None:
            return None
        if not isinstance(value, str):
            return f"must be a regular expression string or None, not {type(value).__name__}"
        return _regex_problem(value)
    return None


def _regex_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None
