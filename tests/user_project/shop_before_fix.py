"""The application code under test, before the fix: each function has the bug its test catches."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed

from tests.testapp.models import Author, Book


def rename_book(book: Book, title: str) -> None:
    book.title = title
    book.save()  # bug: a full save for one field
    book.save()  # bug: the same row saved again, nothing changed


def publish(author: Author, titles: list[str]) -> list[Book]:
    books = []
    for title in titles:
        books.append(Book.objects.create(title=title, author=author))
        author.save()  # bug: one more save per book
    return books


def reject_pin_login(request: Any, username: str, pin: str) -> None:
    # bug: Django masks only api|token|key|secret|password|signature, and nothing when we send it ourselves
    user_login_failed.send(sender=__name__, credentials={"username": username, "pin": pin}, request=request)


def touch(author_id: int) -> None:
    """Known and wanted: saving an unchanged author bumps its row for a replication job."""
    Author.objects.get(pk=author_id).save()
