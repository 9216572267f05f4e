"""Which signals we record, under which names, in the order the panel shows them."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import signals as auth_signals
from django.db.models import signals as model_signals
from django.dispatch import Signal
from django.utils.module_loading import import_string

from dt_signals_panel.conf import Config

#: The panel's group order: what a request does first (log in, load, save, delete) comes first.
BUILTIN: dict[str, Signal] = {
    "user_logged_in": auth_signals.user_logged_in,
    "user_logged_out": auth_signals.user_logged_out,
    "user_login_failed": auth_signals.user_login_failed,
    "pre_init": model_signals.pre_init,
    "post_init": model_signals.post_init,
    "pre_save": model_signals.pre_save,
    "post_save": model_signals.post_save,
    "pre_delete": model_signals.pre_delete,
    "post_delete": model_signals.post_delete,
    "m2m_changed": model_signals.m2m_changed,
    "class_prepared": model_signals.class_prepared,
    "pre_migrate": model_signals.pre_migrate,
    "post_migrate": model_signals.post_migrate,
}
INIT_SIGNALS = frozenset({"pre_init", "post_init"})
SAVE_SIGNALS = frozenset({"pre_save", "post_save"})


def tracked_signals(config: Config) -> dict[Signal, str]:
    """Built-in signals plus every importable ``EXTRA_SIGNALS`` path (a bad path is reported by check
    ``dt_signals_panel.E004`` rather than breaking requests). An extra signal is named by its last dotted
    part (``order_placed``) unless that name is taken by another tracked signal (a built-in one, or
    ``shop.signals.order_placed`` beside ``billing.signals.order_placed``): then by its whole path, so two
    signals never share a group."""
    tracked = {signal: name for name, signal in BUILTIN.items()}
    extra: dict[Signal, str] = {}
    for path in config.extra_signals:
        try:
            signal = import_string(path)
        except Exception:  # not only ImportError: a module may fail at import for any reason
            continue
        if isinstance(signal, Signal) and signal not in tracked and signal not in extra:
            extra[signal] = path
    short = Counter(_short(path) for path in extra.values())
    for signal, path in extra.items():
        name = _short(path)
        tracked[signal] = name if short[name] == 1 and name not in BUILTIN else path
    return tracked


def _short(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def order(name: str) -> int:
    """Position of a signal's group; extra signals come after the built-in ones, alphabetically."""
    names = list(BUILTIN)
    return names.index(name) if name in BUILTIN else len(names)
