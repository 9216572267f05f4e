"""Run a Django-test-runner script (django-simple-history's ``runtests.py``) with every test measured.

``python compat/unittest_boot.py SUITE SCRIPT [ARGS...]``: installs the probe, wraps ``unittest.TestCase.run``
(setUp, the test and tearDown; every Django test case goes through it) and the outcome methods of
``unittest.TestResult`` (which every result class, Django's included, reaches through ``super()``), then runs
SCRIPT as ``__main__``. With ``COMPAT_MODE=captured`` each test runs inside ``dt_signals_panel.capture()``;
otherwise everything is the same. ``COMPAT_PG_HOST`` (and ``COMPAT_PG_PORT``) put the suite on that PostgreSQL.
"""

from __future__ import annotations

import os
import runpy
import sys
import unittest
from typing import Any

import outcome_hooks  # this script's folder is first on sys.path
import probe

_run = unittest.TestCase.run


def run(self: unittest.TestCase, result: Any = None) -> Any:
    probe.begin(self.id())
    try:
        with probe.capturing():
            return _run(self, result)
    finally:
        probe.end()


def configure_postgres(script: str) -> None:
    """runtests.py's own PostgreSQL settings, pointed at our cluster; it configures nothing once we have."""
    from django.conf import settings

    defaults = runpy.run_path(script, run_name="runtests")["get_default_settings"](database_name="postgres")
    for database in defaults["DATABASES"].values():
        database.update(
            HOST=os.environ["COMPAT_PG_HOST"], PORT=os.environ.get("COMPAT_PG_PORT", "5432"), USER="postgres"
        )
        database.pop("PASSWORD", None)
    settings.configure(**defaults)


def main() -> None:
    suite, script, *args = sys.argv[1:]
    probe.install()
    unittest.TestCase.run = run  # type: ignore[method-assign]
    outcome_hooks.hook_unittest(probe.outcome)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    if os.environ.get("COMPAT_PG_HOST"):
        configure_postgres(script)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        probe.write(suite)


if __name__ == "__main__":
    main()
