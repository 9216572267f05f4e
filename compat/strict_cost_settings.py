"""The settings of a suite under ``compat/strict_cost.py``: its own (the module named by
``STRICT_COST_SETTINGS``, by default Django's ``tests/test_sqlite``) as they are, plus, in a strict run, what a
project writes to turn strict mode on under Django's runner (``TEST_RUNNER``, ``DT_SIGNALS_PANEL["STRICT"]``;
pytest ignores both and reads ``--signals-strict``) and the run's ``STRICT_ALLOW`` (``outcomes.py``)."""

from __future__ import annotations

import os
from importlib import import_module

import outcomes

_base = import_module(os.environ.get("STRICT_COST_SETTINGS", "test_sqlite"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

if outcomes.strict():
    TEST_RUNNER = "dt_signals_panel.runner.SignalsDiscoverRunner"
DT_SIGNALS_PANEL = outcomes.panel_settings(getattr(_base, "DT_SIGNALS_PANEL", None))
