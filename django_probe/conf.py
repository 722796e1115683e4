"""The probe's settings: one ``SIGNAL_PROBE`` dict merged over documented defaults.

Reading the configuration never raises: a value of the wrong type or range falls
back to its default (the system checks in ``django_probe.checks`` report it with
a stable id), so a typo in settings cannot take the application down.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django_probe import wire
from django_probe.conf_values import (
    curve_key_problem,
    endpoint_problem,
    is_loopback_endpoint,
    value_problem,
)

SETTING_NAME = "SIGNAL_PROBE"
ENV_ENDPOINT = "SIGNAL_PROBE_ENDPOINT"  # overrides SIGNAL_PROBE["ENDPOINT"] when non-empty
MODES = ("dispatch", "receivers")

DEFAULTS: dict[str, object] = {
    # Master switch: False installs nothing at all.
    "ENABLED": True,
    # Where the monitor's PULL socket is bound; probes connect. Loopback by default.
    "ENDPOINT": wire.DEFAULT_ENDPOINT,
    # "dispatch": full-fidelity hook on Signal's send methods; "receivers": public API only.
    "MODE": "dispatch",
    # Events waiting for the sender thread; beyond this they are dropped and counted.
    "QUEUE_SIZE": 10_000,
    # Most events packed into one ZeroMQ message.
    "BATCH_SIZE": 500,
    # Seconds the sender thread waits between flushes.
    "FLUSH_INTERVAL": 0.5,
    # Seconds between heartbeats (counters) and calls of the periodic producers.
    "HEARTBEAT_INTERVAL": 1.0,
    # Seconds between checks for changed signal wiring (topology snapshots).
    "TOPOLOGY_INTERVAL": 2.0,
    # False: dispatches with no receiver are aggregated into wire.Counts instead of streamed.
    "STREAM_EMPTY": False,
    # Dotted signal names that are never captured.
    "IGNORE_SIGNALS": (),
    # Extra regex of sensitive names, added to the built-in ones (never replaces them).
    "REDACT_PATTERN": None,
    # Extra regexes of secret URL path segments (each matched against a whole segment),
    # added to the built-in ones: password-reset tokens and long random strings.
    "REDACT_PATHS": (),
    # Longest summary of one value (kwargs, return values, exception messages).
    "VALUE_MAX_LENGTH": 120,
    # Most keyword arguments summarized per dispatch.
    "KWARGS_MAX_ITEMS": 16,
    # Milliseconds pending messages may delay socket close at exit (bounded: never hang).
    "LINGER_MS": 200,
    # ZeroMQ send high-water mark (messages) on the probe's socket.
    "SEND_HWM": 1000,
    # CurveZMQ: the monitor's public key and this probe's key pair (Z85, 40 characters).
    "CURVE_SERVER_KEY": None,
    "CURVE_PUBLIC_KEY": None,
    "CURVE_SECRET_KEY": None,
    # Live control (docs/live-control.md): accept the rules of the monitor this probe
    # streams to, on CONTROL_ENDPOINT (None: derived from ENDPOINT, the next tcp port or
    # the ipc/inproc name + ".control"). Off loopback only with the CURVE_* keys.
    "CONTROL": True,
    "CONTROL_ENDPOINT": None,
    # receivers mode only: also connect to pre/post_delete and m2m_changed (this
    # switches off Django's fast-delete path, so it is opt-in).
    "INCLUDE_DELETE_SIGNALS": False,
}

CURVE_KEYS = ("CURVE_SERVER_KEY", "CURVE_PUBLIC_KEY", "CURVE_SECRET_KEY")
def _usable(key: str, value: object) -> bool:
    """Whether the runtime may use ``value`` (otherwise the default is used)."""
    if key == "ENDPOINT":
        return endpoint_problem(value) is None
    if key == "MODE":
        return value in MODES
    if key in CURVE_KEYS:
        return value is None or curve_key_problem(value) is None
    return value_problem(key, value) is None


@dataclass(frozen=True)
class ProbeConfig:
    """The effective probe configuration: one attribute per ``DEFAULTS`` key, lower-cased."""

    enabled: bool = True
    endpoint: str = wire.DEFAULT_ENDPOINT
    mode: str = "dispatch"
    queue_size: int = 10_000
    batch_size: int = 500
    flush_interval: float = 0.5
    heartbeat_interval: float = 1.0
    topology_interval: float = 2.0
    stream_empty: bool = False
    ignore_signals: frozenset[str] = frozenset()
    redact_pattern: str | None = None
    redact_paths: tuple[str, ...] = ()
    value_max_length: int = 120
    kwargs_max_items: int = 16
    linger_ms: int = 200
    send_hwm: int = 1000
    curve_server_key: str | None = None
    curve_public_key: str | None = None
    curve_secret_key: str | None = None
    include_delete_signals: bool = False
    control: bool = True
    control_endpoint: str | None = None

    @property
    def control_target(self) -> str | None:
        """Where the control socket connects: CONTROL_ENDPOINT, else derived from ENDPOINT;
        None when control is off."""
        if not self.control:
            return None
        return self.control_endpoint or wire.control_endpoint_of(self.endpoint)

    @property
    def control_refusal(self) -> str | None:
        """Why live control stays off although it is asked for, or None."""
        target = self.control_target
        if not self.control:
            return None
        if target is None:
            return f"no control endpoint can be derived from {self.endpoint}"
        if not is_loopback_endpoint(target) and not self.curve_enabled:
            return (f"the control endpoint {target} is not on loopback and the CurveZMQ "
                    "keys are not set: unauthenticated control is refused")
        return None

    @property
    def curve_enabled(self) -> bool:
        """True when all three CurveZMQ keys are set (partial sets are ignored)."""
        return None not in (self.curve_server_key, self.curve_public_key, self.curve_secret_key)

    @classmethod
    def from_mapping(
        cls, overrides: object, environ: Mapping[str, str] | None = None
    ) -> ProbeConfig:
        """Merge ``overrides`` (a SIGNAL_PROBE-style dict) over DEFAULTS, then the env.

        Unknown keys and unusable values are ignored here; checks.py reports them.
        """
        merged = dict(DEFAULTS)
        if isinstance(overrides, Mapping):
            for key, value in overrides.items():
                if key in DEFAULTS and _usable(key, value):
                    merged[key] = value
        env = os.environ if environ is None else environ
        env_endpoint = env.get(ENV_ENDPOINT, "").strip()
        if env_endpoint and endpoint_problem(env_endpoint) is None:
            merged["ENDPOINT"] = env_endpoint
        merged["IGNORE_SIGNALS"] = frozenset(merged["IGNORE_SIGNALS"])  # type: ignore[arg-type]
        merged["REDACT_PATHS"] = tuple(merged["REDACT_PATHS"])  # type: ignore[arg-type]
        for key in CURVE_KEYS:
            if isinstance(merged[key], bytes):
                merged[key] = merged[key].decode("ascii")  # type: ignore[union-attr]
        if any(merged[key] is None for key in CURVE_KEYS):
            for key in CURVE_KEYS:  # all or nothing: a partial set must not half-configure
                merged[key] = None
        merged["FLUSH_INTERVAL"] = float(merged["FLUSH_INTERVAL"])  # type: ignore[arg-type]
        merged["HEARTBEAT_INTERVAL"] = float(merged["HEARTBEAT_INTERVAL"])  # type: ignore[arg-type]
        merged["TOPOLOGY_INTERVAL"] = float(merged["TOPOLOGY_INTERVAL"])  # type: ignore[arg-type]
        return cls(**{key.lower(): value for key, value in merged.items()})

    @classmethod
    def from_settings(cls) -> ProbeConfig:
        """Read ``settings.SIGNAL_PROBE`` (a missing setting means all defaults)."""
        from django.conf import settings  # lazy: the publisher uses this module without Django

        return cls.from_mapping(getattr(settings, SETTING_NAME, {}))

    def replace(self, **changes: Any) -> ProbeConfig:
        """A copy with some attributes changed (handy for tests and tools)."""
        return dataclasses.replace(self, **changes)


_cached: ProbeConfig | None = None


def get_config() -> ProbeConfig:
    """The effective configuration, read once and cached until ``reload()``."""
    global _cached
    config = _cached
    if config is None:
        # Two threads may both read settings here; both results are equal, so no lock.
        config = _cached = ProbeConfig.from_settings()
    return config


def reload() -> ProbeConfig:
    """Drop the cache and re-read settings (connected to ``setting_changed``)."""
    global _cached
    _cached = None
    return get_config()
