"""A user's pytest tests, written without strict mode in mind."""

from __future__ import annotations

import orders
import pytest

from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    book = Book.objects.create(title="Wizard", author=Author.objects.create(name="Le Guin"))
    book.save()  # a fixture's own redundant save: set-up, not judged unless asked
    return book


def test_publish(book):
    orders.publish(book.author, ["Kindred", "Dawn"])
    assert Book.objects.count() == 3


def test_rename(book):
    orders.rename(book, "A Wizard of Earthsea")


@pytest.mark.signals_allow(("testapp.Book", "*"))
def test_rename_known(book):
    orders.rename(book, "The Tombs of Atuan")


def test_log_out():
    orders.log_out()


@pytest.mark.signals_allow("orders.audit_logout")
def test_log_out_known():
    orders.log_out()


@pytest.mark.django_db(transaction=True)
async def test_arename():
    author = await Author.objects.acreate(name="Butler")
    book = await Book.objects.acreate(title="Kindred", author=author)
    await orders.arename(book, "Dawn")
