"""pytest plugin for a third-party suite run under pytest (django-model-utils): ``-p pytest_capture``.

Loaded in both runs, so both measure the same way: the probe counts receiver calls per test and takes each
test's outcome from its reports. With ``COMPAT_MODE=captured`` the test's call phase (for a unittest-style
case: setUp, the test and tearDown) runs inside ``dt_signals_panel.capture()``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import probe
import pytest

probe.install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, Any, None]:
    probe.begin(item.nodeid)
    try:
        yield
    finally:
        probe.end()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    with probe.capturing():
        yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    describe = getattr(report, "_sub_test_description", None)
    if report.passed and (report.when != "call" or describe is not None):
        return  # a passing subTest is not a test of its own, as in unittest
    if hasattr(report, "wasxfail"):
        kind = "xfail" if report.skipped else "xpass"
    elif report.skipped:
        kind = "skip"
    elif report.failed:
        kind = "fail" if report.when == "call" else "error"
    else:
        kind = "pass"
    # pytest 9 reports each unittest subTest apart, under the test's node id: name them like unittest does.
    test_id = f"{report.nodeid} {describe()}" if describe is not None else report.nodeid
    probe.outcome(test_id, kind)


def pytest_sessionfinish(session: pytest.Session) -> None:
    probe.write(os.environ.get("COMPAT_SUITE", "pytest"))
