"""Strict mode, proved on a user's project (``tests/strict_project``) run by pytest and by Django's runner in
subprocesses, as a user runs them: the option, the ini key, the setting, the allow lists, set-up left out."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.test import override_settings
from django.utils.translation import ngettext_lazy

from dt_signals_panel import kinds, wrappers
from dt_signals_panel.checks import check_settings
from dt_signals_panel.findings import receiver_errors
from dt_signals_panel.recorder import capture
from dt_signals_panel.runner import SignalsDiscoverRunner
from dt_signals_panel.stats import findings_of
from dt_signals_panel.strict import SignalsFailure, StrictCheck, judge, project_allow, project_setting
from tests.testapp.models import Author, Book

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Path(__file__).resolve().parent / "strict_project"
RUNNER = "dt_signals_panel.runner.SignalsDiscoverRunner"

#: The tests of the project that make a finding in their own body and allow none of it.
WITH_FINDINGS = {
    "test_orders.py::test_rename",
    "test_orders.py::test_log_out",
    "test_orders.py::test_arename",
    "test_orders_testcase.py::OrderTests::test_rename",
    "test_orders_testcase.py::OrderTests::test_log_out",
    "test_orders_testcase.py::AsyncOrderTests::test_arename",
}


PROBE = """\
from dt_signals_panel.signals import BUILTIN
from dt_signals_panel.wrappers import is_installed


def test_probe():
    assert not any(is_installed(signal) for signal in BUILTIN.values())
"""


def copy_project(into: Path) -> Path:
    for source in PROJECT.iterdir():
        if source.is_file():
            shutil.copy(source, into / source.name)
    return into


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def run_pytest(project: Path, *args: str) -> tuple[dict[str, str], str]:
    """Each test's outcome by node id, and the whole output."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    outcomes = dict(
        (node, outcome) for outcome, node in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", done.stdout, re.MULTILINE)
    )
    return outcomes, done.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, str], str]]:
    """The project with a probe test, run once without strict mode and once with it (shared: each run is a
    Django start and a test database)."""
    project = copy_project(tmp_path_factory.mktemp("strict_project"))
    (project / "test_probe.py").write_text(PROBE)
    return {"off": run_pytest(project), "strict": run_pytest(project, "--signals-strict")}


def failed(outcomes: dict[str, str]) -> set[str]:
    return {node for node, outcome in outcomes.items() if outcome != "PASSED"}


def run_django(project: Path, *args: str, settings: str = "tests.settings") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "django", "test", f"--settings={settings}", "--noinput", "--testrunner", RUNNER, *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    return done.stderr


@pytest.mark.slow
def test_without_strict_mode_the_same_tests_all_pass_and_no_signal_is_wrapped(runs):
    outcomes, _ = runs["off"]
    assert len(outcomes) == 12
    # the probe: no wrapper on any signal during a test
    assert failed(outcomes) == set()


@pytest.mark.slow
def test_strict_mode_fails_each_test_whose_body_made_a_finding_with_the_table_under_it(runs):
    outcomes, out = runs["strict"]
    assert failed(outcomes) == WITH_FINDINGS | {"test_probe.py::test_probe"}
    # each finding with its call site and the allow entry that would cover it
    assert "redundant save: testapp.Book #1 was saved 2 times in this request (orders.py:18 in rename" in out
    assert "known and wanted? allow ('testapp.Book', 'nothing_changed')" in out
    assert (
        "receiver error: orders.audit_logout raised RuntimeError: audit log unreachable on user_logged_out from "
        "testapp.Author, and send_robust() returned it instead of raising (orders.py:37 in log_out)"
    ) in out
    assert "known and wanted? allow ('user_logged_out', 'orders.audit_logout')" in out
    # the report is the failure's text, not a traceback into the plugin, and the table is under it
    assert out.count("Signals sent (dt_signals_panel)") == len(WITH_FINDINGS)
    assert "dt_signals_panel/pytest_plugin.py" not in out
    assert "dt_signals_panel/strict.py" not in out


@pytest.mark.slow
def test_strict_mode_changes_no_outcome_of_tests_without_findings(runs):
    before, after = runs["off"][0], runs["strict"][0]
    clean = set(before) - WITH_FINDINGS - {"test_probe.py::test_probe"}
    assert len(clean) == 5
    assert {node: after[node] for node in clean} == {node: before[node] for node in clean}


@pytest.mark.slow
def test_the_ini_key_turns_strict_mode_on_as_the_option_does(project):
    with open(project / "pytest.ini", "a") as ini:
        ini.write("signals_strict = true\n")
    outcomes, _ = run_pytest(project)
    assert failed(outcomes) == WITH_FINDINGS


@pytest.mark.slow
def test_fixtures_set_up_is_judged_only_when_asked(project):
    outcomes, out = run_pytest(project, "--signals-strict", "--signals-strict-setup", "-p", "no:randomly")
    # the book fixture and setUp save their row twice: now their tests fail too
    assert failed(outcomes) == WITH_FINDINGS | {
        "test_orders.py::test_publish",
        "test_orders_testcase.py::OrderTests::test_publish",
    }
    # the test database, created by a session fixture during the first test's set-up, is no test's own
    assert "post_migrate" not in out


@pytest.mark.slow
def test_allow_lists_come_from_the_mark_the_decorator_and_the_settings(runs, project):
    outcomes, _ = runs["strict"]
    assert outcomes["test_orders.py::test_rename_known"] == "PASSED"  # @pytest.mark.signals_allow
    assert outcomes["test_orders.py::test_log_out_known"] == "PASSED"
    assert outcomes["test_orders_testcase.py::OrderTests::test_rename_known"] == "PASSED"  # @signals_allow
    # DT_SIGNALS_PANEL["STRICT_ALLOW"] allows redundant saves of books everywhere: receiver errors remain
    outcomes, _ = run_pytest(project, "--signals-strict", "--ds=settings_allow")
    assert failed(outcomes) == {"test_orders.py::test_log_out", "test_orders_testcase.py::OrderTests::test_log_out"}


@pytest.mark.slow
def test_djangos_runner_judges_test_methods_with_the_option_or_the_setting(project):
    assert "\nOK" in run_django(project)  # off by default
    out = run_django(project, "--signals-strict")
    assert "FAILED (failures=3)" in out
    for name in ("test_rename", "test_log_out", "test_arename"):
        assert f"FAIL: {name} (" in out
    assert "redundant save: testapp.Book #1 was saved 2 times in this request (orders.py:18 in rename" in out
    assert "Signals sent (dt_signals_panel)" in out
    # the traceback ends at unittest's call of the test, not in our module
    assert "dt_signals_panel/strict.py" not in out
    # setUp is judged only when asked
    assert "FAILED (failures=4)" in run_django(project, "--signals-strict", "--signals-strict-setup")
    # DT_SIGNALS_PANEL = {"STRICT": True, "STRICT_ALLOW": [...]}: on without the option, saves allowed
    out = run_django(project, settings="settings_allow")
    assert "FAILED (failures=1)" in out
    assert "FAIL: test_log_out (" in out


@pytest.mark.slow
def test_strict_mode_runs_under_xdist(project):
    outcomes, _ = run_pytest(project, "--signals-strict", "-n", "2")
    assert failed(outcomes) == WITH_FINDINGS


def _failing_receiver(sender, **kwargs):
    raise ValueError("no audit")


async def test_a_receiver_error_swallowed_by_asend_robust_is_judged_and_can_be_allowed():
    user_logged_out.connect(_failing_receiver, dispatch_uid="test_strict")
    try:
        async with capture() as recording:
            await user_logged_out.asend_robust(sender="shop", request=None, user=None)
    finally:
        user_logged_out.disconnect(dispatch_uid="test_strict")
    (found,) = receiver_errors(recording.events)
    assert (found["mode"], found["receiver"], found["error"]) == (
        "asend_robust",
        "tests.test_strict._failing_receiver",
        "ValueError: no audit",
    )
    assert len(judge(recording)) == 1
    assert judge(recording, ["tests.test_strict._failing_receiver"]) == []
    assert judge(recording, [("tests.test_strict._failing_receiver", "ValueError")]) == []
    assert len(judge(recording, [("tests.test_strict._failing_receiver", "KeyError")])) == 1
    assert judge(recording, ["*"]) == []


def test_a_receiver_error_under_plain_send_is_not_a_finding_since_it_reaches_the_caller():
    user_logged_out.connect(_failing_receiver, dispatch_uid="test_strict")
    try:
        with capture() as recording, pytest.raises(ValueError):
            user_logged_out.send(sender="shop", request=None, user=None)
    finally:
        user_logged_out.disconnect(dispatch_uid="test_strict")
    assert receiver_errors(recording.events) == []


def test_the_system_check_validates_the_strict_settings():
    with override_settings(DT_SIGNALS_PANEL={"STRICT": "yes", "STRICT_ALLOW": [("a", "b"), "shop.Book", 5]}):
        errors = check_settings()
        # as every setting: a bad value counts as its default until fixed
        assert (project_setting("STRICT"), project_allow()) == (False, [])
    assert [e.id for e in errors] == ["dt_signals_panel.E008", "dt_signals_panel.E009"]
    assert "5" in errors[1].msg
    with override_settings(DT_SIGNALS_PANEL={"STRICT_ALLOW": "shop.Book"}):
        assert [e.id for e in check_settings()] == ["dt_signals_panel.E009"]
    with override_settings(DT_SIGNALS_PANEL={"STRICT": True, "STRICT_SETUP": False, "STRICT_ALLOW": [["a", "b"]]}):
        assert check_settings() == []


@pytest.mark.django_db
def test_a_strict_failure_pickles_with_its_table_for_djangos_parallel_runner():
    with capture() as recording:
        Author.objects.create(name="Pickled")
    failure = SignalsFailure("strict signals: 1 finding in this test", recording)
    copy = pickle.loads(pickle.dumps(failure))
    assert str(copy) == str(failure)
    assert "Signals sent (dt_signals_panel)" in str(copy)
    assert "post_save (1)" in str(copy)


def _author_saves(source: kinds.Source) -> list[dict[str, Any]]:
    return [
        {"kind": "author_saved", "seqs": [event["seq"]], "model": event["sender"], "message": "author saved"}
        for event in source.events
        if event["signal"] == "post_save" and event["sender"] == "testapp.Author"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("severity", "judged"), [("problem", True), ("notice", False)])
def test_a_kind_registered_later_is_judged_when_its_severity_is_problem(severity, judged):
    kind = kinds.Kind(
        id="author_saved",
        family="authors_saved",
        severity=severity,
        words="author saved",
        label=ngettext_lazy("%(n)d author saved", "%(n)d authors saved", "n"),
        finder=_author_saves,
        allow=kinds.AllowShape(one="model", pair=("model", "kind")),
    )
    with kinds.registered(kind):
        with StrictCheck([]) as check:
            Author.objects.create(name="Registered")
        failure = check.failure()
        with StrictCheck([("testapp.Author", "author_saved")]) as allowed:
            Author.objects.create(name="Allowed")
        assert allowed.failure() is None
    if judged:
        assert failure is not None
        assert "  - author saved\n    known and wanted? allow ('testapp.Author', 'author_saved')" in failure
    else:
        assert failure is None


# -- what strict mode costs (make strict-cost measures it on real suites) --------------------------------
def test_djangos_runner_in_strict_mode_keeps_the_wrappers_on_between_tests_and_takes_them_off_after_the_run():
    on_in_set_up: list[bool] = []

    class Cases(unittest.TestCase):
        def setUp(self) -> None:  # not judged: no capture is open here
            on_in_set_up.append(wrappers.is_installed(post_save))

        def test_one(self) -> None:
            pass

        def test_two(self) -> None:
            pass

    suite = unittest.TestLoader().loadTestsFromTestCase(Cases)
    result = SignalsDiscoverRunner(signals_strict=True, verbosity=0).run_suite(suite)
    assert result.wasSuccessful()
    # each test's capture found the wrappers in place instead of putting about sixty on and off again
    assert on_in_set_up == [True, True]
    assert not wrappers.is_installed(post_save)


def _echo_code(sender: Any, credentials: dict[str, Any] | None = None, **kwargs: Any) -> None:
    raise ValueError(f"bad code {credentials['otp']!r}" if credentials else "no credentials")


@pytest.mark.django_db
def test_strict_mode_records_no_stacks_and_judges_the_findings_a_full_capture_shows():
    author = Author.objects.create(name="Stacked")
    user_login_failed.connect(_echo_code, dispatch_uid="test_strict_echo")
    try:
        with capture() as full, StrictCheck([]) as check:
            book = Book.objects.create(title="Dune", author=author)
            book.save()
            user_login_failed.send_robust(sender="shop", credentials={"username": "ann", "otp": "739164"}, request=None)
    finally:
        user_login_failed.disconnect(dispatch_uid="test_strict_echo")
    assert full.stacks
    assert not check.recording.stacks
    # the same findings, call sites included, and the masked code echoed by the receiver's error scrubbed
    found = findings_of(check.recording)
    assert found == findings_of(full) == full.stats()["findings"]
    assert {family for family, items in found.items() if items} >= {"redundant_saves", "receiver_errors"}
    assert "739164" not in json.dumps(found)
    assert judge(check.recording) == judge(full)
    assert "(tests/test_strict.py:" in check.failure()  # type: ignore[operator]


@pytest.mark.django_db
def test_strict_mode_keeps_the_stacks_when_their_locals_are_shown_since_they_mask_values_too():
    with override_settings(DEBUG_TOOLBAR_CONFIG={"ENABLE_STACKTRACES_LOCALS": True}), StrictCheck([]) as check:
        Author.objects.create(name="Local")
    assert check.recording.stacks
