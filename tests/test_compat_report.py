"""``make compat`` fails, naming the test and the receiver, whenever a suite behaves differently under capture.

The driver's comparison is what decides whether CI goes green on third-party suites, so a comparison that
missed a difference would hide exactly the observer effects it exists to find.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parent.parent / "compat" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compat_run", RUN_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compat_run"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def results(outcomes: dict[str, str], receivers: dict[str, dict[str, int]]) -> dict[str, object]:
    return {"outcomes": outcomes, "receivers": receivers}


def test_two_runs_that_agree_give_no_report(run):
    same = results({"t.a": "pass", "t.b": "skip"}, {"t.a": {"post_save | app.receiver | app.Note": 2}})
    assert run.compare(run.SUITES[0], same, same) == []


def test_an_outcome_that_changes_under_capture_is_reported_with_both_outcomes(run):
    plain = results({"t.a": "pass", "t.b": "pass"}, {})
    captured = results({"t.a": "pass", "t.b": "error"}, {})
    lines = run.compare(run.SUITES[0], plain, captured)
    assert "    t.b: pass -> error" in lines
    assert not any("t.a" in line for line in lines)


def test_a_test_missing_from_one_run_is_reported(run):
    lines = run.compare(run.SUITES[0], results({"t.a": "pass"}, {}), results({}, {}))
    assert "    t.a: pass -> (not run)" in lines


def test_extra_receiver_calls_are_reported_per_receiver_and_per_test_with_the_totals(run):
    key = f"post_init | {run.EVERY_SEND} | app.Poll"
    own = "post_save | app.receiver | app.Note"
    plain = results({"t.a": "pass", "t.b": "pass"}, {"t.a": {key: 3, own: 1}, "t.b": {own: 1}})
    captured = results({"t.a": "pass", "t.b": "pass"}, {"t.a": {key: 5, own: 1}, "t.b": {own: 1}})
    lines = run.compare(run.SUITES[0], plain, captured)
    assert "  receivers received 5 calls plain and 7 captured (+2), differing in 1 of 2 tests" in lines
    assert any(line.startswith("  of which the suite's own receivers: 2 -> 2 (+0)") for line in lines)
    assert f"    {key}: 3 -> 5 (+2)" in lines
    assert "    t.a: 4 -> 6 (+2)" in lines
    assert not any(own in line for line in lines)


def test_long_lists_are_cut_with_how_many_more_there_are(run):
    lines = ["  heading:", *(f"    item {i}" for i in range(run.SHOWN + 3)), "  next:"]
    shown = run.shorten(lines)
    assert f"    item {run.SHOWN - 1}" in shown
    assert f"    item {run.SHOWN}" not in shown
    assert "    ... and 3 more" in shown
    assert shown[-1] == "  next:"
