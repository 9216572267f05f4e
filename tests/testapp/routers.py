from __future__ import annotations

from typing import Any


class ArchiveRouter:
    """``ArchivedNote`` lives in the second database, so its saves carry ``using="other"``."""

    def _other(self, model: Any) -> bool:
        return bool(model._meta.label == "testapp.ArchivedNote")

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "other" if self._other(model) else None

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        if app_label == "testapp" and model_name == "archivednote":
            return db == "other"
        return db == "default"
