"""monitor_gui.qt_libraries: missing Qt system libraries named, with the packages to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor_gui import cli, qt_libraries
from monitor_gui.qt_libraries import (
    PluginProblem,
    check,
    install_commands,
    missing_from_ldd,
    missing_from_qt_output,
    platform_name,
)

# ldd on PySide6 6.x's libqxcb.so on a plain Debian 12 with a desktop (abridged).
LDD_DEBIAN12 = """\
\tlinux-vdso.so.1 (0x00007ffc2d5f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f97)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f9765167000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f976515f000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f97649a2000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
"""

# What Qt prints with QT_DEBUG_PLUGINS=1 when dlopen() of the plugin fails.
QT_DEBUG_OUTPUT = """\
qt.core.library: "/venv/PySide6/Qt/plugins/platforms/libqxcb.so" cannot load: Cannot load \
library /venv/PySide6/Qt/plugins/platforms/libqxcb.so: libxcb-icccm.so.4: cannot open shared \
object file: No such file or directory
qt.core.library: "/venv/PySide6/Qt/plugins/imageformats/libqtiff.so" cannot load: \
libtiff.so.6: cannot open shared object file: No such file or directory
qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform \
plugin.
qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.
"""


def test_ldd_output_names_each_missing_library_once():
    assert missing_from_ldd(LDD_DEBIAN12) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_from_ldd("\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)\n") == []


def test_qt_debug_output_names_only_the_platform_plugins_library():
    assert missing_from_qt_output(QT_DEBUG_OUTPUT, "xcb") == ["libxcb-icccm.so.4"]
    assert missing_from_qt_output(QT_DEBUG_OUTPUT, "wayland") == []


def test_debian12_gets_the_exact_apt_and_dnf_packages():
    apt, dnf = install_commands(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert apt == "sudo apt-get install libxcb-icccm4 libxcb-keysyms1"
    assert dnf == "sudo dnf install xcb-util-wm xcb-util-keysyms"


def test_packages_shared_by_several_libraries_are_listed_once():
    apt, dnf = install_commands(["libxcb-randr.so.0", "libxcb-shm.so.0", "libxcb-icccm.so.4",
                                 "libxcb-ewmh.so.2"])
    assert apt == "sudo apt-get install libxcb-randr0 libxcb-shm0 libxcb-icccm4 libxcb-ewmh2"
    assert dnf == "sudo dnf install libxcb xcb-util-wm"


def test_an_unknown_library_is_looked_up_by_file():
    apt, dnf = install_commands(["libxcb-cursor.so.0", "libfoo.so.7"])
    assert apt == "sudo apt-get install libxcb-cursor0; apt-file search libfoo.so.7"
    assert dnf == "sudo dnf install xcb-util-cursor; dnf provides '*/libfoo.so.7'"


def test_every_prerequisite_has_both_packages_and_the_readme_lists_them():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    apt, dnf = install_commands(list(qt_libraries.XCB_PLUGIN_LIBRARIES))
    assert "apt-file" not in apt and "dnf provides" not in dnf
    assert apt in readme and dnf in readme


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, "xcb"),
    ({"DISPLAY": ":0"}, "xcb"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "xcb"),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "vnc"),
])
def test_platform_name(environ, expected):
    assert platform_name(environ) == expected


class FakeRun:
    """subprocess.run as the check uses it: the Qt probe fails, ldd lists missing libraries."""

    def __init__(self, probe_returncode: int, probe_stderr: str = "", ldd: str = "") -> None:
        self.probe = (probe_returncode, probe_stderr)
        self.ldd = ldd
        self.calls: list[list[str]] = []

    def __call__(self, command, **kwargs):
        self.calls.append(command)
        if command[0] == sys.executable:
            assert kwargs["env"]["QT_DEBUG_PLUGINS"] == "1"
            code, err = self.probe
            return subprocess.CompletedProcess(command, code, "", err)
        assert Path(command[0]).name == "ldd" and command[1].endswith("libqxcb.so")
        return subprocess.CompletedProcess(command, 0, self.ldd, "")


def test_check_passes_when_qt_starts(monkeypatch):
    run = FakeRun(0)
    assert check({"DISPLAY": ":0"}, "linux", run) is None
    assert len(run.calls) == 1  # no ldd when the plugin loads


def test_check_lists_missing_libraries_from_ldd_and_qt(monkeypatch):
    monkeypatch.setattr(qt_libraries.shutil, "which", lambda name: "/usr/bin/ldd")
    monkeypatch.setattr(qt_libraries, "plugin_path", lambda name: Path("/qt/libqxcb.so"))
    run = FakeRun(-6, QT_DEBUG_OUTPUT, LDD_DEBIAN12)
    problem = check({"DISPLAY": ":0"}, "linux", run)
    assert problem is not None
    assert problem.missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    message = problem.message()
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in message
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in message


def test_check_without_ldd_still_names_what_qt_could_not_open(monkeypatch):
    monkeypatch.setattr(qt_libraries.shutil, "which", lambda name: None)
    problem = check({"DISPLAY": ":0"}, "linux", FakeRun(-6, QT_DEBUG_OUTPUT))
    assert problem is not None and problem.missing == ["libxcb-icccm.so.4"]


def test_check_reports_other_failures_in_qts_words(monkeypatch):
    monkeypatch.setattr(qt_libraries.shutil, "which", lambda name: "/usr/bin/ldd")
    monkeypatch.setattr(qt_libraries, "plugin_path", lambda name: Path("/qt/libqxcb.so"))
    said = 'qt.qpa.xcb: could not connect to display :9\nqt.core.plugin.factoryloader: noise\n'
    problem = check({"DISPLAY": ":9"}, "linux", FakeRun(-6, said, ""))
    assert problem is not None and problem.missing == []
    assert "could not connect to display :9" in problem.message()
    assert "factoryloader" not in problem.message()


@pytest.mark.parametrize(("environ", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"DISPLAY": ":0"}, "darwin"),
    ({}, "win32"),
])
def test_check_is_skipped_where_nothing_can_be_missing(environ, platform):
    def run(*args, **kwargs):
        raise AssertionError("no subprocess expected")

    assert check(environ, platform, run) is None


def test_check_runs_the_real_probe_in_a_subprocess():
    # The real thing, harmlessly: the offscreen plugin needs no system libraries.
    assert check({"QT_QPA_PLATFORM": "offscreen;xcb"}, "linux") is None
    assert check({"QT_QPA_PLATFORM": "nosuchplatform"}, "linux") is not None


def test_gui_command_prints_the_packages_and_fails(monkeypatch, capsys):
    problem = PluginProblem("xcb", ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], "")
    monkeypatch.setattr(qt_libraries, "check", lambda: problem)
    monkeypatch.setenv("DISPLAY", ":0")
    assert cli.main(["gui"]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in err
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")
def test_signal_monitor_with_an_unusable_display_explains_instead_of_crashing(tmp_path):
    # A display nobody serves: the plugin fails either way (missing libraries, or no X
    # server), and the command must say why and exit 1 instead of Qt's abort().
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM",
                                                            "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":97"
    result = subprocess.run([sys.executable, "-m", "monitor_gui", "--listen", ""], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("signal-monitor: ") and "Traceback" not in result.stderr
    plugin = qt_libraries.plugin_path("xcb")
    missing = qt_libraries.ldd_missing(plugin) if plugin is not None else []
    if missing:  # e.g. this very machine: plain Debian 12
        apt, dnf = install_commands(missing)
        assert apt in result.stderr and dnf in result.stderr
    else:
        assert "could not connect to display" in result.stderr
