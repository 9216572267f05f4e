"""The test settings with PostgreSQL as the ``default`` database; ``other`` stays SQLite, so a request can
write to a PostgreSQL and a SQLite alias at once.

``pytest --ds=tests.settings_postgres`` (what ``make test`` runs second) collects the modules of
``POSTGRES_SUITE`` only, unless test files are named on the command line: the tests whose subject is what a
database does (SQL text and order, return values, fast paths, transactions, findings, isolation, memory, the
signals themselves). The rest (packaging, the plugin's and a user project's subprocesses) do not depend on
the backend.

The cluster is a throwaway one: ``tests/conftest.py`` starts it before the test databases are created and
fills in HOST and PORT; ``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT`` point at one already running instead.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

POSTGRES_SUITE = [
    "tests/test_observer_effect.py",
    "tests/test_findings.py",
    "tests/test_isolation.py",
    "tests/test_memory.py",
    "tests/test_databases.py",
    "tests/test_signals.py",
    "tests/test_receivers.py",
    "tests/test_row_state.py",
    "tests/test_application_code.py",
    "tests/test_dispatch.py",
    "tests/test_receiver_queries.py",
    "tests/test_framework.py",
]

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
