"""The wheel a user installs carries the templates and static files, and none of our tests."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

#: Builds, runs or serves something of its own: left out of the fast loop (make test-fast).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("dt_signals_panel-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_templates_static_files_and_type_information(wheel):
    names = set(wheel.namelist())
    assert "dt_signals_panel/templates/dt_signals_panel/panel.html" in names
    assert "dt_signals_panel/static/dt_signals_panel/panel.css" in names
    assert "dt_signals_panel/static/dt_signals_panel/panel.js" in names
    assert "dt_signals_panel/py.typed" in names
    assert "dt_signals_panel/panel.py" in names


def test_the_wheel_ships_no_tests_demo_or_benchmark(wheel):
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert tops <= {"dt_signals_panel", *(n for n in tops if n.endswith(".dist-info"))}


def test_the_wheel_declares_the_supported_django_and_toolbar(wheel):
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    assert "Requires-Dist: Django>=5.2" in text
    assert "Requires-Dist: django-debug-toolbar>=6.3" in text
    assert "Requires-Python: >=3.10" in text


def test_the_wheel_registers_the_pytest_plugin(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[pytest11]\ndt_signals_panel = dt_signals_panel.pytest_plugin" in text
    assert "dt_signals_panel/pytest_plugin.py" in wheel.namelist()
    assert "dt_signals_panel/testing.py" in wheel.namelist()
