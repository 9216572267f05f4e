"""Views and a middleware for the deployment tests (tests/test_workers.py, tests/test_databases.py): pages and
AJAX requests that fire a set of signals no other request has, and the worker's pid on every response so a
test can tell which gunicorn worker served it."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from tests.testapp.models import ArchivedNote, Author, Tag
from tests.testapp.views import page

WORKER_HEADER = "X-Worker-Pid"


def worker_pid(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Outermost middleware of tests.settings_workers: the toolbar's own views get the header too."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response[WORKER_HEADER] = str(os.getpid())
        return response

    return middleware


def _fire(token: str, n: int, request: HttpRequest) -> None:
    for i in range(n):
        Tag.objects.create(name=f"{token}-{i}")
    user_login_failed.send(sender=f"iso.{token}", credentials={"username": token}, request=request)


def tagged_page(request: HttpRequest, token: str, n: int) -> HttpResponse:
    """Saves ``n`` tags named ``token-i`` and sends one failed login from ``iso.token``."""
    _fire(token, n, request)
    return page(token)


def tagged_json(request: HttpRequest, token: str, n: int) -> JsonResponse:
    """The same as an AJAX endpoint: no toolbar in the body, its request id in the djdt-request-id header."""
    _fire(token, n, request)
    return JsonResponse({"token": token})


def two_databases(request: HttpRequest) -> HttpResponse:
    """One request that writes to ``default`` and, through the router, to ``other``."""
    author = Author.objects.create(name="Primary")
    note = ArchivedNote.objects.create(text="archived")
    author.name = "Primary again"
    author.save(update_fields=["name"])
    note.delete()
    return page(author.pk)


urlpatterns = [
    path("page/<str:token>/<int:n>/", tagged_page),
    path("ajax/<str:token>/<int:n>/", tagged_json),
    path("two-databases/", two_databases),
]
