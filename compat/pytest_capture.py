"""pytest plugin for a third-party suite run under pytest (django-model-utils): ``-p pytest_capture``.

Loaded in both runs, so both measure the same way: the probe counts receiver calls per test and takes each
test's outcome from its reports. With ``COMPAT_MODE=captured`` the test's call phase (for a unittest-style
case: setUp, the test and tearDown) runs inside ``dt_signals_panel.capture()``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import outcome_hooks
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
    found = outcome_hooks.pytest_outcome(report)
    if found is not None:
        probe.outcome(*found)


def pytest_sessionfinish(session: pytest.Session) -> None:
    probe.write(os.environ.get("COMPAT_SUITE", "pytest"))
