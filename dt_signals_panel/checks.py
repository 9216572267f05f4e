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
    for key in ("MAX_EVENTS", "SHOWN_PER_SIGNAL"):
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
    errors += _check_strict(ours)
    return errors


def _check_strict(ours: dict[str, Any]) -> list[CheckMessage]:
    """``STRICT_ALLOW`` holds what ``allow`` takes: strings, (str, str) pairs, callables."""
    errors: list[CheckMessage] = []
    for key in ("STRICT", "STRICT_SETUP"):
        if not isinstance(ours.get(key, False), bool):
            errors.append(Error(f"DT_SIGNALS_PANEL[{key!r}] must be True or False.", id="dt_signals_panel.E005"))
    entries = ours.get("STRICT_ALLOW", [])
    if not isinstance(entries, (list, tuple)):
        return [*errors, Error("DT_SIGNALS_PANEL['STRICT_ALLOW'] must be a list.", id="dt_signals_panel.E006")]
    for entry in entries:
        pair = isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(x, (str, type)) for x in entry)
        if not (isinstance(entry, (str, type)) or pair or callable(entry)):
            errors.append(
                Error(
                    f"DT_SIGNALS_PANEL['STRICT_ALLOW'] has the entry {entry!r}, which allows nothing.",
                    hint="An entry is a string (a model label, a credential key, a receiver's dotted name), "
                    "a pair of them such as ('shop.Book', 'saved_again'), or a callable taking the finding.",
                    id="dt_signals_panel.E006",
                )
            )
    return errors
