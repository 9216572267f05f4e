"""Each test's outcome, for ``compat/strict_cost.py``: nothing else, so the runs it times pay almost nothing.

Two ways in, loaded identically in the plain and the strict run of a suite:

- under pytest, ``-p outcomes`` (the pytest hooks below);
- under a Django-test-runner script, :func:`install_unittest` (called by ``strict_boot.py``), which wraps
  the outcome methods of ``unittest.TestResult``; Django's result classes and the main process of its
  parallel runner (which replays each worker's events) all reach them.

:func:`write` puts ``{test id: "pass" | "fail" | "error" | "skip" | "xfail" | "xpass" ...}`` in the JSON
file named by ``STRICT_COST_OUT``.

``STRICT_COST_MODE`` names the run: ``plain``; ``strict``, strict mode on with every finding allowed (each test
is still recorded and judged in full, so it costs what a suite with no problem costs, and no outcome may
change); ``flagging``, strict mode on with nothing allowed, to list the tests it would fail.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import outcome_hooks  # beside this file, first on sys.path

_outcomes: dict[str, list[str]] = {}
#: Tests strict mode judged in this process (``StrictCheck.failure`` calls): proof that it ran. Django's
#: parallel runner judges in its workers, whose counts are not gathered.
_judged = 0


MODE = os.environ.get("STRICT_COST_MODE", "plain")


def strict() -> bool:
    return MODE in ("strict", "flagging")


def allow_everything(finding: dict[str, Any]) -> bool:
    """The ``STRICT_ALLOW`` entry of the ``strict`` run: it is asked about every finding, and allows it."""
    return True


def panel_settings(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``DT_SIGNALS_PANEL`` for this run: strict mode on, as a project under Django's runner turns it on (the
    pytest plugin reads ``--signals-strict`` instead), and in the ``strict`` run every finding allowed."""
    panel = dict(base or {})
    if strict():
        panel["STRICT"] = True
    if MODE == "strict":
        panel["STRICT_ALLOW"] = [*panel.get("STRICT_ALLOW", ()), allow_everything]
    return panel


def count_judged() -> None:
    """In a strict run, count the judgements, so a strict mode that silently judged nothing is seen."""
    if not strict():
        return
    from dt_signals_panel.strict import StrictCheck

    failure = StrictCheck.failure

    def counted(self: StrictCheck) -> str | None:
        global _judged
        _judged += 1
        return failure(self)

    StrictCheck.failure = counted  # type: ignore[method-assign]


def outcome(test_id: str, kind: str) -> None:
    _outcomes.setdefault(test_id, []).append(kind)


def write() -> None:
    out = os.environ.get("STRICT_COST_OUT")
    if not out:
        return
    import django

    data = {
        "django": django.get_version(),
        "python": sys.version.split()[0],
        "judged": _judged,
        "outcomes": {test_id: "+".join(kinds) for test_id, kinds in _outcomes.items()},
    }
    with open(out, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=0, sort_keys=True)


# -- unittest / Django's runner --------------------------------------------------------------------------
def install_unittest() -> None:
    outcome_hooks.hook_unittest(outcome)


# -- pytest ----------------------------------------------------------------------------------------------
def pytest_configure(config: Any) -> None:
    count_judged()


def pytest_runtest_logreport(report: Any) -> None:
    found = outcome_hooks.pytest_outcome(report)
    if found is not None:
        outcome(*found)


def pytest_sessionfinish(session: Any) -> None:
    write()
