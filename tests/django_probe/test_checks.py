"""Every django_probe system check fires for a bad setting and stays quiet for a good one."""

from __future__ import annotations

from unittest import mock

import django.conf
import pytest
import zmq
from django.core.checks import run_checks
from django.test import override_settings

import django_probe.checks  # noqa: F401  (registers the checks, as apps.py does)
from django_probe import conf
from django_probe.checks import TAG

OFF = {"ENABLED": False}  # the probe stays off while settings change under the tests


@pytest.fixture(autouse=True)
def no_env_endpoint(monkeypatch):
    monkeypatch.delenv(conf.ENV_ENDPOINT, raising=False)


def probe_messages(setting) -> list:
    if isinstance(setting, dict) and setting.get("ENABLED") is False:
        change = override_settings(SIGNAL_PROBE=setting)
    else:
        # Anything that would leave the probe enabled is patched in without firing
        # setting_changed, which would start a real probe under the test.
        change = mock.patch.object(django.conf.settings, "SIGNAL_PROBE", setting)
    with change:
        return [m for m in run_checks(tags=[TAG]) if m.id.startswith("django_probe.")]


def ids(setting) -> list[str]:
    return [m.id for m in probe_messages(setting)]


def keys() -> dict[str, str]:
    server_public, _ = zmq.curve_keypair()
    public, secret = zmq.curve_keypair()
    return {"CURVE_SERVER_KEY": server_public.decode(), "CURVE_PUBLIC_KEY": public.decode(),
            "CURVE_SECRET_KEY": secret.decode()}


GOOD = [
    {**OFF},
    {**OFF, "ENDPOINT": "tcp://127.0.0.1:7000", "MODE": "receivers", "QUEUE_SIZE": 10,
     "BATCH_SIZE": 100, "FLUSH_INTERVAL": 0.01, "HEARTBEAT_INTERVAL": 2, "STREAM_EMPTY": True,
     "IGNORE_SIGNALS": ["django.db.models.signals.pre_init"], "REDACT_PATTERN": "iban|ssn",
     "VALUE_MAX_LENGTH": 200, "KWARGS_MAX_ITEMS": 0, "LINGER_MS": 0, "SEND_HWM": 10,
     "INCLUDE_DELETE_SIGNALS": True},
    {**OFF, "ENDPOINT": "ipc:///tmp/monitor.sock"},
    {**OFF, "ENDPOINT": "tcp://10.1.2.3:5599", **keys()},  # remote but authenticated
]


@pytest.mark.parametrize("setting", GOOD)
def test_good_settings_raise_nothing(setting):
    assert probe_messages(setting) == []


def test_defaults_raise_nothing(monkeypatch):
    # Not override_settings: a missing setting means ENABLED, and setting_changed would
    # start a real probe. Patching the settings object fires no signal.
    monkeypatch.delattr(django.conf.settings, "SIGNAL_PROBE")
    assert [m for m in run_checks(tags=[TAG]) if m.id.startswith("django_probe.")] == []


@pytest.mark.parametrize("endpoint", ["127.0.0.1:5599", "tcp://127.0.0.1", "udp://x:1", 5599])
def test_e001_bad_endpoint(endpoint):
    messages = probe_messages({**OFF, "ENDPOINT": endpoint})
    assert [m.id for m in messages] == ["django_probe.E001"]
    assert messages[0].hint and "tcp://127.0.0.1:5599" in messages[0].hint


def test_e001_reports_the_env_endpoint(monkeypatch):
    monkeypatch.setenv(conf.ENV_ENDPOINT, "tcp://nowhere")
    messages = probe_messages({**OFF})
    assert [m.id for m in messages] == ["django_probe.E001"]
    assert conf.ENV_ENDPOINT in messages[0].msg


def test_e002_bad_mode():
    messages = probe_messages({**OFF, "MODE": "everything"})
    assert [m.id for m in messages] == ["django_probe.E002"]
    assert "dispatch" in messages[0].hint


@pytest.mark.parametrize("key,bad", [
    ("ENABLED", "yes"), ("QUEUE_SIZE", 0), ("QUEUE_SIZE", "100"), ("BATCH_SIZE", 10**6),
    ("BATCH_SIZE", True), ("FLUSH_INTERVAL", 0), ("HEARTBEAT_INTERVAL", "1"),
    ("TOPOLOGY_INTERVAL", -2.0), ("STREAM_EMPTY", 1), ("IGNORE_SIGNALS", "a.b"),
    ("IGNORE_SIGNALS", [1, 2]), ("REDACT_PATTERN", "(unclosed"), ("VALUE_MAX_LENGTH", 10**9),
    ("KWARGS_MAX_ITEMS", -1), ("LINGER_MS", -1), ("SEND_HWM", 0.5),
    ("INCLUDE_DELETE_SIGNALS", None),
])
def test_e003_wrong_type_or_range(key, bad):
    messages = probe_messages({**OFF, key: bad})
    assert [m.id for m in messages] == ["django_probe.E003"]
    assert key in messages[0].msg
    assert repr(conf.DEFAULTS[key]) in messages[0].hint


def test_e004_incomplete_curve_keys():
    partial = {k: v for k, v in keys().items() if k != "CURVE_SECRET_KEY"}
    messages = probe_messages({**OFF, **partial})
    assert [m.id for m in messages] == ["django_probe.E004"]
    assert "CURVE_SECRET_KEY" in messages[0].msg


@pytest.mark.parametrize("bad", ["x" * 39, " " * 40, 12345])
def test_e004_invalid_curve_key(bad):
    messages = probe_messages({**OFF, **keys(), "CURVE_PUBLIC_KEY": bad})
    assert [m.id for m in messages] == ["django_probe.E004"]
    assert "CURVE_PUBLIC_KEY" in messages[0].msg


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5599", "tcp://10.0.0.5:5599",
                                      "tcp://monitor.example.com:5599"])
def test_w001_remote_endpoint_without_curve(endpoint):
    messages = probe_messages({**OFF, "ENDPOINT": endpoint})
    # ...and live control, which would listen to that host, is refused (W004).
    assert [m.id for m in messages] == ["django_probe.W001", "django_probe.W004"]
    assert "CURVE_SERVER_KEY" in messages[0].hint and "127.0.0.1" in messages[0].hint


def test_w004_remote_control_endpoint_without_curve():
    messages = probe_messages({**OFF, "CONTROL_ENDPOINT": "tcp://10.0.0.5:5600"})
    assert [m.id for m in messages] == ["django_probe.W004"]
    assert "refused" in messages[0].msg and "CURVE_SERVER_KEY" in messages[0].hint
    assert probe_messages({**OFF, "CONTROL_ENDPOINT": "tcp://10.0.0.5:5600",
                           **keys()}) == []
    assert probe_messages({**OFF, "ENDPOINT": "tcp://10.0.0.5:5599", "CONTROL": False,
                           **keys()}) == []


def test_e003_bad_control_endpoint():
    messages = probe_messages({**OFF, "CONTROL_ENDPOINT": "udp://x"})
    assert "django_probe.E003" in [m.id for m in messages]


def test_w002_unknown_key_with_close_match():
    messages = probe_messages({**OFF, "QUEUE_SZIE": 10})
    assert [m.id for m in messages] == ["django_probe.W002"]
    assert "QUEUE_SZIE" in messages[0].msg
    assert "QUEUE_SIZE" in messages[0].hint


def test_w002_unknown_key_without_close_match_lists_known_keys():
    messages = probe_messages({**OFF, "COMPLETELY_DIFFERENT": 1})
    assert [m.id for m in messages] == ["django_probe.W002"]
    assert "ENDPOINT" in messages[0].hint


@pytest.mark.parametrize("not_a_dict", [["ENABLED", False], "tcp://127.0.0.1:5599", None])
def test_w003_not_a_dict(not_a_dict):
    messages = probe_messages(not_a_dict)
    assert [m.id for m in messages] == ["django_probe.W003"]
    assert messages[0].hint


def test_every_message_has_a_hint_and_a_stable_id():
    bad = {"ENDPOINT": "nope", "MODE": "x", "QUEUE_SIZE": -1, "CURVE_SERVER_KEY": "k",
           "TYPO": 1, "ENABLED": False}
    messages = probe_messages(bad)
    assert sorted(m.id for m in messages) == [
        "django_probe.E001", "django_probe.E002", "django_probe.E003", "django_probe.E004",
        "django_probe.E004", "django_probe.W002",
    ]
    assert all(m.hint for m in messages)
