"""Strict mode and signal snapshots under Django's own test runner (``manage.py test``).

``TEST_RUNNER = "dt_signals_panel.runner.SignalsDiscoverRunner"``, or ``SignalsRunnerMixin`` in front of a
runner of your own. Strict mode is on with ``--signals-strict`` or ``DT_SIGNALS_PANEL["STRICT"] = True``;
``--signals-snapshot-update`` rewrites the snapshots the run compares.
"""

from __future__ import annotations

from argparse import ArgumentParser
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.test.runner import DiscoverRunner
from django.utils.translation import gettext as _

from dt_signals_panel import signal_snapshot, strict


class SignalsRunnerMixin:
    """Adds ``--signals-strict``, ``--signals-strict-setup`` and ``--signals-snapshot-update`` to a
    ``DiscoverRunner``; the settings ``STRICT`` and ``STRICT_SETUP`` switch the first two on for every run."""

    def __init__(
        self,
        *args: Any,
        signals_strict: bool = False,
        signals_strict_setup: bool = False,
        signals_snapshot_update: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.signals_strict = signals_strict
        self.signals_strict_setup = signals_strict_setup
        self.signals_snapshot_update = signals_snapshot_update

    @classmethod
    def add_arguments(cls, parser: ArgumentParser) -> None:
        super().add_arguments(parser)  # type: ignore[misc]
        parser.add_argument(
            "--signals-strict",
            action="store_true",
            help=_(
                "Fail every test that makes a redundant save, sends a credential in clear or swallows a receiver error."
            ),
        )
        parser.add_argument("--signals-strict-setup", action="store_true", help=_("Judge setUp() too in strict mode."))
        parser.add_argument(
            "--signals-snapshot-update", action="store_true", help=_("Rewrite the signal snapshots that differ.")
        )

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        signal_snapshot.configure(update=self.signals_snapshot_update, root=Path.cwd())
        with ExitStack() as stack:
            if self.signals_strict or strict.project_setting("STRICT"):
                setup = self.signals_strict_setup or strict.project_setting("STRICT_SETUP")
                stack.enter_context(strict.unittest_hooks(setup=setup))
                stack.enter_context(strict.held_wrappers())
            return super().run_suite(suite, **kwargs)  # type: ignore[misc]


class SignalsDiscoverRunner(SignalsRunnerMixin, DiscoverRunner):
    """Django's ``DiscoverRunner`` with strict mode and signal snapshots."""
