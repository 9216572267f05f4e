"""A user's services module. ``CATALOG_REGRESSION=1`` brings back a bug: one more save per book."""

from __future__ import annotations

import os

from tests.testapp.models import Author, Book, Tag


def publish(author: Author, titles: list[str]) -> list[Book]:
    books = []
    for title in titles:
        books.append(Book.objects.create(title=title, author=author))
        if os.environ.get("CATALOG_REGRESSION"):
            author.save()
    return books


def tag(book: Book, *names: str) -> None:
    book.tags.add(*[Tag.objects.create(name=name) for name in names])


async def apublish(author: Author, title: str) -> Book:
    return await Book.objects.acreate(title=title, author=author)
