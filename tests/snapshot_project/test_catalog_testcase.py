"""A user's Django TestCase with signal snapshots."""

from __future__ import annotations

import catalog
from django.test import TestCase, TransactionTestCase

from dt_signals_panel.testing import SignalAssertionsMixin
from tests.testapp.models import Author


class CatalogTests(SignalAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = Author.objects.create(name="Le Guin")

    def test_publish(self):
        with self.assertSignalSnapshot():
            catalog.publish(self.author, ["Kindred", "Dawn"])

    def test_tag(self):
        (book,) = catalog.publish(self.author, ["Wizard"])
        with self.assertSignalSnapshot():
            catalog.tag(book, "fantasy")


class AsyncCatalogTests(SignalAssertionsMixin, TransactionTestCase):
    async def test_apublish(self):
        author = await Author.objects.acreate(name="Butler")
        async with self.assertSignalSnapshot():
            await catalog.apublish(author, "Wild Seed")
