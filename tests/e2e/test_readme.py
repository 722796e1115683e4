"""The README a new user reads matches the code: settings table, commands, credentials."""

from __future__ import annotations

import re

from django_probe.conf import DEFAULTS
from tests.e2e.support import ROOT

README = (ROOT / "README.md").read_text()


def settings_table() -> dict[str, str]:
    rows = re.findall(r"^\| `([A-Z_]+)` \| `?([^|`]+?)`? \|", README, re.MULTILINE)
    return dict(rows)


def test_settings_table_lists_every_default_with_its_value():
    table = settings_table()
    assert set(table) == set(DEFAULTS)
    for key, value in DEFAULTS.items():
        shown = table[key]
        if isinstance(value, str):
            assert shown == f'"{value}"', key
        elif isinstance(value, int) and not isinstance(value, bool):
            assert shown.replace("_", "") == str(value), key
        else:
            assert shown == repr(value), key


def test_demo_credentials_and_commands_match_the_code():
    from demo_site.seed import DEMO_USERS

    demo = DEMO_USERS[0]
    assert f"`{demo.username}` / `{demo.password}`" in README
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "demo-site", "bench"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target
        assert f"make {target}" in README
    assert (ROOT / "docs" / "screenshot-demo.png").exists()
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / link).exists(), link
