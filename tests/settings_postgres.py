"""The test settings with PostgreSQL as the ``default`` database; ``other`` stays SQLite, so a request can
write to a PostgreSQL and a SQLite alias at once (``make test`` runs the database-facing tests with these).

The cluster is a throwaway one: ``tests/conftest.py`` starts it before the test databases are created and
fills in HOST and PORT; ``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT`` point at one already running instead.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES = {
    **DATABASES,
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "dt_signals",
        "USER": "postgres",
        "HOST": os.environ.get("DT_SIGNALS_PG_HOST", ""),
        "PORT": os.environ.get("DT_SIGNALS_PG_PORT", ""),
        "TEST": {"NAME": "test_dt_signals"},
    },
}
