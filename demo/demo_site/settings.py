"""Settings of the demo shop: DEBUG on, the toolbar on every page, the signal panel after djdt's own panels.

Two SQLite files live next to ``manage.py`` (``db.sqlite3`` and ``db_archive.sqlite3``, both git-ignored); set
``DEMO_DB_DIR`` to keep them somewhere else (the demo's test points it at a temporary directory), and
``DEMO_SHADOW_DOM=0`` to render the toolbar without its shadow root.

``DEMO_DB=postgres`` (what ``make demo DB=postgres`` sets) puts both databases in the PostgreSQL cluster at
``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT`` instead, databases ``demo`` and ``demo_archive``: the Makefile
starts a throwaway cluster for it with ``python -m tests.services``.
"""

from __future__ import annotations

import os
from pathlib import Path

from debug_toolbar.settings import PANELS_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent
DB_DIR = Path(os.environ.get("DEMO_DB_DIR") or BASE_DIR)

SECRET_KEY = "demo-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INTERNAL_IPS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "debug_toolbar",
    "dt_signals_panel",
    "shop",
]

MIDDLEWARE = [
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"
ASGI_APPLICATION = "demo_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES: dict[str, dict[str, object]] = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_DIR / "db.sqlite3"},
    # Only shop.ArchivedOrder lives here (see shop.routers): its saves carry using="archive".
    "archive": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_DIR / "db_archive.sqlite3"},
}
if os.environ.get("DEMO_DB", "sqlite") == "postgres":
    DATABASES = {
        alias: {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "HOST": os.environ["DT_SIGNALS_PG_HOST"],
            "PORT": os.environ.get("DT_SIGNALS_PG_PORT", "5432"),
        }
        for alias, name in (("default", "demo"), ("archive", "demo_archive"))
    }
DATABASE_ROUTERS = ["shop.routers.ArchiveRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's default database sessions, as most projects have them: logging in and out saves and deletes
# sessions.Session rows, which the panel lists as framework code (issue 15).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

AUTHENTICATION_BACKENDS = [
    # Tried first: a second factor (otp + pin). It steps aside (returns None) when no otp/pin is posted.
    "shop.backends.SecondFactorBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

DEBUG_TOOLBAR_PANELS = [*PANELS_DEFAULTS, "dt_signals_panel.panel.SignalActivityPanel"]
DEBUG_TOOLBAR_CONFIG = {
    "ENABLE_STACKTRACES": True,
    # The toolbar lives in a shadow root by default (djdt 7+); DEMO_SHADOW_DOM=0 puts it in the page, as djdt 6
    # did. The browser tests run the demo both ways.
    "USE_SHADOW_DOM": os.environ.get("DEMO_SHADOW_DOM", "1") != "0",
}
DT_SIGNALS_PANEL = {
    # A custom signal of the shop, sent with send_robust by the "receiver that raises" page.
    "EXTRA_SIGNALS": ["shop.signals.order_placed"],
}
