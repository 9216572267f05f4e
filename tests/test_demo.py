"""The demo site fires, page by page, exactly the signals its index says it does.

The demo has its own settings (``demo_site.settings``), so it runs in a subprocess: ``demo/check_pages.py``
migrates and seeds a throwaway copy of its databases, requests every page through the real toolbar and
compares what the Signal activity panel recorded with what each page is meant to fire.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: Builds, runs or serves something of its own: left out of the fast loop (make test-fast).
pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parent.parent / "demo"


def test_every_demo_page_fires_the_signals_it_describes(tmp_path: Path) -> None:
    check_pages(tmp_path, {})


def test_every_demo_page_fires_the_signals_it_describes_on_postgresql(tmp_path: Path, postgres: Any) -> None:
    # What `make demo DB=postgres` serves, in the session's throwaway cluster.
    for name in ("demo", "demo_archive"):
        postgres.create_database(name)
    check_pages(
        tmp_path,
        {"DEMO_DB": "postgres", "DT_SIGNALS_PG_HOST": postgres.host, "DT_SIGNALS_PG_PORT": str(postgres.port)},
    )


def check_pages(tmp_path: Path, extra_env: dict[str, str]) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",
        "DEMO_DB_DIR": str(tmp_path),
        "PYTHONWARNINGS": "error::DeprecationWarning",
        **extra_env,
    }
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "check_pages.py"],
        cwd=DEMO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n--- stderr ---\n{result.stderr[-5000:]}"
    assert "0 failed" in result.stdout, result.stdout
