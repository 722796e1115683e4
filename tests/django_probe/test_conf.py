"""SIGNAL_PROBE merged over DEFAULTS, the env override, fallbacks and the cache."""

from __future__ import annotations

import dataclasses

import django.conf
import pytest
import zmq
from django.test import override_settings

from django_probe import conf, conf_values, wire
from django_probe.conf import DEFAULTS, ProbeConfig

# Tests keep the probe disabled so that changing settings never starts a real probe.
OFF = {"ENABLED": False}


def test_every_default_has_an_attribute_with_the_same_value():
    fields = {f.name: f.default for f in dataclasses.fields(ProbeConfig)}
    assert set(fields) == {key.lower() for key in DEFAULTS}
    config = ProbeConfig.from_mapping({}, environ={})
    for key, default in DEFAULTS.items():
        value = getattr(config, key.lower())
        expected = frozenset(default) if key == "IGNORE_SIGNALS" else default
        assert value == expected, key
        assert fields[key.lower()] == expected, key  # ProbeConfig() agrees with DEFAULTS
    assert ProbeConfig() == config


def test_documented_defaults():
    config = ProbeConfig.from_mapping({}, environ={})
    assert config.enabled is True
    assert config.endpoint == wire.DEFAULT_ENDPOINT == "tcp://127.0.0.1:5599"
    assert config.mode == "dispatch"
    assert (config.queue_size, config.batch_size) == (10_000, 500)
    assert (config.flush_interval, config.heartbeat_interval) == (0.5, 1.0)
    assert config.stream_empty is False and config.include_delete_signals is False
    assert config.curve_enabled is False


def test_settings_are_merged_over_defaults():
    overrides = {"MODE": "receivers", "QUEUE_SIZE": 5, "IGNORE_SIGNALS": ["a.b", "c.d"],
                 "FLUSH_INTERVAL": 1, "REDACT_PATTERN": "ssn|iban", "NOT_A_KEY": 1}
    config = ProbeConfig.from_mapping(overrides, environ={})
    assert config.mode == "receivers"
    assert config.queue_size == 5
    assert config.ignore_signals == frozenset({"a.b", "c.d"})
    assert config.flush_interval == 1.0 and type(config.flush_interval) is float
    assert config.redact_pattern == "ssn|iban"
    assert config.batch_size == DEFAULTS["BATCH_SIZE"]  # untouched keys keep defaults
    assert not hasattr(config, "not_a_key")


@pytest.mark.parametrize("key,bad", [
    ("ENDPOINT", "http://127.0.0.1:80"), ("MODE", "everything"), ("QUEUE_SIZE", "100"),
    ("QUEUE_SIZE", 0), ("BATCH_SIZE", True), ("FLUSH_INTERVAL", -1), ("ENABLED", "yes"),
    ("IGNORE_SIGNALS", "a.b"), ("REDACT_PATTERN", "("), ("LINGER_MS", -1),
    ("CURVE_SERVER_KEY", "short"),
])
def test_unusable_values_fall_back_to_the_default(key, bad):
    config = ProbeConfig.from_mapping({key: bad}, environ={})
    assert config == ProbeConfig.from_mapping({}, environ={})


@pytest.mark.parametrize("not_a_dict", [None, "tcp://127.0.0.1:1", ["ENABLED"]])
def test_a_setting_that_is_not_a_dict_means_defaults(not_a_dict):
    assert ProbeConfig.from_mapping(not_a_dict, environ={}) == ProbeConfig()


def test_env_overrides_the_settings_endpoint():
    env = {conf.ENV_ENDPOINT: "tcp://127.0.0.1:6001"}
    config = ProbeConfig.from_mapping({"ENDPOINT": "tcp://127.0.0.1:6000"}, environ=env)
    assert config.endpoint == "tcp://127.0.0.1:6001"
    # Empty or unusable env values do not override.
    for value in ("", "   ", "not an endpoint"):
        config = ProbeConfig.from_mapping({"ENDPOINT": "ipc:///tmp/x"},
                                          environ={conf.ENV_ENDPOINT: value})
        assert config.endpoint == "ipc:///tmp/x"


def test_curve_keys_all_or_nothing_and_bytes_accepted():
    server, _ = zmq.curve_keypair()
    public, secret = zmq.curve_keypair()
    full = ProbeConfig.from_mapping({"CURVE_SERVER_KEY": server, "CURVE_PUBLIC_KEY": public,
                                     "CURVE_SECRET_KEY": secret}, environ={})
    assert full.curve_enabled
    assert full.curve_server_key == server.decode()  # normalized to str
    partial = ProbeConfig.from_mapping({"CURVE_SERVER_KEY": server.decode()}, environ={})
    assert not partial.curve_enabled and partial.curve_server_key is None


def test_from_settings_reads_signal_probe_and_env(monkeypatch):
    monkeypatch.delenv(conf.ENV_ENDPOINT, raising=False)
    with override_settings(SIGNAL_PROBE={**OFF, "BATCH_SIZE": 7}):
        assert ProbeConfig.from_settings().batch_size == 7
        monkeypatch.setenv(conf.ENV_ENDPOINT, "tcp://127.0.0.1:6123")
        assert ProbeConfig.from_settings().endpoint == "tcp://127.0.0.1:6123"


def test_missing_setting_means_defaults(monkeypatch):
    monkeypatch.delenv(conf.ENV_ENDPOINT, raising=False)
    # Not override_settings: defaults mean ENABLED, and setting_changed would start a probe.
    monkeypatch.delattr(django.conf.settings, "SIGNAL_PROBE")
    assert ProbeConfig.from_settings() == ProbeConfig()


def test_get_config_is_cached_until_reload(monkeypatch):
    monkeypatch.delenv(conf.ENV_ENDPOINT, raising=False)
    with override_settings(SIGNAL_PROBE={**OFF, "QUEUE_SIZE": 11}):
        conf.reload()
        first = conf.get_config()
        assert first.queue_size == 11
        assert conf.get_config() is first
        monkeypatch.setenv(conf.ENV_ENDPOINT, "tcp://127.0.0.1:6222")
        assert conf.get_config() is first  # the cache does not re-read
        reloaded = conf.reload()
        assert reloaded.endpoint == "tcp://127.0.0.1:6222"
        assert conf.get_config() is reloaded
    monkeypatch.delenv(conf.ENV_ENDPOINT)
    conf.reload()


@pytest.mark.parametrize("endpoint,problem", [
    ("tcp://127.0.0.1:5599", False), ("tcp://[::1]:5599", False), ("tcp://monitor.lan:1", False),
    ("ipc:///tmp/monitor.sock", False), ("inproc://monitor", False),
    ("tcp://127.0.0.1", True), ("tcp://127.0.0.1:0", True), ("tcp://127.0.0.1:70000", True),
    ("tcp://*:5599", True), ("ipc://", True), ("udp://127.0.0.1:1", True), ("", True), (5599, True),
])
def test_endpoint_problem(endpoint, problem):
    assert (conf_values.endpoint_problem(endpoint) is not None) is problem


@pytest.mark.parametrize("endpoint,loopback", [
    ("tcp://127.0.0.1:1", True), ("tcp://127.8.9.1:1", True), ("tcp://localhost:1", True),
    ("tcp://[::1]:1", True), ("ipc:///tmp/x", True), ("inproc://x", True),
    ("tcp://0.0.0.0:1", False), ("tcp://10.0.0.5:1", False), ("tcp://monitor.lan:1", False),
    ("tcp://[2001:db8::1]:1", False),
])
def test_is_loopback_endpoint(endpoint, loopback):
    assert conf_values.is_loopback_endpoint(endpoint) is loopback


def test_curve_key_problem():
    public, secret = zmq.curve_keypair()
    assert conf_values.curve_key_problem(public) is None
    assert conf_values.curve_key_problem(secret.decode()) is None
    assert conf_values.curve_key_problem("x" * 39) is not None
    assert conf_values.curve_key_problem(" " * 40) is not None  # outside the Z85 alphabet
    assert conf_values.curve_key_problem(42) is not None
