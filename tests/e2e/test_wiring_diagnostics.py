"""The demo's deliberately mis-wired receiver, found by the real monitor core and recorder."""

from __future__ import annotations

import json

import pytest

from demo_site.traffic import Browser
from monitor_gui import cli
from monitor_gui.cli_record import _record_frame
from monitor_gui.core.diagnostics import diagnose
from monitor_gui.core.processes import ProcessTable
from monitor_gui.core.recording import RecordingWriter

pytestmark = pytest.mark.e2e

POST_SAVE = "django.db.models.signals.post_save"
PUBLISHED = "demo_site.articles.signals.article_published"
MISWIRED = "demo_site.articles.receivers.reindex_tags"
WEBHOOK = "demo_site.articles.receivers.notify_webhook"
RECEIVERS = "demo_site/articles/receivers.py"


def findings_of(state, receiver: str) -> dict[str, object]:
    return {f.kind: f for f in diagnose(state) if f.receiver == receiver}


def test_the_miswired_receiver_is_found_with_its_connect_site(monitor, start_site, tmp_path):
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda s: len(s.processes) == 1, "the site's probe to connect")
    browser = Browser(site.base_url)
    assert browser.login("demo", "demo-password-123")
    page = browser.submit("/articles/new/", {"title": "Wiring", "body": "x"})
    assert page.status == 200  # the mis-wired receiver never runs: the page works
    monitor.wait_for(lambda s: bool(monitor.rows_of(PUBLISHED)), "article_published")
    monitor.wait_for(lambda s: {"sender-silent", "signature", "raises-robust"}
                     <= set(findings_of(s, MISWIRED)) | set(findings_of(s, WEBHOOK)),
                     "the findings about the mis-wired and the failing receivers")
    found = findings_of(monitor.state, MISWIRED)
    silent, signature = found["sender-silent"], found["signature"]
    assert silent.signal == POST_SAVE
    assert silent.sender == "demo_site.articles.forms.ArticleForm"
    # Where connect() was called (in ready(), after the probe's AppConfig watched), not
    # where the function is defined.
    assert silent.site_known and silent.file.endswith(RECEIVERS)
    with open(silent.file) as f:
        line = f.read().splitlines()[silent.line - 1]
    assert "post_save.connect(reindex_tags" in line
    assert "requires tags" in signature.detail and "TypeError" in signature.detail
    assert "never-fired" in found
    robust = findings_of(monitor.state, WEBHOOK)["raises-robust"]
    assert robust.signal == PUBLISHED and "WebhookUnreachable" in robust.detail
    assert not any(f.kind == "raises-send" for f in diagnose(monitor.state))

    # The same traffic through the recorder's own code, then `signal-monitor diagnose`.
    out = tmp_path / "run.jsonl"
    writer = RecordingWriter(out)
    table = ProcessTable()
    for data in monitor.raw:
        _record_frame(data, table, writer, None)
    writer.close()
    assert cli.main(["diagnose", str(out), "--fail-on", "signature"]) == 1
    assert cli.main(["diagnose", str(out), "--fail-on", "twice"]) == 0
    assert cli.main(["diagnose", str(out), "--json", "--fail-on", "none"]) == 0
    assert site.stop() == 0


def test_the_demo_report_names_the_connect_line(monitor, start_site, capsys):
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda s: MISWIRED in {f.receiver for f in diagnose(s)},
                     "the topology with the mis-wired receiver")
    (silent,) = [f for f in diagnose(monitor.state)
                 if f.receiver == MISWIRED and f.kind == "sender-silent"]
    assert json.loads(json.dumps(silent.to_json()))["where"].endswith(f":{silent.line}")
    assert site.stop() == 0
