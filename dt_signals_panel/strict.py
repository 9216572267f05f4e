"""Strict mode: every test of a suite recorded, and failed when it shows a finding nobody allowed.

The pytest plugin (``--signals-strict``) and the Django test runner (``dt_signals_panel.runner``) both come
here: a :class:`StrictCheck` records one test and says what is wrong with it, and :func:`unittest_hooks`
judges ``TestCase`` methods. What is judged is the finding registry (``kinds.py``): every kind whose
severity is ``problem``, its allow entries read as ``dt_signals_panel.testing`` reads them, so a kind
registered later is judged with no change here.

Only the test itself is judged: fixtures and ``setUp`` make rows the way a test needs them, which is rarely
the way the application should (``--signals-strict-setup`` / ``STRICT_SETUP`` judge them too).

Strict mode must cost a suite little (at most a tenth of its time, ``make strict-cost``), so what it opens
per test is lean: the send wrappers stay on the built-in signals for the whole run (:func:`held_wrappers`),
each test's capture records no stack trace unless the stacks' locals are shown (:func:`capture_config`), and
a test is judged from its findings alone (``stats.findings_of``), never the whole stats. The findings are
those of a full capture.
"""

from __future__ import annotations

import dataclasses
import unittest
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dt_signals_panel import testing
from dt_signals_panel.conf import DEFAULTS, Config, get_config, validated
from dt_signals_panel.recorder import Recording, capture
from dt_signals_panel.signals import BUILTIN
from dt_signals_panel.testing import Allow
from dt_signals_panel.wrappers import install, uninstall

# unittest leaves this module's frames out of a failure's traceback (see testing.py).
__unittest = True

#: Where ``signals_allow`` puts its entries on a test function or class.
ALLOW_ATTRIBUTE = "dt_signals_allow"

Finding = dict[str, Any]


# -- what is judged -------------------------------------------------------------------------------------
def judge(recording: Recording, allow: Sequence[Allow] = ()) -> list[Finding]:
    """The findings of ``recording`` that ``allow`` does not cover, of every kind registered in ``kinds.py``
    with severity ``problem`` (read at each judgement, so a kind registered later is judged too), in the
    order the kinds were registered; each entry is read the way the finding's kind says. The same list
    ``testing.assert_no_problems`` fails on."""
    return testing.problems(recording, allow)


def failure_message(problems: Sequence[Finding]) -> str:
    lines = [
        ngettext(
            "strict signals: %(n)d finding in this test",
            "strict signals: %(n)d findings in this test",
            len(problems),
        )
        % {"n": len(problems)}
    ]
    for finding in problems:
        lines.append(f"  - {finding['message']}")
        lines.append("    " + _("known and wanted? allow %(entry)r") % {"entry": testing.allow_hint(finding)})
    lines.append(
        _(
            "Allow a known case with @pytest.mark.signals_allow(entry) on the test, "
            "@signals_allow(entry) on a TestCase method, or DT_SIGNALS_PANEL['STRICT_ALLOW']."
        )
    )
    return "\n".join(lines)


# -- allow lists ----------------------------------------------------------------------------------------
F = TypeVar("F")


def signals_allow(*entries: Allow) -> Callable[[F], F]:
    """Allow known findings in strict mode for one test method or a whole ``TestCase`` class, with the
    entries the assertions take: ``@signals_allow((Author, "nothing_changed"), "pin")``. (Under pytest,
    ``@pytest.mark.signals_allow(...)`` does the same.)"""

    def decorate(target: F) -> F:
        # On the test's own function or class, never on an application object.
        previous = target.__dict__.get(ALLOW_ATTRIBUTE, ())
        setattr(target, ALLOW_ATTRIBUTE, (*previous, *entries))
        return target

    return decorate


def allow_of(test_class: type, method_name: str) -> list[Allow]:
    """Entries given by ``signals_allow`` on the method and on the class (and its bases)."""
    method = getattr(test_class, method_name, None)
    entries = list(getattr(method, ALLOW_ATTRIBUTE, ()))
    for klass in test_class.__mro__:
        entries += klass.__dict__.get(ALLOW_ATTRIBUTE, ())
    return entries


def _project_settings() -> dict[str, Any]:
    """``DT_SIGNALS_PANEL`` with each bad value replaced by its default (reported by the system checks)."""
    try:
        ours, _djdt, _problems = validated()
    except Exception:  # settings that cannot even be read: the check reports it
        return dict(DEFAULTS)
    return ours


def project_allow() -> list[Allow]:
    """``DT_SIGNALS_PANEL['STRICT_ALLOW']``; a pair written as a list in settings is a pair."""
    return [tuple(entry) if isinstance(entry, list) else entry for entry in _project_settings()["STRICT_ALLOW"]]


def project_setting(key: str) -> bool:
    return bool(_project_settings()[key])


# -- the run --------------------------------------------------------------------------------------------
@contextmanager
def held_wrappers() -> Iterator[None]:
    """The send wrappers on every built-in signal for the whole strict run, as an open capture holds them.

    Each test's capture would otherwise put about sixty wrappers on and take them off again, which costs
    more than recording a test that sends little. Held, a capture only counts itself in; between tests the
    wrappers pass every send straight on, recording nothing (no capture is open). Only the built-in
    signals: every capture tracks them, whatever a test's settings say, so no capture records a signal it
    does not track. Processes forked by Django's parallel runner inherit them."""
    signals = {signal: name for name, signal in BUILTIN.items()}
    install(signals)
    try:
        yield
    finally:
        uninstall(signals)


def capture_config() -> Config:
    """The settings of the capture strict mode opens per test: the project's, without stack traces unless
    their frames' locals are shown. Nothing strict mode judges or prints reads a stack (a finding names its
    call sites, which are still found), and a stack is the costliest part of recording a send. Locals shown
    may hold values that must be masked in the findings' text too, so then the stacks are kept."""
    config = get_config()
    if config.stacktraces and not config.stack_locals:
        return dataclasses.replace(config, stacktraces=False)
    return config


# -- one test -------------------------------------------------------------------------------------------
class StrictCheck:
    """Records one test (``with``, or :meth:`open` / :meth:`close` across set-up and call) and says what
    strict mode finds wrong with it."""

    def __init__(self, allow: Sequence[Allow]) -> None:
        self.allow = list(allow)
        self._capture: capture | None = None

    @property
    def recording(self) -> Recording:
        assert self._capture is not None
        return self._capture.recording

    def open(self) -> None:
        if self._capture is None:
            self._capture = capture(capture_config())
            self._capture.__enter__()

    def close(self) -> None:
        if self._capture is not None and not self._capture.recording.closed:
            self._capture.__exit__(None, None, None)

    def __enter__(self) -> StrictCheck:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def failure(self) -> str | None:
        """The failure text, or None when the test passes strict mode."""
        problems = judge(self.recording, self.allow)
        return failure_message(problems) if problems else None


class SignalsFailure(AssertionError):
    """Strict mode or a snapshot failed a test that passed otherwise. Its text is the whole report; the
    recording's table follows it under unittest, and goes in its own section under pytest."""

    def __init__(self, text: str, recording: Recording | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.recording = recording

    def __reduce__(self) -> tuple[type[SignalsFailure], tuple[str]]:
        # Django's parallel runner pickles a failure back to the main process: the text, table included.
        return SignalsFailure, (str(self),)

    def __str__(self) -> str:
        if self.recording is None:
            return self.text
        return f"{self.text}\n\n{TABLE_TITLE}\n{self.recording.as_table()}"


TABLE_TITLE = "Signals sent (dt_signals_panel)"


@contextmanager
def unittest_hooks(*, setup: bool, extra_allow: Callable[[], Sequence[Allow]] = list) -> Iterator[None]:
    """Judge every ``unittest.TestCase`` test method run inside: Django's ``TestCase`` and plain unittest
    (``IsolatedAsyncioTestCase`` runs its methods itself and is not judged). unittest has no hook around
    the test method alone, so ``TestCase._callTestMethod`` (and ``_callSetUp`` when set-up is judged) is
    wrapped for the run and restored after it; the failure is raised inside the test, so unittest, Django's
    parallel runner and pytest all report it as a failure of that test."""
    base = unittest.TestCase
    saved = {name: base.__dict__[name] for name in ("_callSetUp", "_callTestMethod")}
    checks: dict[int, StrictCheck] = {}

    def allow_for(test: unittest.TestCase) -> list[Allow]:
        return [*allow_of(type(test), test._testMethodName), *extra_allow(), *project_allow()]

    def call_set_up(test: unittest.TestCase) -> None:
        check = checks[id(test)] = StrictCheck(allow_for(test))
        check.open()
        # When setUp or the test fails, nothing is judged but the capture still closes.
        test.addCleanup(check.close)
        test.addCleanup(checks.pop, id(test), None)
        saved["_callSetUp"](test)

    def call_test_method(test: unittest.TestCase, method: Callable[[], Any]) -> None:
        __tracebackhide__ = True
        check = checks.pop(id(test), None) or StrictCheck(allow_for(test))
        with check:
            saved["_callTestMethod"](test, method)
        message = check.failure()
        if message:
            raise SignalsFailure(message, check.recording)

    if setup:
        setattr(base, "_callSetUp", call_set_up)  # noqa: B010 - private to unittest and to its stubs
    setattr(base, "_callTestMethod", call_test_method)  # noqa: B010
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(base, name, original)
