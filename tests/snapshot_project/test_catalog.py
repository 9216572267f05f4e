"""A user's pytest tests with signal snapshots."""

from __future__ import annotations

import os

import catalog
import pytest

from dt_signals_panel.testing import expect_signal_snapshot
from tests.testapp.models import Author

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return Author.objects.create(name="Le Guin")


def test_publish(author, signal_snapshot):
    catalog.publish(author, ["Kindred", "Dawn"])


@pytest.mark.parametrize("count", [1, 3])
def test_publish_many(author, signal_snapshot, count):
    catalog.publish(author, [f"Book {i}" for i in range(count)])


def test_tag_in_blocks(author):
    (book,) = catalog.publish(author, ["Wizard"])
    with expect_signal_snapshot():
        catalog.tag(book, "fantasy", "classic")
    with expect_signal_snapshot("delete"):
        book.delete()


def test_fails_for_another_reason(author, signal_snapshot):
    catalog.publish(author, ["Lost"])
    assert not os.environ.get("CATALOG_FAIL"), "this test failed for a reason of its own"


@pytest.mark.django_db(transaction=True)
async def test_apublish(signal_snapshot):
    author = await Author.objects.acreate(name="Butler")
    async with expect_signal_snapshot("block"):
        await catalog.apublish(author, "Wild Seed")


class TestGrouped:
    def test_publish_in_a_class(self, author, signal_snapshot):
        catalog.publish(author, ["Dawn"])
