"""System checks: a mistake in the settings shows at start-up, as a report, never as a crash.

The values are judged in ``conf.validated()``, the same function that makes ``get_config()`` fall back to a
default for each bad value, so what the check reports is exactly what requests work around.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register
from django.dispatch import Signal
from django.utils.module_loading import import_string

from dt_signals_panel.conf import validated


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    try:
        ours, djdt, problems = validated()
    except Exception as error:  # settings that cannot even be read (a lazy object that raises)
        return [
            Error(f"The Signal activity panel could not read its settings: {error!r:.200}", id="dt_signals_panel.E005")
        ]
    messages: list[CheckMessage] = [
        (Warning if problem.warning else Error)(problem.message, hint=problem.hint, id=problem.id)
        for problem in problems
    ]
    for where, paths, level, problem_id in (
        ("DT_SIGNALS_PANEL['EXTRA_SIGNALS']", ours["EXTRA_SIGNALS"], Error, "dt_signals_panel.E004"),
        ("DEBUG_TOOLBAR_CONFIG['EXTRA_SIGNALS']", djdt.get("EXTRA_SIGNALS", ()), Warning, "dt_signals_panel.W002"),
    ):
        for path in paths:
            if not isinstance(importable(path), Signal):
                messages.append(level(f"{where} names {path!r}, which is not an importable Signal.", id=problem_id))
    return messages


def importable(path: str) -> Any:
    """What ``path`` names, or ``None``; a module that fails to import for any reason names nothing."""
    try:
        return import_string(path)
    except Exception:
        return None
