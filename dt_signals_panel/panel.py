"""``SignalActivityPanel``: the thin adapter between a capture and django-debug-toolbar.

Open a capture when the toolbar turns instrumentation on, close it when it turns it off, and turn the
recording into stats once. Everything the panel shows afterwards comes from those stats alone, because djdt
may render the panel later from its store, with no request at hand.
"""

from __future__ import annotations

from typing import Any

from debug_toolbar.panels import Panel
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dt_signals_panel import kinds, stored
from dt_signals_panel.presentation import view_model
from dt_signals_panel.recorder import Recording, capture
from dt_signals_panel.stats import build_stats


class SignalActivityPanel(Panel):
    """Every auth and model signal the request sent, grouped by signal, with arguments and receivers."""

    is_async = True
    title = _("Signal activity")
    nav_title = _("Signal activity")
    template = "dt_signals_panel/panel.html"

    _capture: capture | None = None

    def get_stats(self) -> dict[str, Any]:
        # What record_stats stored, read back as it was built (see stored.py: keys djdt's decoder would take).
        return stored.decode(super().get_stats())  # type: ignore[no-untyped-call]

    @property
    def recording(self) -> Recording | None:
        """What this panel recorded during its request (``None`` when it did not record): for tools and tests
        that look past the stats."""
        return self._capture.recording if self._capture is not None else None

    @property
    def nav_subtitle(self) -> str:
        summary = self.get_stats().get("summary")
        if not summary:
            return ""
        signals, saves = summary["signals"], summary["saves"]
        parts = [
            ngettext("%(n)d signal", "%(n)d signals", signals) % {"n": signals},
            ngettext("%(n)d save", "%(n)d saves", saves) % {"n": saves},
        ]
        # Each family with a problem in it, counted: what a developer sees without opening the panel.
        for family, members in kinds.families().items():
            n = summary.get(family, 0)
            if n and members[0].severity == "problem":
                parts.append(members[0].count_text(n))
        return " · ".join(parts)

    @property
    def scripts(self) -> list[str]:
        return [static("dt_signals_panel/panel.js")]

    def enable_instrumentation(self) -> None:
        if self._capture is None:
            self._capture = capture()
            self._capture.__enter__()

    async def aenable_instrumentation(self) -> None:
        # Runs in the request's own coroutine, so the capture's ContextVar reaches the view and every
        # sync_to_async thread it uses (setting it inside sync_to_async would not).
        self.enable_instrumentation()

    def disable_instrumentation(self) -> None:
        if self._capture is not None:
            self._capture.__exit__(None, None, None)

    def generate_stats(self, request: Any, response: Any) -> None:
        if self._capture is None:
            return
        self.record_stats(stored.encode(build_stats(self._capture.recording)))  # type: ignore[no-untyped-call]

    @property
    def content(self) -> str:
        from django.template.loader import render_to_string

        return render_to_string(self.template, {**view_model(self.get_stats()), "request_id": self.toolbar.request_id})

    @classmethod
    def get_urls(cls) -> list[Any]:
        """The export (text and JSON), under the toolbar's own URLs and its access rule."""
        from django.urls import path

        from dt_signals_panel.export import export_view

        return [path("signal_activity/export/", export_view, name="signal_activity_export")]
