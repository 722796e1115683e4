"""The install built both optional C accelerators wherever it could.

They are optional (``optional = true`` in pyproject), so a failed build is silent and
would only show as slower benchmarks. Where this environment has the project installed
and a C compiler, both must import.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import sys
import sysconfig

import pytest


def _installed_with_a_compiler() -> None:
    try:
        importlib.metadata.distribution("django-signal-monitor")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the project is not installed in this environment")
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the accelerators are optional")


@pytest.mark.parametrize("module", ["monitor_gui.core._colframe", "django_probe._accel"])
def test_the_install_built_the_accelerator(module):
    _installed_with_a_compiler()
    if module == "django_probe._accel" and sys.version_info < (3, 11):
        pytest.skip("the probe accelerator needs Python 3.11+")
    importlib.import_module(module)
