"""A user's Django ``TestCase``: ``SignalAssertionsMixin``, nothing else."""

from __future__ import annotations

import shop
from django.test import TestCase

from dt_signals_panel.testing import SignalAssertionsMixin
from tests.testapp.models import Author, Book


class ShopTests(SignalAssertionsMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.author = Author.objects.create(name="Le Guin")

    def test_rename_book_saves_once(self):
        book = Book.objects.create(title="Wizard", author=self.author)
        with self.assertNoRedundantSaves():
            shop.rename_book(book, "A Wizard of Earthsea")

    def test_publish_sends_one_post_save_per_book(self):
        with self.assertSignalCount("post_save", 2):
            shop.publish(self.author, ["The Lathe of Heaven", "The Word for World"])

    def test_a_rejected_pin_never_reaches_receivers_in_clear(self):
        with self.assertNoCredentialsInClear():
            shop.reject_pin_login(None, "ursula", "1234")

    def test_touch_is_a_known_redundant_save(self):
        with self.assertNoRedundantSaves(allow=[(Author, "nothing_changed")]):
            shop.touch(self.author.pk)
