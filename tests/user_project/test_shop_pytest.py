"""A user's pytest tests: the ``signal_capture`` fixture and ``dt_signals_panel.testing``, nothing else."""

from __future__ import annotations

import pytest
import shop

from dt_signals_panel.testing import (
    assert_no_credentials_in_clear,
    assert_no_redundant_saves,
    assert_signal_count,
)
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    return Book.objects.create(title="Wizard", author=Author.objects.create(name="Le Guin"))


def test_rename_book_saves_once(book, signal_capture):
    shop.rename_book(book, "A Wizard of Earthsea")
    assert_no_redundant_saves(signal_capture)


def test_publish_sends_one_post_save_per_book(signal_capture):
    shop.publish(Author.objects.create(name="Butler"), ["Kindred", "Dawn"])
    assert_signal_count(signal_capture, "post_save", 2, sender=Book)
    assert_signal_count(signal_capture, "post_save", 3)


def test_a_rejected_pin_never_reaches_receivers_in_clear(signal_capture):
    shop.reject_pin_login(None, "ursula", "1234")
    assert_no_credentials_in_clear(signal_capture)


def test_touch_is_a_known_redundant_save(book, signal_capture):
    shop.touch(book.author_id)
    assert_no_redundant_saves(signal_capture, allow=[("testapp.Author", "nothing_changed")])
