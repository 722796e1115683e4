"""The probe's composition root: builds the recorder, publisher and watchers and owns them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import django

from . import __version__, _dispatch
from .capture import Recorder
from .conf import ProbeConfig, get_config
from .describe import Describer
from .naming import SignalRegistry
from .topology import TopologyWatcher

_lock = threading.Lock()  # start/stop may race between ready() and setting_changed
_active: Probe | None = None


class Probe:
    """One running probe: dispatch hook (or catch-all receivers) + publisher thread."""

    def __init__(self, config: ProbeConfig, sink: Callable[[Any], None] | None = None) -> None:
        self.config = config
        self.registry = SignalRegistry()
        self.describer = Describer(config.value_max_length, config.kwargs_max_items,
                                   config.redact_pattern)
        self.watcher = TopologyWatcher(self.registry, self.describer,
                                       interval=config.topology_interval)
        self.recorder = Recorder(sink or (lambda event: None), self.describer, self.registry,
                                 stream_empty=config.stream_empty,
                                 ignore=frozenset(config.ignore_signals))
        self.publisher = None
        if sink is None:
            from .publisher import Publisher  # zmq is only imported when we really publish

            self.publisher = Publisher(config, hello_info=self.hello_info(),
                                       periodic=[self.recorder.drain_empty, self.watcher.poll])
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
        if self.publisher is not None:
            self.publisher.start()  # idle processes (e.g. unused gunicorn workers) show up too

    def stop(self) -> None:
        if self._receivers_mode is not None:
            self._receivers_mode.disconnect_all()
        elif _dispatch.installed():
            _dispatch.uninstall()
        if self.publisher is not None:
            self.publisher.close()


def active() -> Probe | None:
    return _active


def start(config: ProbeConfig | None = None,
          sink: Callable[[Any], None] | None = None) -> Probe:
    """Start the probe (idempotent: a running probe is returned as is)."""
    global _active
    with _lock:
        if _active is None:
            probe = Probe(config or get_config(), sink)
            probe.start()
            _active = probe
        return _active


def stop() -> None:
    global _active
    with _lock:
        if _active is not None:
            _active.stop()
            _active = None
