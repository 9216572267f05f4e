"""Settings for the test suite: the real toolbar middleware, two real SQLite databases."""

from __future__ import annotations

import os
import tempfile

SECRET_KEY = "not-secret-tests-only"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INTERNAL_IPS = ["127.0.0.1"]
ROOT_URLCONF = "tests.testapp.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "debug_toolbar",
    "dt_signals_panel",
    "tests.testapp",
    "tests.rowstateapp",
]
MIDDLEWARE = [
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"

_tmp = os.environ.get("DT_SIGNALS_TEST_DB_DIR") or tempfile.gettempdir()
DATABASES = {
    # File-backed so the live-server and threaded tests share one database with the test thread.
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_tmp, "dt_signals_default.sqlite3"),
        "TEST": {"NAME": os.path.join(_tmp, f"dt_signals_test_default_{os.getpid()}.sqlite3")},
    },
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_tmp, "dt_signals_other.sqlite3"),
        "TEST": {"NAME": os.path.join(_tmp, f"dt_signals_test_other_{os.getpid()}.sqlite3")},
    },
}
DATABASE_ROUTERS = ["tests.testapp.routers.ArchiveRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "tests.testapp.backends.PinBackend",
]

DEBUG_TOOLBAR_PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.sql.SQLPanel",
    "dt_signals_panel.panel.SignalActivityPanel",
]
DEBUG_TOOLBAR_CONFIG = {
    "IS_RUNNING_TESTS": False,
    "RENDER_PANELS": False,
    "RESULTS_CACHE_SIZE": 100,
}
