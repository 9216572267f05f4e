"""The pytest plugin, registered through the ``pytest11`` entry point: the ``signal_capture`` and
``signal_snapshot`` fixtures, strict mode (``--signals-strict``) and ``--signals-snapshot-update``.

pytest imports entry-point plugins before pytest-django configures settings, so this module imports pytest
alone; the recorder is imported when a test asks for it. With strict mode off and no fixture of ours
requested, a test costs the few attribute reads of the hooks below: nothing is recorded, no signal wrapped.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dt_signals_panel.recorder import Recording, capture
    from dt_signals_panel.signal_snapshot import TestRef
    from dt_signals_panel.strict import StrictCheck

#: As strict.TABLE_TITLE, which cannot be imported before Django's settings are.
TABLE_TITLE = "Signals sent (dt_signals_panel)"


@dataclass(frozen=True)
class _Settings:
    strict: bool
    strict_setup: bool
    snapshot_update: bool


_settings_key: pytest.StashKey[_Settings] = pytest.StashKey()
_capture_key: pytest.StashKey[capture] = pytest.StashKey()
_snapshot_key: pytest.StashKey[tuple[capture, str]] = pytest.StashKey()
_strict_key: pytest.StashKey[StrictCheck] = pytest.StashKey()
_ref_key: pytest.StashKey[TestRef] = pytest.StashKey()
_failed_key: pytest.StashKey[bool] = pytest.StashKey()
#: In strict mode, from the first test judged to the end of the session: the send wrappers held on.
_held_key: pytest.StashKey[ExitStack] = pytest.StashKey()
#: The item being run (one at a time per process), for ``expect_signal_snapshot()``.
_running: list[pytest.Item] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dt_signals_panel", "signals (dt_signals_panel)")
    group.addoption(
        "--signals-strict",
        action="store_true",
        default=False,
        help="fail every test that makes a redundant save, sends a credential in clear or swallows a receiver "
        "error (ini: signals_strict)",
    )
    group.addoption(
        "--signals-strict-setup",
        action="store_true",
        default=False,
        help="in strict mode, judge the set-up of fixtures too (ini: signals_strict_setup)",
    )
    group.addoption(
        "--signals-snapshot-update",
        action="store_true",
        default=False,
        help="rewrite the signal snapshots (*.signals.json) that differ from this run",
    )
    parser.addini(
        "signals_strict", "strict signal checks for every test (dt_signals_panel)", type="bool", default=False
    )
    parser.addini("signals_strict_setup", "judge fixtures' set-up in strict mode", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "signals_allow(*entries): findings strict mode allows in this test (the entries `allow` takes)",
    )
    settings = _Settings(
        strict=bool(config.getoption("signals_strict") or config.getini("signals_strict")),
        strict_setup=bool(config.getoption("signals_strict_setup") or config.getini("signals_strict_setup")),
        snapshot_update=bool(config.getoption("signals_snapshot_update")),
    )
    config.stash[_settings_key] = settings
    if settings.strict and settings.strict_setup:
        config.pluginmanager.register(_StrictSetup(), "dt_signals_panel_strict_setup")
    from dt_signals_panel import signal_snapshot  # the standard library only

    signal_snapshot.configure(update=settings.snapshot_update, root=config.rootpath, provider=_current_ref)


def pytest_unconfigure(config: pytest.Config) -> None:
    held = config.stash.get(_held_key, None)
    if held is not None:
        held.close()


def _hold_wrappers(config: pytest.Config) -> None:
    """Strict mode's wrappers stay on from its first test to the session's end (``strict.held_wrappers``);
    taken at the first test, when Django's settings are surely configured."""
    if _held_key not in config.stash:
        from dt_signals_panel.strict import held_wrappers

        held = config.stash[_held_key] = ExitStack()
        held.enter_context(held_wrappers())


def _current_ref() -> TestRef | None:
    return _ref_of(_running[-1]) if _running else None


def _ref_of(item: pytest.Item) -> TestRef:
    ref = item.stash.get(_ref_key, None)
    if ref is None:
        from dt_signals_panel.signal_snapshot import TestRef

        ref = item.stash[_ref_key] = TestRef(item.path, item.nodeid.split("::", 1)[-1])
    return ref


def _allow_of(item: pytest.Item) -> list[Any]:
    entries = [entry for mark in item.iter_markers("signals_allow") for entry in mark.args]
    return [tuple(entry) if isinstance(entry, list) else entry for entry in entries]


def _is_unittest(item: pytest.Item) -> bool:
    return type(item).__name__ == "TestCaseFunction"


def _strict_check(item: pytest.Item) -> StrictCheck:
    # (A TestCase method is judged by strict.unittest_hooks, which reads its signals_allow itself.)
    from dt_signals_panel.strict import StrictCheck, project_allow

    return StrictCheck([*_allow_of(item), *project_allow()])


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


@pytest.fixture
def signal_snapshot(request: pytest.FixtureRequest) -> Iterator[Recording]:
    """Records the test function's body and, once it has passed, compares what it sent with the test's
    record in ``<test module>.signals.json``: a new record is written, a different one fails the test with a
    diff (``--signals-snapshot-update`` rewrites it)."""
    from dt_signals_panel.recorder import capture

    opened = capture()
    request.node.stash[_snapshot_key] = (opened, _ref_of(request.node).key_for(None))
    yield opened.recording
    del request.node.stash[_snapshot_key]


class _StrictSetup:
    """Registered only with ``--signals-strict-setup``: a test's own fixtures are judged with its body."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        if not _is_unittest(item):  # unittest's setUp is judged by strict.unittest_hooks
            _hold_wrappers(item.config)
            check = item.stash[_strict_key] = _strict_check(item)
            check.open()
            _running.append(item)
            try:
                return (yield)
            finally:
                _running.remove(item)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, Any, Any]:
        # (request.node is the session or module for such a fixture: the test is the one being set up.)
        check = _running[-1].stash.get(_strict_key, None) if _running and fixturedef.scope != "function" else None
        if check is None:
            return (yield)
        # A session, module or class fixture (the test database, setUpTestData) is shared by many tests: it is
        # no test's own set-up, so strict mode does not record it even when judging set-up.
        from dt_signals_panel.wrappers import open_recordings

        recording = check.recording
        token = open_recordings.set(tuple(r for r in open_recordings.get() if r is not recording))
        try:
            return (yield)
        finally:
            open_recordings.reset(token)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        check = item.stash.get(_strict_key, None)
        if check is not None:  # set-up failed before the test could close it
            check.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    __tracebackhide__ = True
    settings = item.config.stash[_settings_key]
    opened = item.stash.get(_capture_key, None)
    snapshot = item.stash.get(_snapshot_key, None)
    check = item.stash.get(_strict_key, None)
    _running.append(item)  # for expect_signal_snapshot()
    try:
        if opened is None and snapshot is None and check is None and not settings.strict:
            return (yield)
        return (yield from _judged_call(item, settings, opened, snapshot, check))
    finally:
        _running.remove(item)


def _judged_call(
    item: pytest.Item,
    settings: _Settings,
    opened: capture | None,
    snapshot: tuple[capture, str] | None,
    check: StrictCheck | None,
) -> Generator[None, None, None]:
    __tracebackhide__ = True
    if settings.strict:
        _hold_wrappers(item.config)
    with ExitStack() as stack:
        if check is not None:  # opened at set-up
            stack.callback(check.close)
        elif settings.strict and _is_unittest(item):
            from dt_signals_panel.strict import unittest_hooks

            # unittest runs setUp, the test and tearDown in one call: judge the test method (and setUp if asked).
            stack.enter_context(unittest_hooks(setup=settings.strict_setup, extra_allow=lambda: _allow_of(item)))
        elif settings.strict:
            check = item.stash[_strict_key] = stack.enter_context(_strict_check(item))
        if snapshot is not None:
            stack.enter_context(snapshot[0])
        if opened is not None:
            stack.enter_context(opened)
        # The test's exception goes through here untouched: a failing test is judged no further.
        result = yield
    failures = []
    recording = None
    if snapshot is not None:
        from dt_signals_panel.signal_snapshot import SignalSnapshotError

        ref = _current_ref()
        assert ref is not None
        try:
            ref.check(snapshot[1], snapshot[0].recording)
        except (AssertionError, SignalSnapshotError) as error:
            failures.append(str(error))
            recording = snapshot[0].recording
    if check is not None:
        message = check.failure()
        if message:
            failures.append(message)
            recording = check.recording
    if failures:
        from dt_signals_panel.strict import SignalsFailure

        raise SignalsFailure("\n\n".join(failures), recording)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[_failed_key] = True
    if call.when == "teardown":
        ref = item.stash.get(_ref_key, None)
        # Snapshots are written once every phase passed: a failing test never rewrites its record.
        if ref is not None and not item.stash.get(_failed_key, False):
            try:
                ref.flush()
            except Exception as problem:  # a file made unreadable since the test read it
                report.outcome = "failed"
                report.longrepr = str(problem)
        return report
    if call.when != "call" or not report.failed:
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    strict = sys.modules.get("dt_signals_panel.strict")  # not imported unless strict mode or a snapshot ran
    if strict is not None and isinstance(error, strict.SignalsFailure):
        report.longrepr = error.text
        if error.recording is not None:
            report.sections.append((TABLE_TITLE, error.recording.as_table()))
        return report
    opened = item.stash.get(_capture_key, None)
    if opened is not None:
        report.sections.append((TABLE_TITLE, opened.recording.as_table()))
    return report
