"""Run a Django-test-runner script for ``compat/strict_cost.py``: each test's outcome noted, strict mode on or off.

``python compat/strict_boot.py SCRIPT [ARGS...]`` runs SCRIPT as ``__main__`` with ``outcomes.py`` noting
every test's outcome. ``STRICT_COST_RUNNER=1`` is for a script that configures its settings and builds
Django's ``DiscoverRunner`` itself (django-simple-history's ``runtests.py``): its settings are configured here
first, from its ``get_default_settings()`` plus the run's ``DT_SIGNALS_PANEL``, and in a strict run the script
gets ``SignalsRunnerMixin`` in front of its runner, as a project that adopts strict mode would write. Django's
own ``runtests.py`` honours ``TEST_RUNNER`` and needs none of this (``strict_cost_settings.py``).
"""

from __future__ import annotations

import os
import runpy
import sys

import outcomes  # this script's folder is first on sys.path


def own_runner(script: str) -> None:
    import django.test.runner
    from django.conf import settings

    defaults = runpy.run_path(script, run_name="runtests")["get_default_settings"]()
    settings.configure(**defaults, DT_SIGNALS_PANEL=outcomes.panel_settings(defaults.get("DT_SIGNALS_PANEL")))
    if not outcomes.strict():
        return
    from dt_signals_panel.runner import SignalsRunnerMixin

    class DiscoverRunner(SignalsRunnerMixin, django.test.runner.DiscoverRunner):
        """The script's runner with the mixin in front; ``DT_SIGNALS_PANEL["STRICT"]`` turns strict mode on."""

    django.test.runner.DiscoverRunner = DiscoverRunner  # type: ignore[misc]


def main() -> None:
    script, *args = sys.argv[1:]
    outcomes.install_unittest()
    outcomes.count_judged()
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    if os.environ.get("STRICT_COST_RUNNER"):
        own_runner(script)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        outcomes.write()


if __name__ == "__main__":
    main()
