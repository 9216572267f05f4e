"""Settings for the benchmark: the demo's shop models on a temporary SQLite file, the real toolbar middleware.

``DT_BENCH_DB_BACKEND=postgres`` (``make bench DB=postgres``) puts the databases in the PostgreSQL cluster at
``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT`` instead (databases ``bench`` and ``bench_archive``, which every
process of the run shares; the Makefile starts a throwaway cluster for it with ``python -m tests.services``).

``DT_BENCH_VARIANT=absent`` leaves ``dt_signals_panel`` out of everything (apps and panels), for the "package
absent" side of the not-recording comparison; it runs in its own process, so nothing of ours is ever imported.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "demo") not in sys.path:
    sys.path.insert(0, str(ROOT / "demo"))

VARIANT = os.environ.get("DT_BENCH_VARIANT", "installed")
#: True in the process that made the temporary directory: it removes it when the benchmark ends.
OWNS_DB_DIR = not os.environ.get("DT_BENCH_DB_DIR")
DB_DIR = Path(os.environ.get("DT_BENCH_DB_DIR") or tempfile.mkdtemp(prefix="dt_signals_bench_"))
os.environ.setdefault("DT_BENCH_DB_DIR", str(DB_DIR))

SECRET_KEY = "bench-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INTERNAL_IPS = ["127.0.0.1"]
ROOT_URLCONF = "bench.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "debug_toolbar",
    *(["dt_signals_panel"] if VARIANT == "installed" else []),
    "shop",
]
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"
DATABASES = {
    # DT_BENCH_DB: a database the main process made and seeded, read by the workers of scenario 3.
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DT_BENCH_DB") or DB_DIR / f"bench_{os.getpid()}.sqlite3",
    },
    "archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_DIR / f"bench_archive_{os.getpid()}.sqlite3"},
}
BACKEND = os.environ.get("DT_BENCH_DB_BACKEND", "sqlite")
if BACKEND == "postgres":
    DATABASES = {
        alias: {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "HOST": os.environ["DT_SIGNALS_PG_HOST"],
            "PORT": os.environ.get("DT_SIGNALS_PG_PORT", "5432"),
        }
        for alias, name in (("default", "bench"), ("archive", "bench_archive"))
    }
DATABASE_ROUTERS = ["shop.routers.ArchiveRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each scenario picks its panels (bench.harness.panels); the start-up list only has djdt register every
# panel's URLs once.
DEBUG_TOOLBAR_PANELS = [
    "debug_toolbar.panels.sql.SQLPanel",
    *(["dt_signals_panel.panel.SignalActivityPanel"] if VARIANT == "installed" else []),
]
DEBUG_TOOLBAR_CONFIG = {
    "IS_RUNNING_TESTS": False,
    # As under runserver (the test client claims a multiprocess server, which would render every panel inline).
    "RENDER_PANELS": False,
    "SHOW_TOOLBAR_CALLBACK": "bench.harness.show_toolbar",
    "ENABLE_STACKTRACES": True,
}
