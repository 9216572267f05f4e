"""Secrets never reach a store or the page: request-like objects, credential models, echoes of masked
values, and the sensitive names. Each test reads what every djdt store holds and what render_panel sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from debug_toolbar.store import get_store
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client, override_settings

from dt_signals_panel import masking
from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.test_escaping_and_secrets import history_table  # noqa: F401 - a fixture
from tests.testapp import secret_views
from tests.testapp.models import Author, Book
from tests.testapp.trust_views import odd_values

EXTRA = {"EXTRA_SIGNALS": ["tests.testapp.trust_views.odd_values"]}
CONFIG = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": False, "RESULTS_CACHE_SIZE": 100}
STORES = ["MemoryStore", "CacheStore", "DatabaseStore"]
# Transactional: djdt's DatabaseStore table is made for the test, which SQLite refuses inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


class Seen:
    """What one request left: the stats as read back, the panel's HTML, and the raw text of the store."""

    def __init__(self, client: Client, url: str, **extra: Any) -> None:
        self.response = client.get(url, **extra)
        assert self.response.status_code == 200, self.response.content[:300]
        self.request_id = request_id_of(self.response)
        self.stats, self.content = open_panel(client, self.request_id)
        self.raw = raw_store(self.request_id)

    def events(self, signal: str) -> list[dict[str, Any]]:
        return [e for g in self.stats["groups"] if g["signal"] == signal for e in g["events"]]

    def assert_nowhere(self, *secrets: str) -> None:
        for secret in secrets:
            at = self.raw.find(secret)
            assert at < 0, f"{secret!r} is in the store: {self.raw[max(0, at - 300) : at + 100]!r}"
            assert secret not in self.content, f"{secret!r} is in the rendered panel"
            assert secret not in repr(self.stats), f"{secret!r} is in the stats"


def raw_store(request_id: str) -> str:
    """Our panel's entry for one request, as the configured store keeps it (djdt's serialized JSON)."""
    store: Any = get_store()
    if store.__name__ == "MemoryStore":
        return str(store._request_store[request_id][PANEL_ID])
    if store.__name__ == "CacheStore":
        return str(store._get_cache().get(store._request_key(request_id))[PANEL_ID])
    from debug_toolbar.models import HistoryEntry

    return str(HistoryEntry.objects.get(request_id=request_id).data[PANEL_ID])  # type: ignore[attr-defined]


@pytest.fixture(params=STORES)
def store(request: Any) -> Iterator[str]:
    name = request.param
    caches["default"].clear()
    config = {**CONFIG, "TOOLBAR_STORE_CLASS": f"debug_toolbar.store.{name}"}
    with override_settings(DEBUG_TOOLBAR_CONFIG=config, DT_SIGNALS_PANEL=EXTRA):
        assert get_store().__name__ == name  # type: ignore[attr-defined]
        if name == "DatabaseStore":
            request.getfixturevalue("history_table")
        yield name
        get_store().clear()
    caches["default"].clear()


# -- request-like objects --------------------------------------------------------------------------------
MAGIC = "magic-link-0a9b8c7d"


def test_a_request_wrapper_is_labelled_by_method_and_path_never_by_its_str(client, store):
    seen = Seen(client, "/secrets/request-like/", QUERY_STRING=f"token={MAGIC}")
    seen.assert_nowhere(MAGIC)
    labels = [e["args"]["request"] for e in seen.events("user_login_failed")]
    assert labels == ["GET /secrets/request-like/", "GET /secrets/request-like/"]
    (sent,) = seen.events("odd_values")
    assert sent["args"]["request"] == "GET /secrets/request-like/"
    assert sent["args"]["context"] == {"request": "GET /secrets/request-like/"}


def test_a_request_wrapper_is_labelled_without_running_its_code():
    from django.test import RequestFactory

    class Wrapper:
        def __init__(self, request: Any) -> None:
            self._request = request
            self.ran: list[str] = []

        def __getattr__(self, name: str) -> Any:
            self.ran.append(name)
            return getattr(self._request, name)

        def __str__(self) -> str:
            self.ran.append("__str__")
            return "ran"

    wrapper = Wrapper(RequestFactory().get("/p/", {"token": MAGIC}))
    from dt_signals_panel.labels import request_label

    assert request_label(wrapper) == "GET /p/"
    assert wrapper.ran == []
    assert request_label(object()) == "<request>"


# -- credential models -------------------------------------------------------------------------------------
@pytest.fixture
def alice(store: str) -> Any:
    return get_user_model().objects.create_user("alice", password="wonderland")


def test_the_session_key_issued_at_login_is_masked_everywhere(client, store, alice):
    seen = Seen(client, "/login/")
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    seen.assert_nowhere(key, key[:20])
    labels = [e["args"]["instance"] for e in seen.events("post_save") if e["sender"] == "sessions.Session"]
    assert labels
    assert all(re.fullmatch(r"sessions\.Session #•••••••• [0-9a-f]{6}", label) for label in labels), labels
    # Two rows stay apart: the digest of the new key is the same in every event about it.
    assert f"sessions.Session #{masking.masked(key)}" in labels


def test_a_token_model_keyed_by_its_token_is_masked_in_labels_and_findings(client, store):
    seen = Seen(client, "/secrets/token/")
    seen.assert_nowhere(secret_views.TOKEN, secret_views.TOKEN[:12])
    (finding,) = seen.stats["findings"]["redundant_saves"]
    assert finding["pk"] == masking.masked(secret_views.TOKEN)
    assert masking.masked(secret_views.TOKEN) in finding["message"]
    assert {e["args"]["instance"] for e in seen.events("post_save")} == {
        f"testapp.ApiToken #{masking.masked(secret_views.TOKEN)}"
    }
    (sent,) = seen.events("odd_values")
    assert sent["args"] == {"row": f"testapp.ApiToken #{masking.masked(secret_views.TOKEN)}", "note": "issued ••••••••"}


def test_credential_models_are_told_by_their_pk_name_or_a_whole_word_of_their_name():
    assert masking.is_credential_model(Session)
    assert not masking.is_credential_model(Author)  # "auth" is inside "Author", not a word of it
    assert not masking.is_credential_model(Book)
    assert not masking.is_credential_model(get_user_model())
    assert masking.digest("a") == masking.digest("a") != masking.digest("b")


# -- echoes ----------------------------------------------------------------------------------------------
@pytest.fixture
def echo_receiver() -> Iterator[None]:
    user_login_failed.connect(secret_views.echo_receiver, weak=False)
    odd_values.connect(secret_views.echo_receiver, weak=False)
    yield
    user_login_failed.disconnect(secret_views.echo_receiver)
    odd_values.disconnect(secret_views.echo_receiver)


def test_a_receiver_error_that_quotes_a_masked_value_is_stored_with_the_value_masked(client, store, echo_receiver):
    seen = Seen(client, "/secrets/echoes/")
    seen.assert_nowhere(secret_views.OTP, secret_views.API_SECRET)
    (failed,) = seen.events("user_login_failed")
    (receiver,) = failed["receivers"]
    assert receiver["error"] == "ValueError: invalid literal for int() with base 10: '••••••••'"
    (sent,) = seen.events("odd_values")
    assert sent["args"]["note"] == "note that quotes ••••••••"
    # The other event's value is scrubbed too: this receiver quotes the failed login's code.
    assert (
        sent["receivers"][0]["error"]
        == "ValueError: bad signature '••••••••' for note that quotes ••••••••; after otp ••••••••"
    )
    assert "&#x27;••••••••&#x27;" in seen.content


def test_a_short_masked_value_is_scrubbed_where_quoted_and_text_around_it_is_left_alone():
    pattern = masking.scrubber(["12", "long-secret"])
    assert masking.scrub(["code 12 is '12' or b'12'; long-secret"], pattern) == [
        "code 12 is '••••••••' or b'••••••••'; ••••••••"
    ]


# -- sensitive names ---------------------------------------------------------------------------------------
def test_jwt_bearer_hmac_nonce_and_salt_are_masked_and_long_names_are_matched_in_full(client, store):
    seen = Seen(client, "/secrets/names/")
    seen.assert_nowhere(secret_views.LONG_VALUE, *secret_views.NEW_NAMES.values())
    (sent,) = seen.events("odd_values")
    for name in secret_views.NEW_NAMES:
        assert sent["args"][name] == masking.MASK
        assert sent["args"]["extra"][name] == masking.MASK
    (failed,) = seen.events("user_login_failed")
    statuses = {row["key"]: row["status"] for row in failed["credentials"]}
    assert statuses.pop("username") == "not_sensitive"
    assert set(statuses.values()) == {"sensitive_in_clear"}
    assert len(statuses) == 6


def test_recognising_a_request_like_evaluates_no_lazy_object():
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    made: list[bool] = []
    lazy = SimpleLazyObject(lambda: made.append(True) or RequestFactory().get("/"))  # type: ignore[func-returns-value]
    assert masking.wrapped_request(lazy) is None
    assert masking.request_parts(lazy) is None
    assert made == []
