"""``signal-monitor diff``: the report, --json, and the exit status for each --fail-on choice."""

from __future__ import annotations

import json

import pytest

from monitor_gui import cli
from monitor_gui.core.diff import CRITERIA
from tests.monitor_gui.conftest import REAL_RECORDING
from tests.monitor_gui.core import diffdata


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    return {v: str(diffdata.write(d / f"{v}.jsonl", v)) for v in ("a", "b", "b-p95")}


def test_default_report_and_exit_status(runs, capsys):
    assert cli.main(["diff", runs["a"], runs["b"]]) == 1
    out = capsys.readouterr().out
    assert "New errors (a receiver raises in B where it did not in A): 2 [fails]" in out
    assert "Calls changed beyond noise: 1\n" in out  # shown, but not a failure by default
    assert cli.main(["diff", runs["a"], runs["a"]]) == 0
    assert "No differences." in capsys.readouterr().out


@pytest.mark.parametrize("criterion", CRITERIA)
def test_each_fail_on_choice_fails_on_its_own_difference(runs, criterion, capsys):
    assert cli.main(["diff", runs["a"], runs["b"], "--fail-on", criterion]) == 1
    assert cli.main(["diff", runs["a"], runs["a"], "--fail-on", criterion]) == 0
    # only the p95 of one receiver differs here: only --fail-on p95 sees it
    expected = 1 if criterion == "p95" else 0
    assert cli.main(["diff", runs["a"], runs["b-p95"], "--fail-on", criterion]) == expected


def test_fail_on_lists_all_and_none(runs, capsys):
    assert cli.main(["diff", runs["a"], runs["b-p95"]]) == 0  # the default ignores p95
    assert cli.main(["diff", runs["a"], runs["b-p95"], "--fail-on", "calls,p95"]) == 1
    assert cli.main(["diff", runs["a"], runs["b-p95"], "--fail-on", "all"]) == 1
    assert cli.main(["diff", runs["a"], runs["b"], "--fail-on", "none"]) == 0


def test_json(runs, capsys):
    assert cli.main(["diff", runs["a"], runs["b"], "--json", "--fail-on", "p95"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["fail_on"] == ["p95"] and doc["differs"] is True
    assert doc["summary"]["new-edges"] == 2
    assert {c["dst"] for c in doc["changes"]["vanished-edges"]} == {"shop.receivers.gone"}


def test_usage_errors_exit_2(runs, tmp_path, capsys):
    assert cli.main(["diff", runs["a"], runs["b"], "--fail-on", "calls,typo"]) == 2
    assert "unknown criterion typo" in capsys.readouterr().err
    assert cli.main(["diff", runs["a"], str(tmp_path / "missing.jsonl")]) == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["diff", runs["a"]])
    assert exc.value.code == 2


def test_the_real_recording_against_itself_exits_0(capsys):
    assert cli.main(["diff", str(REAL_RECORDING), str(REAL_RECORDING), "--fail-on",
                     "all"]) == 0
    assert "No differences." in capsys.readouterr().out
