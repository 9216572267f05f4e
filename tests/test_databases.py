"""Several databases of different vendors in one request: each event carries the alias its query went to,
and the rows land where the router sends them, with the panel recording as with it off."""

from __future__ import annotations

import pytest
from django.db import connections

from tests.conftest import PANEL_ID
from tests.testapp.models import ArchivedNote, Author

pytestmark = pytest.mark.django_db(databases=["default", "other"])


@pytest.fixture(autouse=True)
def _postgresql_and_sqlite() -> None:
    if connections["default"].vendor != "postgresql":
        pytest.skip("needs default on PostgreSQL: make test runs it with --ds=tests.settings_postgres")
    assert connections["other"].vendor == "sqlite"


def test_one_request_writing_to_postgresql_and_sqlite_records_each_event_with_its_alias(visit):
    opened = visit("/deploy/two-databases/")
    saves = [(e["sender"], e["args"]["using"], e["args"]["update_fields"]) for e in opened.events("post_save")]
    assert saves == [
        ("testapp.Author", "default", None),
        ("testapp.ArchivedNote", "other", None),
        ("testapp.Author", "default", ["name"]),
    ]
    # Nobody listens to ArchivedNote's deletes: Django's fast delete on the SQLite alias sends nothing.
    assert opened.events("post_delete") == []
    assert Author.objects.using("default").get().name == "Primary again"
    assert not ArchivedNote.objects.using("other").exists()


@pytest.mark.parametrize("panel", ["on", "off"])
def test_the_rows_go_where_the_router_sends_them_with_the_panel_on_or_off(client, panel):
    client.cookies[f"djdt{PANEL_ID}"] = panel
    assert client.get("/deploy/two-databases/").status_code == 200
    assert Author.objects.using("default").count() == 1
    assert ArchivedNote.objects.using("other").count() == 0
