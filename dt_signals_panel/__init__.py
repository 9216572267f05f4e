"""Record the auth and model signals a request fires, and show them in django-debug-toolbar."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dt_signals_panel.recorder import Recording, capture

__version__ = "0.1.0"
__all__ = ["Recording", "__version__", "capture"]


def __getattr__(name: str) -> object:
    # Imported on first use: pytest imports our plugin (dt_signals_panel.pytest_plugin), and with it this
    # package, before settings are configured; importing the recorder then would pull in much of Django.
    if name in ("Recording", "capture"):
        from dt_signals_panel import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
