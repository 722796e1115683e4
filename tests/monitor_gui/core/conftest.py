"""Every monitor-core test runs on both ingest paths: compiled (_colframe) and pure Python."""

from __future__ import annotations

import pytest

from monitor_gui.core import colbatch


@pytest.fixture(autouse=True, params=["compiled", "python"])
def ingest_path(request, monkeypatch):
    if request.param == "compiled":
        if colbatch._colframe is None:
            pytest.skip("monitor_gui.core._colframe is not built (no C compiler)")
        monkeypatch.setattr(colbatch, "AVAILABLE", True)
    else:
        monkeypatch.setattr(colbatch, "AVAILABLE", False)
    return request.param
