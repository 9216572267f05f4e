"""Panels that exist only for the benchmark."""

from __future__ import annotations

import time
from typing import Any

from debug_toolbar.panels import Panel
from debug_toolbar.panels.sql import SQLPanel
from django.db.models import signals as model_signals

#: Seconds each timed panel spent in generate_stats, by panel class name (read and cleared by the bench).
SPENT: dict[str, float] = {}


class FloorPanel(Panel):
    """The floor: a bare wrapper on ``pre_init``/``post_init.send`` that appends one tuple per send and calls
    Django. No ContextVar, no counting, no snapshot, nothing shown."""

    title = "Floor"

    def enable_instrumentation(self) -> None:
        sends: list[tuple[Any, ...]] = []
        self._sends = sends
        self._saved = []
        for signal in (model_signals.pre_init, model_signals.post_init):
            original = signal.send

            def send(sender: Any, __original: Any = original, **named: Any) -> Any:
                sends.append((sender, named))
                return __original(sender, **named)

            self._saved.append((signal, original))
            signal.send = send  # type: ignore[method-assign]

    def disable_instrumentation(self) -> None:
        for signal, _original in self._saved:
            del signal.send
        self._saved = []

    def generate_stats(self, request: Any, response: Any) -> None:
        self.record_stats({"sends": len(self._sends)})


class _Timed:
    def generate_stats(self, request: Any, response: Any) -> None:
        started = time.perf_counter()
        super().generate_stats(request, response)  # type: ignore[misc]
        SPENT[type(self).__name__] = time.perf_counter() - started


class TimedSQLPanel(_Timed, SQLPanel):
    """djdt's SQL panel, timing its generate_stats."""


def timed_signal_panel() -> type[Panel]:
    from dt_signals_panel.panel import SignalActivityPanel

    return type("TimedSignalPanel", (_Timed, SignalActivityPanel), {"__module__": __name__})


def __getattr__(name: str) -> Any:
    # Created on first use, so the "package absent" worker never imports dt_signals_panel through this module.
    if name == "TimedSignalPanel":
        cls = timed_signal_panel()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
