"""Stands for a reusable app the project installs (the tests hide it with ``HIDE_IN_STACKTRACES``, as a
project would a third-party package): its saves are framework code, not the project's."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse

from tests.testapp.models import Author


def edit_view(hook: Callable[[HttpRequest], object]) -> Callable[[HttpRequest], HttpResponse]:
    """A view the app provides: it saves the row twice itself, then calls the project's hook."""

    def view(request: HttpRequest) -> HttpResponse:
        author = Author.objects.create(name="Vendor")
        author.name = "Vendor again"
        author.save()
        hook(request)
        return HttpResponse("<html><body>vendor</body></html>")

    return view


def failed_login(request: HttpRequest) -> HttpResponse:
    """A login view the app provides, that passes a PIN to ``authenticate()``: Django masks the password only."""
    authenticate(request, username="nobody", password="wrong", pin="4821")
    return HttpResponse("<html><body>vendor login</body></html>")
