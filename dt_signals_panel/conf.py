"""Settings, read in one place.

Users configure the panel with one dict, ``DT_SIGNALS_PANEL``, merged over :data:`DEFAULTS`. A few keys of
django-debug-toolbar's own ``DEBUG_TOOLBAR_CONFIG`` are honoured too, so one switch turns stack traces off
for every panel. Nothing else in the package reads ``django.conf.settings``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

#: Keys the sensitive-name pattern always covers: Django's ``SafeExceptionReporterFilter`` list, plus the
#: second factors and session material that ``django.contrib.auth`` lets through in clear.
BASE_SENSITIVE_PATTERN = (
    r"api|auth|token|key|secret|pass|signature|cookie|session|csrf|pin|otp|pwd|credential|"
    r"card|cvv|cvc|ssn|private|code"
)

DEFAULTS: dict[str, Any] = {
    # Dotted paths of further ``Signal`` instances to record, beside djdt's ``EXTRA_SIGNALS``.
    "EXTRA_SIGNALS": [],
    # Events kept per request (for findings, call-site summaries and receiver times); past it counts stay
    # exact and the panel says how many were dropped.
    "MAX_EVENTS": 1000,
    # Events shown row by row per signal, with label, arguments and stack; the others are summed up by call
    # site. Only these pay for an instance label and a stack trace, and they keep the panel light.
    "SHOWN_PER_SIGNAL": 100,
    # Extra regex (searched, case-insensitive) for argument names whose values are never shown.
    "SENSITIVE_KEYS": "",
    # The first frame of the user's code for every event except pre_init/post_init.
    "CALL_SITES": True,
    # Sends of one signal and sender on which a receiver ran queries, per request, past which the panel
    # reports "queries in a receiver per send" (an N+1 inside a receiver); 0 turns the finding off.
    "RECEIVER_QUERY_SENDS": 10,
}

#: djdt's defaults for the keys we honour, used when ``DEBUG_TOOLBAR_CONFIG`` leaves them out.
_DJDT_HIDE_DEFAULT = (
    "socketserver",
    "threading",
    "wsgiref",
    "debug_toolbar",
    "django.db",
    "django.core.handlers",
    "django.core.servers",
    "django.utils.decorators",
    "django.utils.deprecation",
    "django.utils.functional",
)

#: Modules whose frames are never "the user's code" for a call site.
FRAMEWORK_MODULES = ("django", "debug_toolbar", "dt_signals_panel", "asgiref", "contextlib", "asyncio", "concurrent")


@dataclass(frozen=True)
class Config:
    extra_signals: tuple[str, ...]
    max_events: int
    shown_per_signal: int
    sensitive: re.Pattern[str]
    call_sites: bool
    stacktraces: bool
    #: Frames never taken for a call site: the framework, the toolbar, this package, djdt's hidden list.
    hidden_modules: tuple[str, ...]
    #: Frames left out of a full stack trace: djdt's ``HIDE_IN_STACKTRACES`` plus the dispatch machinery.
    stack_hidden: tuple[str, ...]
    #: See ``DEFAULTS["RECEIVER_QUERY_SENDS"]``.
    receiver_query_sends: int = 10


def user_settings() -> dict[str, Any]:
    value = getattr(settings, "DT_SIGNALS_PANEL", {})
    return value if isinstance(value, dict) else {}


@functools.cache
def get_config() -> Config:
    """Merge the user's settings over the defaults; cached until a setting changes (see ``apps.py``)."""
    ours = {**DEFAULTS, **user_settings()}
    djdt = getattr(settings, "DEBUG_TOOLBAR_CONFIG", {}) or {}
    pattern = BASE_SENSITIVE_PATTERN
    if ours["SENSITIVE_KEYS"]:
        pattern = f"{pattern}|{ours['SENSITIVE_KEYS']}"
    try:
        sensitive = re.compile(pattern, re.IGNORECASE)
    except re.error:  # reported by check dt_signals_panel.E003; stay safe meanwhile
        sensitive = re.compile(BASE_SENSITIVE_PATTERN, re.IGNORECASE)
    max_events = ours["MAX_EVENTS"]
    shown = ours["SHOWN_PER_SIGNAL"]
    hide = tuple(djdt.get("HIDE_IN_STACKTRACES", _DJDT_HIDE_DEFAULT))
    return Config(
        extra_signals=tuple(djdt.get("EXTRA_SIGNALS", ())) + tuple(ours["EXTRA_SIGNALS"]),
        max_events=max_events if isinstance(max_events, int) and max_events >= 0 else DEFAULTS["MAX_EVENTS"],
        shown_per_signal=shown if isinstance(shown, int) and shown >= 0 else DEFAULTS["SHOWN_PER_SIGNAL"],
        sensitive=sensitive,
        call_sites=bool(ours["CALL_SITES"]),
        stacktraces=bool(djdt.get("ENABLE_STACKTRACES", True)),
        hidden_modules=FRAMEWORK_MODULES + hide,
        stack_hidden=("dt_signals_panel", "django.dispatch", *hide),
        receiver_query_sends=_whole(ours["RECEIVER_QUERY_SENDS"], "RECEIVER_QUERY_SENDS"),
    )


def _whole(value: Any, key: str) -> int:
    """A whole number >= 0, else the default (check dt_signals_panel.E002 reports it)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return int(value) if ok else int(DEFAULTS[key])
