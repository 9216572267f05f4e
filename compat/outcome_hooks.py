"""How every compat run tells a test's outcome, the same way in the plain and the captured or strict run:
unittest's result methods and pytest's reports, each outcome handed to a ``record(test_id, kind)`` of the
caller's (``probe.outcome`` for ``make compat``, ``outcomes.outcome`` for ``make strict-cost``).

Kinds: ``pass``, ``fail``, ``error``, ``skip``, ``xfail``, ``xpass``; a failing subTest is an outcome of its
own, named as unittest names it. No side effect on import: nothing is hooked until asked.
"""

from __future__ import annotations

import unittest
from collections.abc import Callable
from typing import Any

#: unittest's result methods and the kind each one reports.
UNITTEST_KINDS = (
    ("addSuccess", "pass"),
    ("addFailure", "fail"),
    ("addError", "error"),
    ("addSkip", "skip"),
    ("addExpectedFailure", "xfail"),
    ("addUnexpectedSuccess", "xpass"),
)


def hook_unittest(record: Callable[[str, str], None]) -> None:
    """Hook ``unittest.TestResult``, which every result class (Django's included) reaches through ``super()``."""
    for method, kind in UNITTEST_KINDS:
        _hook(method, kind, record)
    original = unittest.TestResult.addSubTest

    def addSubTest(self: unittest.TestResult, test: unittest.TestCase, subtest: Any, err: Any) -> Any:
        if err is not None:
            record(subtest.id(), "fail" if issubclass(err[0], test.failureException) else "error")
        return original(self, test, subtest, err)

    unittest.TestResult.addSubTest = addSubTest  # type: ignore[method-assign]


def _hook(method: str, kind: str, record: Callable[[str, str], None]) -> None:
    original = getattr(unittest.TestResult, method)

    def hook(self: unittest.TestResult, test: unittest.TestCase, *args: Any) -> Any:
        record(test.id(), kind)
        return original(self, test, *args)

    setattr(unittest.TestResult, method, hook)


def pytest_outcome(report: Any) -> tuple[str, str] | None:
    """A pytest report's test id and kind; ``None`` for a report that is no outcome of its own."""
    describe = getattr(report, "_sub_test_description", None)
    if report.passed and (report.when != "call" or describe is not None):
        return None  # a passing subTest is not a test of its own, as in unittest
    if hasattr(report, "wasxfail"):
        kind = "xfail" if report.skipped else "xpass"
    elif report.skipped:
        kind = "skip"
    elif report.failed:
        kind = "fail" if report.when == "call" else "error"
    else:
        kind = "pass"
    # pytest 9 reports each unittest subTest apart, under the test's node id: name them like unittest does.
    return (f"{report.nodeid} {describe()}" if describe is not None else report.nodeid), kind
