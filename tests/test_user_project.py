"""A user's project that uses only the public API (``tests/user_project/``): each assertion fails naming the
line of the bug, then passes once the bug is fixed. pytest runs it in a subprocess, as a user would, so the
``signal_capture`` fixture comes from our ``pytest11`` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: Builds, runs or serves something of its own: left out of the fast loop (make test-fast).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Path(__file__).resolve().parent / "user_project"
BUGGY = PROJECT / "shop_before_fix.py"


def site(marker: str, function: str) -> str:
    """``shop.py:<line> in <function>`` for the line of the buggy shop holding ``marker``."""
    lines = BUGGY.read_text().splitlines()
    (number,) = [i for i, line in enumerate(lines, 1) if marker in line]
    return f"shop.py:{number} in {function}"


def copy_project(shop: Path, into: Path) -> None:
    for source in PROJECT.iterdir():
        if source.is_file() and source != BUGGY:
            shutil.copy(source, into / source.name)
    shutil.copy(shop, into / "shop.py")


@pytest.fixture
def run_user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    def run(shop: Path) -> pytest.RunResult:
        copy_project(shop, pytester.path)
        monkeypatch.setenv("PYTHONPATH", str(ROOT))  # for tests.settings and tests.testapp
        return pytester.runpytest_subprocess("-p", "no:cacheprovider")

    return run


def test_before_the_fix_each_assertion_fails_with_the_line_that_sent_the_signal(run_user_project):
    result = run_user_project(BUGGY)
    result.assert_outcomes(failed=6, passed=2)
    out = result.stdout.str()
    # assert_no_redundant_saves / assertNoRedundantSaves: each finding, each save's line
    assert out.count("testapp.Book #1 was saved 2 times") >= 2
    assert site("book.save()  # bug: a full save", "rename_book") in out
    assert site("book.save()  # bug: the same row saved again", "rename_book") in out
    assert "no field changed since it was loaded or last saved" in out
    assert "known and wanted? allow=[('testapp.Book', 'saved_again')]" in out
    # assert_signal_count / assertSignalCount: every send listed with its line
    assert "expected 3 post_save, got 5" in out
    assert "expected 2 post_save, got 4" in out
    assert f"testapp.Author at {site('author.save()  # bug: one more save', 'publish')}" in out
    # assert_no_credentials_in_clear / assertNoCredentialsInClear: the key, never the value
    assert out.count("credential 'pin' reached user_login_failed receivers in clear") >= 2
    assert f"sent at {site('user_login_failed.send(', 'reject_pin_login')}" in out
    assert out.count("1234") == out.count('reject_pin_login(None, "ursula", "1234")')  # the source line only
    # the failure points at the test's own line, not at our helpers
    assert "test_shop_testcase.py:19: AssertionError" in out
    assert "dt_signals_panel/testing.py" not in out
    assert "contextlib.py" not in out
    # a failing test that used the fixture shows the recording, grouped like the panel
    assert out.count("Signals sent (dt_signals_panel)") == 3
    assert "pre_init / post_init" in out


def test_after_the_fix_every_assertion_passes(run_user_project):
    result = run_user_project(PROJECT / "shop.py")
    result.assert_outcomes(passed=8)


def test_the_testcase_example_fails_the_same_under_djangos_own_runner(tmp_path):
    copy_project(BUGGY, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "django", "test", "test_shop_testcase", "--settings=tests.settings", "--noinput"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    out = done.stderr
    assert done.returncode == 1, out
    assert "FAILED (failures=3)" in out
    assert "expected 2 post_save, got 4" in out
    assert f"testapp.Author at {site('author.save()  # bug: one more save', 'publish')}" in out
    assert site("book.save()  # bug: the same row saved again", "rename_book") in out
    assert f"sent at {site('user_login_failed.send(', 'reject_pin_login')}" in out
    # unittest's traceback ends at the test's line, as for its own assertion methods
    assert 'test_shop_testcase.py", line 19, in test_rename_book_saves_once' in out
    assert "dt_signals_panel/testing.py" not in out
