"""Views that build each situation a finding is about."""

from __future__ import annotations

import time
from typing import Any

from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse

from tests.testapp.models import Author, Book
from tests.testapp.views import page

#: A custom signal the tests list in EXTRA_SIGNALS and send robustly.
order_placed = Signal()


def saved_twice(request: HttpRequest) -> HttpResponse:
    author = Author.objects.create(name="Twice")
    author.name = "Twice again"
    author.save()
    return page(author.pk)


def unchanged_save(request: HttpRequest) -> HttpResponse:
    author = Author.objects.get(name="Steady")
    author.save()
    return page(author.pk)


def full_save_one_field(request: HttpRequest) -> HttpResponse:
    book = Book.objects.get(title="Partial")
    book.price = 12
    book.save()
    return page(book.pk)


def robust_send(request: HttpRequest) -> HttpResponse:
    responses = order_placed.send_robust(sender=Book, order_id=7)
    return page(len(responses))


def chain(request: HttpRequest) -> HttpResponse:
    author = Author.objects.create(name="Chained")
    Book.objects.create(title="Starts a chain", author=author)
    return page()


def slow_receiver(sender: Any, **kwargs: Any) -> None:
    time.sleep(0.05)


def quick_receiver(sender: Any, **kwargs: Any) -> None:
    pass


def failing_receiver(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("receiver broke")


def audit_receiver(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A post_save receiver that saves another model: the nested sends belong under this one."""
    if created:
        Author.objects.filter(pk=instance.author_id).update(name="audited")
        Author.objects.create(name=f"audit of {instance.title}")


def credentials(request: HttpRequest) -> HttpResponse:
    """Send user_login_failed with posted credentials, through authenticate() or directly."""
    import json

    from django.contrib.auth import authenticate
    from django.contrib.auth.signals import user_login_failed

    body = json.loads(request.body)
    if body["authenticate"]:
        authenticate(request, **body["credentials"])
    else:
        user_login_failed.send(sender="tests.direct", credentials=body["credentials"], request=request)
    return page()


def save_every_author(request: HttpRequest) -> HttpResponse:
    """One loop, one call site: every author saved unchanged."""
    authors = list(Author.objects.all())
    for author in authors:
        author.save()
    return page(len(authors))
