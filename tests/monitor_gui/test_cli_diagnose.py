"""``signal-monitor diagnose``: the text and JSON report, and the exit status per --fail-on."""

from __future__ import annotations

import json

import pytest

from django_probe import wire
from monitor_gui import cli
from monitor_gui.core.recording import RecordingWriter
from tests.monitor_gui.core.events import PROC, dispatch, receiver

SIGNAL = "django.db.models.signals.post_save"


def write(path, *, twice: bool) -> str:
    site = wire.CallSite("shop/apps.py", 9, "ready")
    connected = [wire.ConnectedReceiver("create_profile", "shop.receivers", "shop/r.py", 3,
                                        False, None, True, site=site, target=0,
                                        params=["sender"], required=["sender"], varkw=True)]
    if twice:
        connected.append(connected[0]._replace(site=site._replace(line=12), uid="again"))
    events = [wire.Topology(wire.KIND_TOPOLOGY, 1, [wire.SignalWiring(SIGNAL, connected)]),
              dispatch(1, receivers=[receiver("create_profile", "shop.receivers")])]
    writer = RecordingWriter(path)
    writer.write(wire.Frame(PROC, 0, events, 0))
    writer.close()
    return str(path)


@pytest.fixture
def runs(tmp_path):
    return {"clean": write(tmp_path / "clean.jsonl", twice=False),
            "twice": write(tmp_path / "twice.jsonl.gz", twice=True)}


def test_a_twin_fails_by_default_and_is_shown_with_its_sites(runs, capsys):
    assert cli.main(["diagnose", runs["twice"]]) == 1
    out = capsys.readouterr().out
    assert "Connected twice under different keys [twice, warning]: 1" in out
    assert "at shop/apps.py:12" in out and "shop/apps.py:9" in out
    assert cli.main(["diagnose", runs["clean"]]) == 0
    assert "No wiring findings." in capsys.readouterr().out


def test_fail_on_chooses_kinds_and_severities(runs, capsys):
    assert cli.main(["diagnose", runs["twice"], "--fail-on", "error"]) == 0
    assert cli.main(["diagnose", runs["twice"], "--fail-on", "twice"]) == 1
    assert cli.main(["diagnose", runs["twice"], "--fail-on", "none"]) == 0
    assert cli.main(["diagnose", runs["twice"], "--fail-on", "twice,typo"]) == 2
    assert "unknown kind typo" in capsys.readouterr().err


def test_json_report(runs, capsys):
    assert cli.main(["diagnose", runs["twice"], "--json", "--fail-on", "all"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] is True and doc["counts"]["twice"] == 1
    (finding,) = doc["findings"]
    assert finding["where"] == "shop/apps.py:12" and finding["severity"] == "warning"


def test_a_missing_recording_is_trouble(tmp_path, capsys):
    assert cli.main(["diagnose", str(tmp_path / "missing.jsonl")]) == 2
