"""The Diagnostics tab: qtmodeltester, the badge, grouping and sorting, a click filters."""

from __future__ import annotations

from PySide6.QtCore import Qt

from monitor_gui.core.diagnostics import KINDS, diagnose
from monitor_gui.qt.controller import MonitorController
from monitor_gui.qt.diagnostics_model import COUNT, KIND, SORT_ROLE, DiagnosticsModel, short_path
from monitor_gui.qt.diagnostics_view import DiagnosticsView

RAISING = "settings_tests.tests.OverrideSettingsIsolationOnExceptionTests.receiver"
SETTING_CHANGED = "django.core.signals.setting_changed"


def test_model_passes_modeltester(qtmodeltester, real_state):
    model = DiagnosticsModel()
    qtmodeltester.check(model, force_py=True)
    findings = diagnose(real_state)
    assert model.set_findings(findings) and model.rowCount() == len(findings) > 0
    assert not model.set_findings(findings)  # unchanged: no reset
    assert model.set_findings(findings[:2]) and model.rowCount() == 2
    assert model.set_findings([]) and model.rowCount() == 0


def test_rows_are_grouped_by_kind_errors_first_and_sort_by_count(qtbot, real_state):
    view = DiagnosticsView(MonitorController(real_state))
    qtbot.addWidget(view)
    view.refresh()
    proxy = view.proxy
    kinds = [proxy.data(proxy.index(r, KIND), SORT_ROLE) for r in range(proxy.rowCount())]
    assert kinds == sorted(kinds) and kinds[0] == list(KINDS).index("raises-send")
    view.table.sortByColumn(COUNT, Qt.SortOrder.DescendingOrder)
    values = [proxy.data(proxy.index(r, COUNT), SORT_ROLE) for r in range(proxy.rowCount())]
    assert values == sorted(values, reverse=True)
    # One kind at a time, from the combo box that counts them.
    at = view.kinds.findData("raises-robust")
    assert view.kinds.itemText(at).endswith("(1)")
    view.kinds.setCurrentIndex(at)
    assert proxy.rowCount() == 1
    assert proxy.data(proxy.index(0, 2), SORT_ROLE) == RAISING
    assert proxy.data(proxy.index(0, 2)) == "OverrideSettingsIsolationOnExceptionTests.receiver"


def test_the_tab_shows_a_badge_and_a_click_filters_every_view(qtbot, make_monitor,
                                                             real_frames):
    monitor = make_monitor(capacity=100_000)
    window = monitor.window
    window.show()
    qtbot.waitExposed(window)
    view = window.diagnostics
    tabs = window.bottom_tabs
    assert tabs.tabText(tabs.indexOf(view)) == "Diagnostics"  # nothing yet
    monitor.controller.apply_now(real_frames)
    expected = diagnose(monitor.state)
    title = f"Diagnostics ({len(expected)})"
    qtbot.waitUntil(lambda: tabs.tabText(tabs.indexOf(view)) == title, timeout=10_000)
    assert not tabs.tabIcon(tabs.indexOf(view)).isNull()  # the worst severity's swatch
    tabs.setCurrentWidget(view)
    r = view.row_of("raises-send", RAISING)
    assert r is not None
    index = view.proxy.index(r, 2)
    view.table.scrollTo(index)
    with qtbot.waitSignal(view.findingActivated) as activated:
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.table.visualRect(index).center())
    assert activated.args == [SETTING_CHANGED, RAISING]
    f = monitor.controller.filter
    assert f.signals == frozenset({SETTING_CHANGED}) and f.receivers == frozenset({RAISING})
    qtbot.waitUntil(lambda: window.table_model.rowCount() > 0)
    # Cleared: the findings go with the traffic.
    monitor.controller.clear()
    qtbot.waitUntil(lambda: tabs.tabText(tabs.indexOf(view)) == "Diagnostics", timeout=10_000)


def test_paths_are_shown_from_the_package_or_the_project_on(monkeypatch, tmp_path):
    assert short_path("/venv/lib/python3.12/site-packages/django/db/models/base.py") == (
        "django/db/models/base.py")
    monkeypatch.chdir(tmp_path)
    assert short_path(str(tmp_path / "shop" / "apps.py")) == "shop/apps.py"
    assert short_path("/elsewhere/x.py") == "/elsewhere/x.py"


def test_the_current_finding_is_detailed_below_the_table(qtbot, real_state):
    view = DiagnosticsView(MonitorController(real_state))
    qtbot.addWidget(view)
    view.refresh()
    view.table.selectRow(0)
    f = view.model.findings[view.proxy.mapToSource(view.proxy.index(0, 0)).row()]
    assert f.detail.split(" (")[0] in view.detail.text()
    assert "connect site unknown" in view.detail.text()  # an old recording: def lines
