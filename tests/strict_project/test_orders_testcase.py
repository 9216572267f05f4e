"""The same, as a user's Django TestCase."""

from __future__ import annotations

import orders
from django.test import TestCase, TransactionTestCase

from dt_signals_panel.testing import signals_allow
from tests.testapp.models import Author, Book


class OrderTests(TestCase):
    def setUp(self):
        self.book = Book.objects.create(title="Wizard", author=Author.objects.create(name="Le Guin"))
        self.book.save()  # set-up's own redundant save: not judged unless asked

    def test_publish(self):
        orders.publish(self.book.author, ["Kindred"])

    def test_rename(self):
        orders.rename(self.book, "A Wizard of Earthsea")

    @signals_allow(("testapp.Book", "*"))
    def test_rename_known(self):
        orders.rename(self.book, "The Tombs of Atuan")

    def test_log_out(self):
        orders.log_out()


class AsyncOrderTests(TransactionTestCase):
    async def test_arename(self):
        author = await Author.objects.acreate(name="Butler")
        book = await Book.objects.acreate(title="Kindred", author=author)
        await orders.arename(book, "Dawn")
