"""Every value reaches the page escaped, and no sensitive credential value is stored by any djdt store."""

from __future__ import annotations

import re
from typing import Any

import pytest
from debug_toolbar.store import DatabaseStore, MemoryStore, get_store
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings

from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.testapp import trust_views

pytestmark = pytest.mark.django_db

EXTRA = {"EXTRA_SIGNALS": ["tests.testapp.trust_views.odd_values"]}
PAYLOADS = [
    "sourceLine()",
    "senderName()",
    "credentialKey()",
    "argument()",
    "receiverName()",
    "receiverError()",
]


@pytest.fixture
def html_receiver():
    trust_views.odd_values.connect(trust_views.html_receiver, weak=False)
    yield
    trust_views.odd_values.disconnect(trust_views.html_receiver)


def assert_only_escaped(html: str, payloads: list[str]) -> None:
    for payload in payloads:
        assert f"<script>{payload}" not in html, payload
        assert f"&lt;script&gt;{payload}" in html, payload


@override_settings(DT_SIGNALS_PANEL=EXTRA)
def test_html_from_every_source_is_escaped_in_the_panel(visit, html_receiver):
    opened = visit("/trust/escape/")
    assert_only_escaped(opened.content, PAYLOADS)
    # A model's str() text too (the label computes it from the name); the credential's value is masked, so
    # not there at all.
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in opened.content
    assert "credentialValue()" not in opened.content
    assert "&lt;b&gt;key&lt;/b&gt;" in opened.content
    # Our panel's content carries no script element and no markup from the data at all.
    assert "<script" not in opened.content.lower()
    assert "<b>key" not in opened.content


@override_settings(
    DT_SIGNALS_PANEL=EXTRA,
    DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False, "RENDER_PANELS": True, "RESULTS_CACHE_SIZE": 100},
)
def test_html_is_escaped_when_the_toolbar_renders_panels_inline(client, html_receiver):
    response = client.get("/trust/escape/")
    assert response.status_code == 200
    assert_only_escaped(response.content.decode(), PAYLOADS)


# -- secrets in every store -----------------------------------------------------------------------------
#: Values the views hand to user_login_failed; none may be stored in clear by any store.
SECRETS = ["wrong-password-123", "p1n-4921", "otp-771234", "hunter2-clear", "s3cr3t-t0ken"]
#: Sent with the request itself (header, query string): our panel keeps only the method and the path.
REQUEST_SECRETS = {"HTTP_AUTHORIZATION": "Bearer hdr-0tp-998877", "QUERY_STRING": "otp=qs-556677"}


def failed_logins(client: Client) -> list[str]:
    ids = []
    for url in ("/failed-login/", "/direct-failed-login/"):
        response = client.get(url, **REQUEST_SECRETS)  # type: ignore[arg-type]
        assert response.status_code == 200
        ids.append(request_id_of(response))
    return ids


def assert_no_secret(raw: str, ours: str) -> None:
    assert "sensitive_in_clear" in ours, "the failed logins were not recorded"
    for secret in SECRETS:
        assert secret not in raw, secret
    for secret in ("hdr-0tp-998877", "qs-556677"):
        assert secret not in ours, secret


def test_memory_store_holds_no_credential_value(client):
    assert get_store() is MemoryStore  # type: ignore[comparison-overlap]  # djdt returns the class
    ids = failed_logins(client)
    raw = repr(dict(MemoryStore._request_store))
    ours = repr([MemoryStore._request_store[i][PANEL_ID] for i in ids])
    assert_no_secret(raw, ours)
    for request_id in ids:
        open_panel(client, request_id)  # and it renders from what is stored


@override_settings(
    DEBUG_TOOLBAR_CONFIG={
        "IS_RUNNING_TESTS": False,
        "RENDER_PANELS": False,
        "TOOLBAR_STORE_CLASS": "debug_toolbar.store.CacheStore",
    }
)
def test_cache_store_holds_no_credential_value(client):
    cache = caches["default"]
    cache.clear()
    assert get_store().__name__ == "CacheStore"  # type: ignore[attr-defined]  # djdt returns the class
    ids = failed_logins(client)
    # LocMemCache keeps pickles: the raw bytes are what any cache backend would be handed.
    raw = b"".join(cache._cache.values()).decode("utf-8", "replace")  # type: ignore[attr-defined]
    ours = repr([get_store().panel(i, PANEL_ID) for i in ids])
    assert re.search(r"req:[0-9a-f]{32}", " ".join(cache._cache))  # type: ignore[attr-defined]
    assert_no_secret(raw, ours)
    for request_id in ids:
        open_panel(client, request_id)
    cache.clear()


@pytest.fixture
def history_table() -> Any:
    # djdt creates HistoryEntry's table only when DatabaseStore is configured at start-up; make it here.
    from debug_toolbar.models import HistoryEntry

    with connection.schema_editor() as editor:
        editor.create_model(HistoryEntry)
    yield HistoryEntry
    with connection.schema_editor() as editor:
        editor.delete_model(HistoryEntry)


@pytest.mark.django_db(transaction=True)
@override_settings(
    DEBUG_TOOLBAR_CONFIG={
        "IS_RUNNING_TESTS": False,
        "RENDER_PANELS": False,
        "TOOLBAR_STORE_CLASS": "debug_toolbar.store.DatabaseStore",
    }
)
def test_database_store_holds_no_credential_value_and_its_rows_are_not_recorded(client, history_table):
    assert get_store() is DatabaseStore  # type: ignore[comparison-overlap]  # djdt returns the class
    ids = failed_logins(client)
    raw = repr(list(history_table.objects.values_list("data", flat=True)))
    ours = repr([DatabaseStore.panel(i, PANEL_ID) for i in ids])
    assert_no_secret(raw, ours)
    for request_id in ids:
        stats, _ = open_panel(client, request_id)
        senders = {e["sender"] for g in stats["groups"] for e in g["events"]}
        assert not {s for s in senders if s.startswith("debug_toolbar.")}


def test_the_exports_hold_no_credential_value(client):
    for request_id in failed_logins(client):
        for fmt in ("json", "text"):
            response = client.get("/__debug__/signal_activity/export/", {"request_id": request_id, "format": fmt})
            assert response.status_code == 200
            body = response.content.decode()
            assert "user_login_failed" in body
            for secret in [*SECRETS, "hdr-0tp-998877", "qs-556677"]:
                assert secret not in body, (fmt, secret)
