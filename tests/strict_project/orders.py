"""A user's services module: one clean function, one with a redundant save, one whose receiver fails."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out

from tests.testapp.models import Author, Book


def publish(author: Author, titles: list[str]) -> list[Book]:
    return [Book.objects.create(title=title, author=author) for title in titles]


def rename(book: Book, title: str) -> None:
    book.title = title
    book.save()
    book.save()  # bug: the same row saved again, nothing changed


async def arename(book: Book, title: str) -> None:
    book.title = title
    await book.asave(update_fields=["title"])
    await book.asave(update_fields=["title"])  # bug: the same row saved again


def audit_logout(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("audit log unreachable")


user_logged_out.connect(audit_logout, dispatch_uid="orders.audit_logout")


def log_out() -> None:
    # send_robust logs the receiver's exception and goes on: the audit entry is silently lost.
    user_logged_out.send_robust(sender=Author, request=None, user=None)
