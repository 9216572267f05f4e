"""Settings of the test app as tests/test_workers.py serves it with gunicorn and several worker processes.

The environment says where everything is: ``DT_SIGNALS_STORE`` (``cache``: djdt's CacheStore on the Redis at
``DT_SIGNALS_REDIS_URL`` through Django's own RedisCache; ``database``: djdt's DatabaseStore), the PostgreSQL
cluster (``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT``, database ``DT_SIGNALS_PG_NAME``) and a directory for
the SQLite ``other`` alias (``DT_SIGNALS_TEST_DB_DIR``).
"""

from __future__ import annotations

import os
from typing import Any

from tests.settings import *  # noqa: F403
from tests.settings import DEBUG_TOOLBAR_CONFIG, MIDDLEWARE

STORES = {"cache": "debug_toolbar.store.CacheStore", "database": "debug_toolbar.store.DatabaseStore"}

MIDDLEWARE = ["tests.testapp.deploy.worker_pid", *MIDDLEWARE]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["DT_SIGNALS_PG_NAME"],
        "USER": "postgres",
        "HOST": os.environ["DT_SIGNALS_PG_HOST"],
        "PORT": os.environ["DT_SIGNALS_PG_PORT"],
    },
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(os.environ["DT_SIGNALS_TEST_DB_DIR"], "other.sqlite3"),
    },
}
if os.environ.get("DT_SIGNALS_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["DT_SIGNALS_REDIS_URL"],
        }
    }
DEBUG_TOOLBAR_CONFIG: dict[str, Any] = {  # type: ignore[no-redef]
    **DEBUG_TOOLBAR_CONFIG,
    "TOOLBAR_STORE_CLASS": STORES[os.environ["DT_SIGNALS_STORE"]],
    # Panels are fetched later, from whichever worker: never rendered into the page.
    "RENDER_PANELS": False,
    "RESULTS_CACHE_SIZE": 500,
}
