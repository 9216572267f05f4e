"""Settings, read in one place.

Users configure the panel with one dict, ``DT_SIGNALS_PANEL``, merged over :data:`DEFAULTS`. A few keys of
django-debug-toolbar's own ``DEBUG_TOOLBAR_CONFIG`` are honoured too, so one switch turns stack traces off
for every panel; their defaults are read through djdt (``debug_toolbar.settings.get_config()``), never
copied, so they follow the installed djdt. Nothing else in the package reads ``django.conf.settings``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

#: Keys the sensitive-name pattern always covers: Django's ``SafeExceptionReporterFilter`` list, plus the
#: second factors and session material that ``django.contrib.auth`` lets through in clear.
BASE_SENSITIVE_PATTERN = (
    r"api|auth|token|key|secret|pass|signature|cookie|session|csrf|pin|otp|pwd|credential|"
    r"card|cvv|cvc|ssn|private|code|jwt|bearer|hmac|nonce|salt"
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
    # Strict mode under Django's test runner (dt_signals_panel.runner): judge every test, and its setUp too.
    "STRICT": False,
    "STRICT_SETUP": False,
    # Findings strict mode allows in every test: the entries the assertions' ``allow`` takes.
    "STRICT_ALLOW": [],
}

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
    #: djdt's ``ENABLE_STACKTRACES_LOCALS``: each frame of a stack shows its locals (masked, see events.py).
    stack_locals: bool = False


@dataclass(frozen=True)
class Problem:
    """A setting the panel cannot use as given: reported by a system check, replaced by its default."""

    id: str
    message: str
    hint: str | None = None
    #: djdt's own keys are djdt's to judge: we warn, and fall back to djdt's default.
    warning: bool = False


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_names(value: Any) -> bool:
    """A list or tuple of strings (a bare string would be read letter by letter)."""
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _names_problem(where: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        bad = next(item for item in value if not isinstance(item, str))
        return f"{where} must hold dotted paths as strings; it holds a {type(bad).__qualname__}."
    return f"{where} must be a list of dotted paths, not a {type(value).__qualname__}."


def validated() -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """The user's ``DT_SIGNALS_PANEL`` and the djdt keys we read, each bad value replaced by its default,
    and what was wrong. Never raises: the system check reports the problems, and requests go on with the
    defaults, so a setting of the wrong type never fails a request."""
    problems: list[Problem] = []
    raw = getattr(settings, "DT_SIGNALS_PANEL", {})
    if not isinstance(raw, dict):
        problems.append(
            Problem("dt_signals_panel.E005", f"DT_SIGNALS_PANEL must be a dict, not a {type(raw).__qualname__}.")
        )
        raw = {}
    ours = dict(DEFAULTS)
    for key, value in raw.items():
        if key not in DEFAULTS:
            problems.append(
                Problem(
                    "dt_signals_panel.E001",
                    f"DT_SIGNALS_PANEL has an unknown key {key!r}.",
                    hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                )
            )
            continue
        problem = _our_problem(key, value)
        if problem is None:
            ours[key] = value
        else:
            problems.append(problem)
    djdt: dict[str, Any] = {}
    raw_djdt = getattr(settings, "DEBUG_TOOLBAR_CONFIG", {}) or {}
    if not isinstance(raw_djdt, dict):
        problems.append(
            Problem(
                "dt_signals_panel.W001",
                f"DEBUG_TOOLBAR_CONFIG must be a dict, not a {type(raw_djdt).__qualname__}; "
                "the Signal activity panel uses djdt's defaults.",
                warning=True,
            )
        )
        raw_djdt = {}
    for key, good, problem_id in (
        ("EXTRA_SIGNALS", _is_names, "dt_signals_panel.W002"),
        ("HIDE_IN_STACKTRACES", _is_names, "dt_signals_panel.W003"),
        ("ENABLE_STACKTRACES", lambda v: isinstance(v, bool), "dt_signals_panel.W004"),
        ("ENABLE_STACKTRACES_LOCALS", lambda v: isinstance(v, bool), "dt_signals_panel.W005"),
    ):
        if key not in raw_djdt:
            continue
        value = raw_djdt[key]
        if good(value):
            djdt[key] = value
            continue
        message = (
            _names_problem(f"DEBUG_TOOLBAR_CONFIG[{key!r}]", value)
            if not key.startswith("ENABLE_")
            else f"DEBUG_TOOLBAR_CONFIG[{key!r}] must be True or False, not a {type(value).__qualname__}."
        )
        problems.append(Problem(problem_id, message + " The Signal activity panel uses djdt's default.", warning=True))
    return ours, djdt, problems


def _our_problem(key: str, value: Any) -> Problem | None:
    where = f"DT_SIGNALS_PANEL[{key!r}]"
    if key in ("MAX_EVENTS", "SHOWN_PER_SIGNAL"):
        if not _is_count(value):
            return Problem("dt_signals_panel.E002", f"{where} must be a whole number >= 0, not {value!r:.60}.")
    elif key == "SENSITIVE_KEYS":
        if not isinstance(value, str):
            return Problem(
                "dt_signals_panel.E003",
                f"{where} must be a regular expression as a string, not a {type(value).__qualname__}.",
            )
        try:
            re.compile(value)
        except (re.error, RecursionError, OverflowError):
            return Problem("dt_signals_panel.E003", f"{where} is not a valid regular expression.")
    elif key == "EXTRA_SIGNALS":
        if not _is_names(value):
            return Problem(
                "dt_signals_panel.E006",
                _names_problem(where, value),
                hint="Name each signal by its dotted path, e.g. 'myapp.signals.order_paid'.",
            )
    elif key == "CALL_SITES" and not isinstance(value, bool):
        return Problem("dt_signals_panel.E007", f"{where} must be True or False, not a {type(value).__qualname__}.")
    elif key in ("STRICT", "STRICT_SETUP") and not isinstance(value, bool):
        return Problem("dt_signals_panel.E008", f"{where} must be True or False, not a {type(value).__qualname__}.")
    elif key == "STRICT_ALLOW":
        return _allow_problem(where, value)
    return None


def _allow_problem(where: str, value: Any) -> Problem | None:
    """``STRICT_ALLOW`` holds what the assertions' ``allow`` takes: strings or model classes, pairs of them
    (a list in settings is a pair too), callables taking the finding."""
    if not isinstance(value, (list, tuple)):
        return Problem("dt_signals_panel.E009", f"{where} must be a list, not a {type(value).__qualname__}.")
    for entry in value:
        pair = isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(x, (str, type)) for x in entry)
        if not (isinstance(entry, (str, type)) or pair or callable(entry)):
            return Problem(
                "dt_signals_panel.E009",
                f"{where} has the entry {entry!r:.60}, which allows nothing.",
                hint="An entry is a string (a model label, a credential key, a receiver's dotted name), "
                "a pair of them such as ('shop.Book', 'saved_again'), or a callable taking the finding.",
            )
    return None


@functools.cache
def get_config() -> Config:
    """Merge the user's settings over the defaults; cached until a setting changes (see ``apps.py``). A bad
    value counts as absent (see :func:`validated`); the system checks report it."""
    try:
        ours, djdt, _ = validated()
    except Exception:  # settings that cannot even be read: reported by the check, defaults meanwhile
        ours, djdt = dict(DEFAULTS), {}
    pattern = BASE_SENSITIVE_PATTERN
    if ours["SENSITIVE_KEYS"]:
        pattern = f"{pattern}|{ours['SENSITIVE_KEYS']}"
    sensitive = re.compile(pattern, re.IGNORECASE)
    defaults = djdt_defaults()
    hide = tuple(djdt.get("HIDE_IN_STACKTRACES", defaults.get("HIDE_IN_STACKTRACES", ())))
    return Config(
        extra_signals=tuple(djdt.get("EXTRA_SIGNALS", ())) + tuple(ours["EXTRA_SIGNALS"]),
        max_events=ours["MAX_EVENTS"],
        shown_per_signal=ours["SHOWN_PER_SIGNAL"],
        sensitive=sensitive,
        call_sites=ours["CALL_SITES"],
        stacktraces=djdt.get("ENABLE_STACKTRACES", defaults.get("ENABLE_STACKTRACES", True)),
        hidden_modules=FRAMEWORK_MODULES + hide,
        stack_hidden=("dt_signals_panel", "django.dispatch", *hide),
        stack_locals=djdt.get("ENABLE_STACKTRACES_LOCALS", defaults.get("ENABLE_STACKTRACES_LOCALS", False)),
    )


#: The djdt keys whose defaults we take from djdt, and what each must be to be used.
_DJDT_KEYS: dict[str, Callable[[Any], bool]] = {
    "HIDE_IN_STACKTRACES": _is_names,
    "ENABLE_STACKTRACES": lambda v: isinstance(v, bool),
    "ENABLE_STACKTRACES_LOCALS": lambda v: isinstance(v, bool),
}


def djdt_defaults() -> dict[str, Any]:
    """djdt's own values for the keys we honour, read through ``debug_toolbar.settings.get_config()`` (in
    djdt 6.3, 7.x and 8.0), so its defaults are never copied here and drift with it. A key djdt does not
    know, or a djdt whose config cannot be read, is left out: the panel then hides only its own framework
    modules from stacks (:data:`FRAMEWORK_MODULES`), shows stacks and no locals."""
    try:
        from debug_toolbar.settings import get_config as djdt_get_config

        found = djdt_get_config()
    except Exception:
        return {}
    if not isinstance(found, dict):
        return {}
    return {key: found[key] for key, good in _DJDT_KEYS.items() if key in found and good(found[key])}
