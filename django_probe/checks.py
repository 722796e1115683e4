"""Django system checks for ``SIGNAL_PROBE``: stable ids, a clear message and a hint each.

Registered at import under the ``signal_probe`` tag; ``apps.py`` imports this module in
``ready()``. Every check reads the raw setting (not the cached config, which silently
falls back to defaults for unusable values) so that what is wrong gets reported.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from django_probe.conf import (
    CURVE_KEYS,
    DEFAULTS,
    ENV_ENDPOINT,
    MODES,
    SETTING_NAME,
)
from django_probe.conf_values import (
    curve_key_problem,
    endpoint_problem,
    is_loopback_endpoint,
    value_problem,
)

TAG = "signal_probe"
_VALUE_KEYS = tuple(
    key for key in DEFAULTS if key not in ("ENDPOINT", "MODE", *CURVE_KEYS)
)


def _raw_setting() -> object:
    return getattr(settings, SETTING_NAME, {})


def _effective_endpoint(raw: Mapping[str, Any]) -> tuple[object, str]:
    """The endpoint the probe will use and where it comes from (for the message)."""
    env = os.environ.get(ENV_ENDPOINT, "").strip()
    if env:
        return env, f"the {ENV_ENDPOINT} environment variable"
    if "ENDPOINT" in raw:
        return raw["ENDPOINT"], f'{SETTING_NAME}["ENDPOINT"]'
    return DEFAULTS["ENDPOINT"], "the default endpoint"


def _check_endpoint(raw: Mapping[str, Any]) -> list[CheckMessage]:
    endpoint, source = _effective_endpoint(raw)
    problem = endpoint_problem(endpoint)
    if problem is not None:
        return [Error(
            f"{source} is not a valid ZeroMQ endpoint ({endpoint!r:.80}): {problem}.",
            hint="Use tcp://127.0.0.1:5599 (the default), tcp://host:port, ipc:///path "
                 "or inproc://name. Until then the probe ignores this value.",
            id="django_probe.E001",
        )]
    curve_complete = all(raw.get(key) is not None for key in CURVE_KEYS)
    if not is_loopback_endpoint(endpoint) and not curve_complete:  # type: ignore[arg-type]
        return [Warning(
            f"{source} ({endpoint!r:.80}) is not on loopback and no CurveZMQ keys are set: "
            "signal data (including summaries of request data) would travel unauthenticated "
            "and unencrypted.",
            hint=f"Use a loopback endpoint such as {DEFAULTS['ENDPOINT']}, or set "
                 + ", ".join(f'{SETTING_NAME}["{key}"]' for key in CURVE_KEYS)
                 + " (generate keys with zmq.curve_keypair()).",
            id="django_probe.W001",
        )]
    return []


def _check_control(raw: Mapping[str, Any]) -> list[CheckMessage]:
    from django_probe.conf import ProbeConfig  # the effective values: env, fallbacks

    config = ProbeConfig.from_mapping(raw)
    refusal = config.control_refusal
    if refusal is None:
        return []
    return [Warning(
        f"Live control is off: {refusal}.",
        hint="Set " + ", ".join(f'{SETTING_NAME}["{key}"]' for key in CURVE_KEYS)
             + f' (the monitor authenticates control with its key), set {SETTING_NAME}'
             '["CONTROL_ENDPOINT"], or turn it off with "CONTROL": False.',
        id="django_probe.W004",
    )]


def _check_mode(raw: Mapping[str, Any]) -> list[CheckMessage]:
    if "MODE" not in raw or raw["MODE"] in MODES:
        return []
    return [Error(
        f'{SETTING_NAME}["MODE"] is {raw["MODE"]!r:.40}; it must be one of {MODES}.',
        hint='Use "dispatch" (full detail, the default) or "receivers" (public API only, '
             "less detail; see the README for the trade-offs).",
        id="django_probe.E002",
    )]


def _check_values(raw: Mapping[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in _VALUE_KEYS:
        if key not in raw:
            continue
        problem = value_problem(key, raw[key])
        if problem is not None:
            messages.append(Error(
                f'{SETTING_NAME}["{key}"] {problem}.',
                hint=f"The default is {DEFAULTS[key]!r}; the probe uses it until this is fixed.",
                id="django_probe.E003",
            ))
    return messages


def _check_curve(raw: Mapping[str, Any]) -> list[CheckMessage]:
    given = [key for key in CURVE_KEYS if raw.get(key) is not None]
    if not given:
        return []
    messages: list[CheckMessage] = []
    missing = [key for key in CURVE_KEYS if key not in given]
    if missing:
        messages.append(Error(
            f"CurveZMQ keys are incomplete: {', '.join(missing)} missing "
            f"(set: {', '.join(given)}). CurveZMQ stays off until all three are set.",
            hint="Set CURVE_SERVER_KEY to the monitor's public key and CURVE_PUBLIC_KEY/"
                 "CURVE_SECRET_KEY to this probe's key pair (zmq.curve_keypair()).",
            id="django_probe.E004",
        ))
    for key in given:
        problem = curve_key_problem(raw[key])
        if problem is not None:
            messages.append(Error(
                f'{SETTING_NAME}["{key}"] is not a valid CurveZMQ key: it {problem}.',
                hint="Keys are 40-character Z85 strings as returned by zmq.curve_keypair().",
                id="django_probe.E004",
            ))
    return messages


def _check_unknown(raw: Mapping[str, Any]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for key in raw:
        if key in DEFAULTS:
            continue
        close = difflib.get_close_matches(str(key).upper(), list(DEFAULTS), n=3, cutoff=0.6)
        hint = (f"Did you mean {' or '.join(close)}?" if close
                else f"Known keys: {', '.join(sorted(DEFAULTS))}.")
        messages.append(Warning(
            f"Unknown key {key!r:.60} in {SETTING_NAME}; it is ignored.",
            hint=hint,
            id="django_probe.W002",
        ))
    return messages


@register(TAG)
def check_signal_probe(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """All ``django_probe.E00x``/``W00x`` checks of the SIGNAL_PROBE setting."""
    raw = _raw_setting()
    if not isinstance(raw, Mapping):
        return [Warning(
            f"{SETTING_NAME} must be a dict, not {type(raw).__name__}; the probe uses its "
            "defaults.",
            hint=f'Write for example {SETTING_NAME} = {{"ENDPOINT": "{DEFAULTS["ENDPOINT"]}"}}.',
            id="django_probe.W003",
        )]
    return [
        *_check_unknown(raw),
        *_check_endpoint(raw),
        *_check_mode(raw),
        *_check_values(raw),
        *_check_curve(raw),
        *_check_control(raw),
    ]
