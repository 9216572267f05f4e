"""The project's settings with strict mode on for Django's runner and a project-wide allow list."""

from __future__ import annotations

from tests.settings import *  # noqa: F403

DT_SIGNALS_PANEL = {
    "STRICT": True,
    "STRICT_ALLOW": [["testapp.Book", "saved_again"], ["testapp.Book", "nothing_changed"]],
}
