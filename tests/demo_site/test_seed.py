"""``python -m demo_site setup``: migrates, creates the demo users, is idempotent."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from tests.e2e.support import ROOT, SITE_PYTHON, site_env

pytestmark = pytest.mark.e2e


def test_setup_is_idempotent_and_prints_credentials(tmp_path):
    db = tmp_path / "fresh.sqlite3"
    command = [SITE_PYTHON, "-m", "demo_site", "setup", "-v", "0"]
    first = subprocess.run(command, cwd=ROOT, env=site_env(db), capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "created demo" in first.stdout
    assert "demo / demo-password-123" in first.stdout

    second = subprocess.run(command, cwd=ROOT, env=site_env(db), capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout and "reset" not in second.stdout
    assert "demo / demo-password-123" in second.stdout

    with sqlite3.connect(db) as conn:
        users = sorted(r[0] for r in conn.execute("select username from auth_user"))
        profiles = conn.execute("select count(*) from accounts_userprofile").fetchone()[0]
    assert users == ["alice", "bob", "demo"]
    assert profiles == 3  # post_save on the user model created one each
