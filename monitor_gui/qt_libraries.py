"""Before the window opens: can Qt load its platform plugin here? If not, which packages to install.

On Linux, PySide6's wheel brings Qt but not the X11/xcb system libraries its ``xcb``
plugin links against. Without them Qt aborts the process with "xcb-cursor0 is needed"
whatever is actually missing (on plain Debian 12: ``libxcb-icccm4``, ``libxcb-keysyms1``).
So the plugin is first loaded in a throwaway process (an abort there harms nobody); on
failure ``ldd`` names the missing ``.so`` files and they are mapped to apt and dnf packages.
This module imports no Qt: it must work exactly when Qt cannot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora/RHEL package). What Qt 6's xcb and wayland
# plugins (and Qt's own libraries) link against from the system.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-ewmh.so.2": ("libxcb-ewmh2", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
}

# What the README lists as prerequisites (the xcb plugin's libraries plain distros lack).
XCB_PLUGIN_LIBRARIES = (
    "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-image.so.0",
    "libxcb-render-util.so.0", "libxcb-xkb.so.1", "libxkbcommon-x11.so.0",
)

PROBE_TIMEOUT_S = 60.0  # importing Qt on a cold, busy machine can take seconds
_NOT_FOUND = re.compile(r"^\s*(\S+\.so[\w.]*)\s*=>\s*not found", re.MULTILINE)
_CANNOT_OPEN = re.compile(r"(\S+\.so[\w.]*): cannot open shared object file")
_PROBE = "from PySide6.QtWidgets import QApplication; QApplication([])"


@dataclass
class PluginProblem:
    """Why the platform plugin cannot load: the missing libraries, and Qt's own words."""

    platform: str
    missing: list[str] = field(default_factory=list)
    qt_output: str = ""

    def message(self) -> str:
        """What to tell the user: the packages to install (apt and dnf), or Qt's output."""
        if not self.missing:
            shown = "\n".join(self.qt_output.strip().splitlines()[-6:])
            return (f"Qt cannot open a window here (platform plugin '{self.platform}' failed "
                    f"to load). Qt said:\n{shown}")
        apt, dnf = install_commands(self.missing)
        return (f"Qt's '{self.platform}' platform plugin cannot load: these system libraries "
                f"are missing: {', '.join(self.missing)}.\n"
                "Install them, then try again:\n"
                f"  Debian/Ubuntu:  {apt}\n"
                f"  Fedora/RHEL:    {dnf}\n"
                "(Qt's own message, 'xcb-cursor0 is needed', names only one of them.) "
                "Without a desktop: signal-monitor record --out events.jsonl")


def install_commands(missing: list[str]) -> tuple[str, str]:
    """``sudo apt-get install ...`` and ``sudo dnf install ...`` for the missing sonames.

    An unknown library is looked up by file (``apt-file`` / ``dnf provides``) instead.
    """
    apt: list[str] = []
    dnf: list[str] = []
    unknown: list[str] = []
    for soname in missing:
        if soname in PACKAGES:
            for names, package in ((apt, PACKAGES[soname][0]), (dnf, PACKAGES[soname][1])):
                if package not in names:
                    names.append(package)
        else:
            unknown.append(soname)
    apt_cmd = f"sudo apt-get install {' '.join(apt)}" if apt else ""
    dnf_cmd = f"sudo dnf install {' '.join(dnf)}" if dnf else ""
    for soname in unknown:
        apt_cmd += ("; " if apt_cmd else "") + f"apt-file search {soname}"
        dnf_cmd += ("; " if dnf_cmd else "") + f"dnf provides '*/{soname}'"
    return apt_cmd, dnf_cmd


def missing_from_ldd(output: str) -> list[str]:
    """The ``not found`` libraries of an ``ldd`` listing, in order, each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def missing_from_qt_output(output: str, platform: str) -> list[str]:
    """The libraries named by dlopen() errors of the ``platform`` plugin in Qt's plugin
    debug output, each once (other plugins' failures, say an image format, are not ours)."""
    lines = [line for line in output.splitlines() if f"platforms/libq{platform}" in line]
    return list(dict.fromkeys(Path(name).name for line in lines
                              for name in _CANNOT_OPEN.findall(line)))


def platform_name(environ: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM's, else wayland or xcb."""
    wanted = environ.get("QT_QPA_PLATFORM", "")
    if wanted:
        return re.split(r"[;:]", wanted)[0]
    if environ.get("WAYLAND_DISPLAY") and not environ.get("DISPLAY"):
        return "wayland"
    return "xcb"


def plugin_path(platform: str) -> Path | None:
    """PySide6's ``libq<platform>.so`` (found without importing Qt), None if absent."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"
    for name in (f"libq{platform}.so", f"libq{platform}-generic.so"):
        if (folder / name).is_file():
            return folder / name
    return None


def ldd_missing(plugin: Path, run: Callable[..., subprocess.CompletedProcess] = subprocess.run
                ) -> list[str]:
    """The plugin's missing libraries according to ``ldd`` ([] without ldd, or on error)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        result = run([ldd, str(plugin)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_from_ldd(result.stdout + result.stderr)


def check(environ: Mapping[str, str] | None = None, platform: str = sys.platform,
          run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
          python: str = sys.executable) -> PluginProblem | None:
    """None if Qt can create its application here; else what is wrong (Linux only).

    Runs the same ``QApplication([])`` as the window, with the same environment, in a
    subprocess; only if that fails is the plugin inspected (so a working setup pays one
    short subprocess and nothing more).
    """
    environ = os.environ if environ is None else environ
    name = platform_name(environ)
    if not platform.startswith("linux") or name in ("offscreen", "minimal"):
        return None
    env = {**environ, "QT_DEBUG_PLUGINS": "1"}  # Qt then names the library dlopen() missed
    try:
        result = run([python, "-c", _PROBE], env=env, capture_output=True, text=True,
                     timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None  # slow, not broken: let the window try for real
    if result.returncode == 0:
        return None
    output = (result.stderr or "") + (result.stdout or "")
    plugin = plugin_path(name)
    missing = ldd_missing(plugin, run) if plugin is not None else []
    for soname in missing_from_qt_output(output, name):
        if soname not in missing:
            missing.append(soname)
    qt_lines = [line for line in output.splitlines()
                if not line.startswith(("qt.core.plugin", "qt.core.library"))]
    return PluginProblem(name, missing, "\n".join(qt_lines))
