"""App config: wires the settings cache and the system checks, and patches nothing."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed


class SignalsPanelConfig(AppConfig):
    name = "dt_signals_panel"
    verbose_name = "Signal activity panel"

    def ready(self) -> None:
        from dt_signals_panel import checks  # noqa: F401  (registers the checks)

        setting_changed.connect(_clear_config, dispatch_uid="dt_signals_panel.conf")


def _clear_config(*, setting: str, **kwargs: Any) -> None:
    if setting in {"DT_SIGNALS_PANEL", "DEBUG_TOOLBAR_CONFIG"}:
        from dt_signals_panel.conf import get_config

        get_config.cache_clear()
