"""System checks: a mistake in ``DT_SIGNALS_PANEL`` shows at start-up, not as a silently empty panel."""

from __future__ import annotations

import re
from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.dispatch import Signal
from django.utils.module_loading import import_string

from dt_signals_panel.conf import DEFAULTS, user_settings


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    ours = user_settings()
    errors: list[CheckMessage] = []
    for key in sorted(set(ours) - set(DEFAULTS)):
        errors.append(
            Error(
                f"DT_SIGNALS_PANEL has an unknown key {key!r}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="dt_signals_panel.E001",
            )
        )
    for key in ("MAX_EVENTS", "SHOWN_PER_SIGNAL", "RECEIVER_QUERY_SENDS"):
        value = ours.get(key, DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(Error(f"DT_SIGNALS_PANEL[{key!r}] must be a whole number >= 0.", id="dt_signals_panel.E002"))
    pattern = ours.get("SENSITIVE_KEYS", "")
    try:
        re.compile(pattern)
    except (re.error, TypeError):
        errors.append(
            Error("DT_SIGNALS_PANEL['SENSITIVE_KEYS'] is not a valid regular expression.", id="dt_signals_panel.E003")
        )
    for path in ours.get("EXTRA_SIGNALS", []):
        try:
            found = import_string(path)
        except ImportError:
            found = None
        if not isinstance(found, Signal):
            errors.append(
                Error(
                    f"DT_SIGNALS_PANEL['EXTRA_SIGNALS'] names {path!r}, which is not an importable Signal.",
                    id="dt_signals_panel.E004",
                )
            )
    return errors
