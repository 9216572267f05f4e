from __future__ import annotations

from typing import Any


class ArchiveRouter:
    """``shop.ArchivedOrder`` is read from and written to the ``archive`` database; everything else stays in
    ``default``, and only that one table is created in ``archive``."""

    def _archived(self, model: Any) -> bool:
        return bool(model._meta.label == "shop.ArchivedOrder")

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "archive" if self._archived(model) else None

    db_for_write = db_for_read

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        if app_label == "shop" and model_name == "archivedorder":
            return db == "archive"
        return db == "default"
