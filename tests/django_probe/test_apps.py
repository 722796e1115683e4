"""AppConfig.ready() wiring: enabled switch, idempotence, restart on SIGNAL_PROBE changes."""

from __future__ import annotations

from django.apps import apps
from django.core.signals import setting_changed
from django.test import override_settings

from django_probe import _dispatch, runtime


def test_disabled_probe_installs_nothing():
    runtime.stop()
    apps.get_app_config("django_probe").ready()  # tests.settings: ENABLED False
    assert runtime.active() is None and not _dispatch.installed()


def test_setting_changed_starts_restarts_and_stops_the_probe():
    runtime.stop()
    endpoint = "tcp://127.0.0.1:1"  # nobody listens: events are dropped and counted
    with override_settings(SIGNAL_PROBE={"ENABLED": True, "ENDPOINT": endpoint}):
        first = runtime.active()
        assert first is not None and _dispatch.installed()
        assert first.config.endpoint == endpoint
        apps.get_app_config("django_probe").ready()  # a second ready(): same probe
        assert runtime.active() is first
        receivers = [r for r in setting_changed.receivers
                     if r[0][0] == "django_probe.settings"]
        assert len(receivers) == 1  # dispatch_uid keeps the settings receiver single
        with override_settings(SIGNAL_PROBE={"ENABLED": True, "ENDPOINT": endpoint,
                                             "STREAM_EMPTY": True}):
            second = runtime.active()
            assert second is not first and second.config.stream_empty is True
    assert runtime.active() is None and not _dispatch.installed()


def test_runserver_autoreloader_parent_gets_no_probe():
    from django_probe.apps import is_autoreloader_parent

    assert is_autoreloader_parent(["manage.py", "runserver"], {})
    assert not is_autoreloader_parent(["manage.py", "runserver"], {"RUN_MAIN": "true"})
    assert not is_autoreloader_parent(["manage.py", "runserver", "--noreload"], {})
    assert not is_autoreloader_parent(["gunicorn", "demo_site.wsgi"], {})
    assert not is_autoreloader_parent(["manage.py", "migrate"], {})
