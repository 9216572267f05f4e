"""Views where framework code, not the project's, makes the sends: sessions, a reusable app, select_related."""

from __future__ import annotations

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse

from tests.testapp import vendor
from tests.testapp.models import Author, Book
from tests.testapp.views import page


def log_in_with_database_sessions(request: HttpRequest) -> HttpResponse:
    user = authenticate(request, username="alice", password="wonderland")
    login(request, user)
    return page(user)


def save_twice_hook(request: HttpRequest) -> None:
    """The project's own code, called by the reusable app: a redundant save of its own."""
    book = Book.objects.get(title="Hooked")
    book.price = 3
    book.save(update_fields=["price"])
    book.price = 4
    book.save(update_fields=["price"])


vendor_edit = vendor.edit_view(save_twice_hook)


def books_with_authors(request: HttpRequest) -> HttpResponse:
    books = list(Book.objects.select_related("author").order_by("pk"))
    return page(len(books))


def authors_once(request: HttpRequest) -> HttpResponse:
    authors = list(Author.objects.order_by("pk"))
    return page(len(authors))
