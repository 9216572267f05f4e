"""The application code under test, after the fix: what a project's services module would hold."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed

from tests.testapp.models import Author, Book


def rename_book(book: Book, title: str) -> None:
    book.title = title
    book.save(update_fields=["title"])


def publish(author: Author, titles: list[str]) -> list[Book]:
    return [Book.objects.create(title=title, author=author) for title in titles]


def reject_pin_login(request: Any, username: str, pin: str) -> None:
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def touch(author_id: int) -> None:
    """Known and wanted: saving an unchanged author bumps its row for a replication job."""
    Author.objects.get(pk=author_id).save()
