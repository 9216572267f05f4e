"""The benchmark still runs: ``python -m bench --quick`` goes through every scenario, tiny. Its figures mean
nothing on a shared machine and nothing here judges them; ``make bench`` is where the targets are checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Builds, runs or serves something of its own: left out of the fast loop (make test-fast).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_prints_a_row_for_every_scenario(tmp_path):
    env = {**os.environ, "DT_BENCH_DB_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    for scenario in (
        "| 1. init-heavy page",
        "| 2. save-heavy page",
        "| 3. not recording",
        "| 4. stats + render",
        "| 4. rendered HTML",
        "| 4. stored JSON",
        "| 5. extra peak memory",
        "| 6. receivers' queries",
    ):
        assert scenario in table, table
    assert "FAIL" not in table  # quick mode judges nothing


def test_the_quick_benchmark_runs_on_postgresql(tmp_path, postgres):
    # What `make bench DB=postgres` runs, in the session's throwaway cluster; scenarios 1-3, the ones the
    # README's PostgreSQL column shows.
    for name in ("bench", "bench_archive"):
        postgres.create_database(name)
    env = {
        **os.environ,
        "DT_BENCH_DB_DIR": str(tmp_path),
        "DT_BENCH_DB_BACKEND": "postgres",
        "DT_SIGNALS_PG_HOST": postgres.host,
        "DT_SIGNALS_PG_PORT": str(postgres.port),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "1,2,3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for scenario in ("| 1. init-heavy page", "| 2. save-heavy page", "| 3. not recording"):
        assert scenario in done.stdout, done.stdout
    assert "PostgreSQL, " in done.stdout
