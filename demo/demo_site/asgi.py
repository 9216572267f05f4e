"""ASGI entry point: ``cd demo && ../.venv/bin/uvicorn demo_site.asgi:application --port 8000``.

Under ASGI nothing serves static files unless we do, and the toolbar needs its own JavaScript and CSS: in
DEBUG, wrap the application in staticfiles' ASGI handler (what ``runserver`` does for WSGI).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")

application = get_asgi_application()

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
