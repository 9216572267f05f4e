"""Record the auth and model signals a request fires, and show them in django-debug-toolbar."""

from __future__ import annotations

from dt_signals_panel.recorder import Recording, capture

__version__ = "0.1.0"
__all__ = ["Recording", "__version__", "capture"]
