"""Recorded data goes through every djdt store and comes back as it was, whatever its keys and values."""

from __future__ import annotations

from typing import Any

import pytest
from debug_toolbar.store import get_store
from django.core.cache import caches
from django.test import Client, override_settings

from dt_signals_panel import stored
from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.test_escaping_and_secrets import history_table  # noqa: F401 - a fixture
from tests.testapp.secret_views import HOSTILE, HOSTILE_B64, HOSTILE_KEYS

pytestmark = pytest.mark.django_db

EXTRA = {"EXTRA_SIGNALS": ["tests.testapp.trust_views.odd_values"]}
CONFIG = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": False, "RESULTS_CACHE_SIZE": 100}


def keys_everywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in keys_everywhere(item)}
    if isinstance(value, list):
        return {k for item in value for k in keys_everywhere(item)}
    return set()


def assert_hostile_keys_round_trip(client: Client) -> None:
    earlier = client.get("/create/")
    assert earlier.status_code == 200
    response = client.get("/secrets/hostile-keys/")
    assert response.status_code == 200
    request_id = request_id_of(response)
    stats, content = open_panel(client, request_id)  # render_panel answers 200
    # Every hostile key comes back as the key it was, in the argument, the init example and the credentials.
    assert set(HOSTILE_KEYS) <= keys_everywhere(stats)
    event, _ = [e for g in stats["groups"] if g["signal"] == "odd_values" for e in g["events"]]
    assert event["args"]["payload"] == HOSTILE
    assert event["args"]["other"] == HOSTILE_B64  # not turned into bytes by djdt's decoder
    assert event["args"]["nested"] == {"a": [HOSTILE]}
    assert {k: event["args"][k] for k in HOSTILE} == HOSTILE
    (author,) = [row for row in stats["inits"] if row["sender"] == "testapp.Author"]
    assert author["example"]["kwargs"] == HOSTILE
    assert "__djdt_binary__" in content
    assert stored.FLAG not in stats
    # History lists every stored request, the earlier one and this one.
    listed = client.get("/__debug__/history_refresh/", {"request_id": request_id_of(earlier)})
    assert listed.status_code == 200, listed.content[:300]
    assert {request_id_of(earlier), request_id} <= {row["id"].replace("-", "") for row in listed.json()["requests"]}
    sidebar = client.get("/__debug__/history_sidebar/", {"request_id": request_id, "exclude_history": "True"})
    assert sidebar.status_code == 200
    assert "1 signal" not in sidebar.json()[PANEL_ID]["button"]


@override_settings(DT_SIGNALS_PANEL=EXTRA)
@pytest.mark.parametrize("store", ["MemoryStore", "CacheStore"])
def test_keys_that_djdt_decodes_as_its_own_markers_round_trip_through_the_store(client, store):
    caches["default"].clear()
    with override_settings(DEBUG_TOOLBAR_CONFIG={**CONFIG, "TOOLBAR_STORE_CLASS": f"debug_toolbar.store.{store}"}):
        assert get_store().__name__ == store  # type: ignore[attr-defined]
        assert_hostile_keys_round_trip(client)
    caches["default"].clear()


@pytest.mark.django_db(transaction=True)
@override_settings(DT_SIGNALS_PANEL=EXTRA)
def test_keys_that_djdt_decodes_as_its_own_markers_round_trip_through_the_database_store(client, history_table):  # noqa: F811
    with override_settings(DEBUG_TOOLBAR_CONFIG={**CONFIG, "TOOLBAR_STORE_CLASS": "debug_toolbar.store.DatabaseStore"}):
        assert get_store().__name__ == "DatabaseStore"  # type: ignore[attr-defined]
        assert_hostile_keys_round_trip(client)


@override_settings(DT_SIGNALS_PANEL=EXTRA, DEBUG_TOOLBAR_CONFIG={**CONFIG, "RENDER_PANELS": True})
def test_hostile_keys_and_unencodable_text_render_inline_in_the_page(client):
    response = client.get("/secrets/hostile-keys/")
    assert response.status_code == 200
    assert b"__djdt_binary__" in response.content
    assert b"half \\ud800 pair" in response.content


def test_encoding_is_undone_exactly_and_costs_nothing_to_read_back_when_no_key_was_escaped():
    plain = {"summary": {"signals": 1}, "groups": [{"args": {"a": "b"}}]}
    assert stored.decode(stored.encode(plain)) == plain
    assert stored.FLAG not in stored.encode(plain)
    odd = {"x": {key: [{key: key}] for key in [*HOSTILE_KEYS, "\\\\", "_", "a__"]}}
    encoded = stored.encode(odd)
    assert not {"__djdt_binary__", "__djdt_postgis__"} & keys_everywhere(encoded)
    assert stored.decode(encoded) == odd
