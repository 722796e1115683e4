"""The CLI's entry: gui as the default command, option placement, keys, python -m monitor_gui."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from django_probe import wire
from monitor_gui import cli

ROOT = Path(__file__).resolve().parents[2]


def test_gui_is_the_default_and_gets_its_options(monkeypatch):
    calls = []
    fake = types.ModuleType("monitor_gui.qt.app")
    fake.run_gui = lambda listen, open_file, curve, control, control_endpoint: calls.append(
        (listen, open_file, curve, control, control_endpoint)) or 3
    monkeypatch.setitem(sys.modules, "monitor_gui.qt.app", fake)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.main([]) == 3
    assert cli.main(["gui", "--listen", "tcp://127.0.0.1:7000", "--open", "r.jsonl"]) == 3
    assert cli.main(["gui", "--no-control"]) == 3
    assert cli.main(["--control-listen", "ipc:///tmp/x"]) == 3
    assert calls == [(wire.DEFAULT_ENDPOINT, None, None, True, None),
                     ("tcp://127.0.0.1:7000", "r.jsonl", None, True, None),
                     (wire.DEFAULT_ENDPOINT, None, None, False, None),
                     (wire.DEFAULT_ENDPOINT, None, None, True, "ipc:///tmp/x")]
    assert cli.main(["--curve-clients", "x"]) == 2  # needs --curve-secret


def test_gui_explains_missing_display_or_pyside(monkeypatch, capsys):
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli.main(["gui"]) == 1
    assert "signal-monitor record" in capsys.readouterr().err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setitem(sys.modules, "monitor_gui.qt.app", None)  # import fails
    assert cli.main(["gui"]) == 1
    err = capsys.readouterr().err
    assert "PySide6" in err and "signal-monitor record" in err


def test_keys_writes_certificates(tmp_path, capsys):
    assert cli.main(["keys", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "k" / "server.key_secret").is_file()
    assert (tmp_path / "k" / "clients" / "client.key").is_file()
    assert '"CURVE_SERVER_KEY": "' in out


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "monitor_gui", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0 and "record" in result.stdout and "replay" in result.stdout


@pytest.mark.parametrize("argv, listen", [
    (["record", "--out", "x.jsonl"], wire.DEFAULT_ENDPOINT),
    (["--listen", "tcp://127.0.0.1:7001", "record", "--out", "x.jsonl"], "tcp://127.0.0.1:7001"),
    (["record", "--listen", "tcp://127.0.0.1:7002", "--out", "x.jsonl"], "tcp://127.0.0.1:7002"),
    (["--listen", "tcp://127.0.0.1:7001", "record", "--listen", "tcp://127.0.0.1:7002",
      "--out", "x.jsonl"], "tcp://127.0.0.1:7002"),
    (["--listen", "tcp://127.0.0.1:7003", "gui"], "tcp://127.0.0.1:7003"),
    (["gui", "--listen", "tcp://127.0.0.1:7004"], "tcp://127.0.0.1:7004"),
    ([], wire.DEFAULT_ENDPOINT),
])
def test_listen_given_before_or_after_the_command_is_the_one_used(argv, listen):
    args = cli._parser().parse_args(argv)
    assert args.listen == listen
    assert args.curve_secret is None and args.curve_clients is None


def test_curve_options_given_before_the_command_are_kept(tmp_path):
    args = cli._parser().parse_args(["--curve-secret", str(tmp_path / "s"), "record",
                                     "--out", "x.jsonl"])
    assert args.curve_secret == tmp_path / "s"


def test_keys_refuses_a_directory_of_another_user(tmp_path, capsys):
    d = tmp_path / "theirs"
    d.mkdir()
    if os.geteuid() == 0:
        os.chown(d, 65534, 65534)
    else:
        d = Path("/")
    assert cli.main(["keys", str(d)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert f"cannot create keys in {d}" in err and "belongs to another user" in err
    assert not (d / "server.key_secret").exists()
