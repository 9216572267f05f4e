"""The toolbar's own features keep working with the panel: History, RENDER_PANELS, every store, the panel's
checkbox, and SHOW_TOOLBAR_CALLBACK."""

from __future__ import annotations

from typing import Any

import pytest
from debug_toolbar.middleware import show_toolbar_func_or_path
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar
from django.core.cache import caches
from django.test import Client, override_settings

from tests.conftest import PANEL_ID, open_panel, request_id_of, wrapped_signals
from tests.test_escaping_and_secrets import history_table  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

CONFIG = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": False, "RESULTS_CACHE_SIZE": 100}


def history_sidebar(client: Client, request_id: str) -> dict[str, Any]:
    response = client.get("/__debug__/history_sidebar/", {"request_id": request_id, "exclude_history": "True"})
    assert response.status_code == 200
    sidebar: dict[str, Any] = response.json()
    return sidebar


def saved_labels(stats: dict[str, Any]) -> list[str]:
    return [e["args"]["instance"] for g in stats["groups"] if g["signal"] == "post_save" for e in g["events"]]


def test_history_switches_to_an_earlier_request_and_to_an_ajax_request_and_shows_their_signals(client):
    page = client.get("/create/")
    first = request_id_of(page)
    fetched = client.get("/trust/ajax/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert fetched.headers["Content-Type"] == "application/json"
    ajax = fetched.headers["djdt-request-id"]
    client.get("/")  # a later page, so both are "earlier" requests in the History panel
    listed = client.get("/__debug__/history_refresh/", {"request_id": first}).json()["requests"]
    assert {first, ajax} <= {row["id"] for row in listed}
    # Switching in History: the sidebar's buttons come from each request's stored stats...
    assert "2 saves" in history_sidebar(client, first)[PANEL_ID]["button"]
    assert "1 save" in history_sidebar(client, ajax)[PANEL_ID]["button"]
    # ...and the panel then loads that request's own signals.
    first_stats, first_content = open_panel(client, first)
    ajax_stats, ajax_content = open_panel(client, ajax)
    assert [label.split("“")[1] for label in saved_labels(first_stats)] == ["Ann”", "Ann Leckie”"]
    assert [label.split("“")[1] for label in saved_labels(ajax_stats)] == ["from ajax”"]
    assert "from ajax" not in first_content
    assert "Ann Leckie" not in ajax_content


@override_settings(DEBUG_TOOLBAR_CONFIG={**CONFIG, "RENDER_PANELS": True})
def test_render_panels_puts_the_panel_content_in_the_page(client):
    response = client.get("/create/")
    html = response.content.decode()
    assert 'class="djdt-sig"' in html
    assert 'data-signal="post_save"' in html
    assert "“Ann Leckie”" in html


@pytest.mark.parametrize("store", ["MemoryStore", "CacheStore"])
def test_each_store_keeps_and_renders_the_panel(client, store):
    caches["default"].clear()
    with override_settings(DEBUG_TOOLBAR_CONFIG={**CONFIG, "TOOLBAR_STORE_CLASS": f"debug_toolbar.store.{store}"}):
        assert get_store().__name__ == store  # type: ignore[attr-defined]  # djdt returns the class
        response = client.get("/create/")
        stats, content = open_panel(client, request_id_of(response))
        assert len(saved_labels(stats)) == 2
        assert "Ann Leckie" in content
        assert "2 saves" in history_sidebar(client, request_id_of(response))[PANEL_ID]["button"]
    caches["default"].clear()


@pytest.mark.django_db(transaction=True)
def test_the_database_store_keeps_and_renders_the_panel(client, history_table):  # noqa: F811
    config = {**CONFIG, "TOOLBAR_STORE_CLASS": "debug_toolbar.store.DatabaseStore"}
    with override_settings(DEBUG_TOOLBAR_CONFIG=config):
        response = client.get("/create/")
        stats, content = open_panel(client, request_id_of(response))
        assert len(saved_labels(stats)) == 2  # the store's own HistoryEntry saves are not among them
        assert "Ann Leckie" in content
        assert "2 saves" in history_sidebar(client, request_id_of(response))[PANEL_ID]["button"]


def test_the_panel_switched_off_by_its_checkbox_installs_and_records_nothing(client):
    client.cookies[f"djdt{PANEL_ID}"] = "off"
    response = client.get("/trust/installed/")
    assert b"installed=False" in response.content
    toolbar = DebugToolbar.fetch(request_id_of(response), PANEL_ID)
    assert toolbar is not None
    assert toolbar.get_panel_by_id(PANEL_ID).get_stats() == {}
    client.cookies[f"djdt{PANEL_ID}"] = "on"
    assert b"installed=True" in client.get("/trust/installed/").content


@pytest.fixture
def no_toolbar() -> Any:
    show_toolbar_func_or_path.cache_clear()  # djdt caches the callback for the life of the process
    with override_settings(DEBUG_TOOLBAR_CONFIG={**CONFIG, "SHOW_TOOLBAR_CALLBACK": lambda request: False}):
        yield
    show_toolbar_func_or_path.cache_clear()


def test_show_toolbar_callback_returning_false_records_nothing(client, no_toolbar):
    stored_before = list(get_store().request_ids())
    response = client.get("/trust/installed/")
    assert b"installed=False" in response.content
    assert b"djDebug" not in response.content
    assert list(get_store().request_ids()) == stored_before
    assert not wrapped_signals()


@pytest.mark.django_db(transaction=True)
async def test_show_toolbar_callback_returning_false_records_nothing_under_asgi(async_client, no_toolbar):
    response = await async_client.get("/trust/installed/")
    assert b"installed=False" in response.content
    assert b"djDebug" not in response.content
