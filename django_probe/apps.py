"""The only place that wires the probe into Django: AppConfig.ready()."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting != "SIGNAL_PROBE":
        return
    from . import conf, runtime

    config = conf.reload()
    running = runtime.active()
    if running is not None and running.config != config:
        runtime.stop()
        running = None
    if running is None and config.enabled:
        runtime.start(config)


def is_autoreloader_parent(argv: list[str], environ: Any) -> bool:
    """True in the file-watching parent of ``runserver``: it serves nothing (the child it
    restarts, marked RUN_MAIN=true by Django, does), so it gets no probe and the monitor
    shows one process per runserver, not two."""
    return ("runserver" in argv[1:3] and "--noreload" not in argv
            and environ.get("RUN_MAIN") != "true")


class DjangoProbeConfig(AppConfig):
    name = "django_probe"
    verbose_name = "Django signal probe"
    default = True

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        # Django makes every AppConfig before it imports any models module or runs any
        # ready(), so noting connect() calls from here on learns where nearly every
        # receiver was connected (docs/probe.md, "Where receivers were connected").
        from . import _dispatch_connect, conf

        try:
            if conf.get_config().enabled and not is_autoreloader_parent(sys.argv, os.environ):
                _dispatch_connect.watch()
        except Exception:  # (a misconfiguration is reported by the system checks)
            pass

    def ready(self) -> None:
        # Django may call ready() more than once (e.g. in some test runners): everything
        # below is idempotent (dispatch_uid, runtime.start returns the running probe).
        from . import checks, conf, runtime  # noqa: F401  (checks registers on import)

        setting_changed.connect(_on_setting_changed, dispatch_uid="django_probe.settings")
        config = conf.get_config()
        if config.enabled and not is_autoreloader_parent(sys.argv, os.environ):
            runtime.start(config)
