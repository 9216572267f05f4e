"""The pytest plugin, registered through the ``pytest11`` entry point: the ``signal_capture`` fixture.

pytest imports entry-point plugins before pytest-django configures settings, so this module imports pytest
alone; the recorder is imported when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dt_signals_panel.recorder import Recording, capture

_capture_key: pytest.StashKey[capture] = pytest.StashKey()


@pytest.fixture
def signal_capture(request: pytest.FixtureRequest) -> Iterator[Recording]:
    """The signals the test function sends: its body only, not the set-up of other fixtures (whatever
    order they are requested in). Check it with ``dt_signals_panel.testing``; when the test fails, the
    recording is printed as a table under the failure."""
    from dt_signals_panel.recorder import capture

    opened = capture()
    request.node.stash[_capture_key] = opened
    yield opened.recording
    del request.node.stash[_capture_key]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    opened = item.stash.get(_capture_key, None)
    if opened is None:
        yield
        return
    # The test's exception is held in the outcome, so the capture always closes here, in the test's context.
    with opened:
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    opened = item.stash.get(_capture_key, None)
    if opened is None or call.when != "call":
        return
    report: pytest.TestReport = outcome.get_result()
    if report.failed:
        report.sections.append(("Signals sent (dt_signals_panel)", opened.recording.as_table()))
