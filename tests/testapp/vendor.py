"""Stands for a reusable app the project installs (the tests hide it with ``HIDE_IN_STACKTRACES``, as a
project would a third-party package): its saves are framework code, not the project's."""

from __future__ import annotations

from collections.abc import Callable

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
