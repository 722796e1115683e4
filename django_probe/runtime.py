"""The probe's composition root: builds the recorder, publisher and watchers and owns them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import django

from . import __version__, _dispatch, _transactions, forks
from .capture import Recorder
from .conf import ProbeConfig, get_config
from .describe import Describer
from .naming import SignalRegistry
from .strings import Interner
from .topology import TopologyWatcher

_lock = threading.Lock()  # start/stop may race between ready() and setting_changed
_active: Probe | None = None
# The process's table of interned names, made by the first probe and kept when the probe
# restarts (override_settings): names cached with their ids (call sites, threads, the
# current request) stay valid. Each publisher is a new process instance and defines
# every id again for its monitor.
_process_strings: Interner | None = None


def process_strings() -> Interner:
    """The process's Interner (made on first use)."""
    global _process_strings
    if _process_strings is None:
        _process_strings = Interner()
    return _process_strings


class Probe:
    """One running probe: dispatch hook (or catch-all receivers) + publisher thread."""

    def __init__(self, config: ProbeConfig, sink: Callable[[Any], None] | None = None,
                 strings: Interner | None = None) -> None:
        self.config = config
        # The one table of names this process sends as ids (docs/protocol.md, "Interned
        # names"): everything that names things for events interns with it, and the
        # publisher defines its ids for the monitor. A forked child keeps it (same ids);
        # its publisher, a new process instance, defines them all again. Tests may pass
        # their own (a small limit, say).
        self.strings = strings if strings is not None else process_strings()
        intern = self.strings.ref
        self.registry = SignalRegistry(intern)
        self.describer = Describer(config.value_max_length, config.kwargs_max_items,
                                   config.redact_pattern, intern, config.redact_paths)
        self.watcher = TopologyWatcher(self.registry, self.describer,
                                       interval=config.topology_interval)
        self.recorder = Recorder(sink or (lambda event: None), self.describer, self.registry,
                                 intern=intern, stream_empty=config.stream_empty,
                                 ignore=frozenset(config.ignore_signals))
        self.publisher = None
        self.control = None
        if sink is None:
            from .control import ProbeControl
            from .publisher import Publisher  # zmq is only imported when we really publish

            recorder = self.recorder
            self.control = ProbeControl(config, recorder.set_rules, intern,
                                        muted=lambda: recorder.muted_total)
            self.publisher = Publisher(config, hello_info=self.hello_info(),
                                       periodic=[recorder.drain_empty, recorder.drain_muted,
                                                 self.watcher.poll],
                                       strings=self.strings, control=self.control)
            self.recorder.use_publisher(self.publisher)
        self._receivers_mode = None

    def hello_info(self) -> dict[str, str]:
        """What only the probe knows; the publisher adds process, Python and zmq facts."""
        return {
            "probe": __version__,
            "django": django.get_version(),
            "settings": os.environ.get("DJANGO_SETTINGS_MODULE", ""),
        }

    def start(self) -> None:
        self.registry.scan()
        if self.config.mode == "receivers":
            from .receivers_mode import CatchAllReceivers

            self._receivers_mode = CatchAllReceivers(self.recorder, self.registry,
                                                     self.config.include_delete_signals)
            self._receivers_mode.connect_all()
        else:
            _dispatch.install(self.recorder)
            _transactions.install(self.recorder)  # the same recorder: a class patch too
        if self.publisher is not None:
            self.publisher.start()  # idle processes (e.g. unused gunicorn workers) show up too

    def stop(self) -> None:
        if self._receivers_mode is not None:
            self._receivers_mode.disconnect_all()
        elif _dispatch.installed():
            _dispatch.uninstall()
            _transactions.uninstall()
        if self.publisher is not None:
            self.publisher.close()


def active() -> Probe | None:
    return _active


def start(config: ProbeConfig | None = None, sink: Callable[[Any], None] | None = None,
          strings: Interner | None = None) -> Probe:
    """Start the probe (idempotent: a running probe is returned as is). ``strings``: the
    interner to use (tests pass one with a small limit); the process's by default."""
    global _active
    with _lock:
        if _active is None:
            probe = Probe(config or get_config(), sink, strings)
            probe.start()
            _active = probe
        return _active


def stop() -> None:
    global _active
    with _lock:
        if _active is not None:
            _active.stop()
            _active = None


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the interner's lock at the fork (the publisher
    # thread interns while it builds topology snapshots): in the child nobody would ever
    # release it. The table itself is consistent (appended under the GIL) and kept.
    probe = _active
    for strings in (_process_strings, None if probe is None else probe.strings):
        if strings is not None:
            strings.after_fork()


forks.register(_after_fork_in_child)
