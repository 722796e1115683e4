"""Demo settings read from the environment, and manage.py working from any directory."""

from __future__ import annotations

import json
import os
import subprocess

from tests.e2e.support import MANAGE_PY, ROOT, SITE_PYTHON

SHOW = ("import json, demo_site.settings as s; "
        "print(json.dumps({'probe': s.SIGNAL_PROBE, 'db': str(s.DATABASES['default']['NAME']), "
        "'debug': s.DEBUG, 'hashers': getattr(s, 'PASSWORD_HASHERS', None)}))")


def settings_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SIGNAL_PROBE_", "DEMO_SITE_", "DJANGO_"))}
    result = subprocess.run([SITE_PYTHON, "-c", SHOW], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_defaults_enable_the_probe_on_its_loopback_default():
    shown = settings_with()
    assert shown["probe"] == {"ENABLED": True, "STREAM_EMPTY": True}  # ENDPOINT: the default
    assert shown["db"] == str(ROOT / "demo_site" / "db.sqlite3")
    assert shown["debug"] is True and shown["hashers"] is None


def test_environment_overrides(tmp_path):
    shown = settings_with(SIGNAL_PROBE_ENDPOINT="tcp://127.0.0.1:6001", SIGNAL_PROBE_ENABLED="0",
                          DEMO_SITE_DB=str(tmp_path / "x.sqlite3"), DJANGO_DEBUG="false",
                          DEMO_SITE_FAST_HASHER="1")
    assert shown["probe"] == {"ENABLED": False, "STREAM_EMPTY": True,
                              "ENDPOINT": "tcp://127.0.0.1:6001"}
    assert shown["db"] == str(tmp_path / "x.sqlite3")
    assert shown["debug"] is False
    assert shown["hashers"][0].endswith("MD5PasswordHasher")


def test_manage_py_runs_from_any_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    env.update(SIGNAL_PROBE_ENABLED="0", DEMO_SITE_DB=str(tmp_path / "db.sqlite3"))
    result = subprocess.run([SITE_PYTHON, str(MANAGE_PY), "check"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    # The migrations on disk match the models (committed, nothing pending).
    result = subprocess.run([SITE_PYTHON, str(MANAGE_PY), "makemigrations", "--check",
                             "--dry-run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
