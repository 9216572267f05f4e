"""Each finding, built in a real request and read from the panel as a developer would."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.testapp import finding_views
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db


def finding(opened, kind):
    found = [f for f in opened.stats["findings"]["redundant_saves"] if f["kind"] == kind]
    assert len(found) == 1, opened.stats["findings"]
    return found[0]


def test_the_same_row_saved_twice_is_a_redundant_save_with_both_call_sites(visit):
    opened = visit("/findings/saved-twice/")
    found = finding(opened, "saved_again")
    assert found["model"] == "testapp.Author"
    assert found["pk"] == str(Author.objects.get().pk)
    assert len(found["seqs"]) == 2
    assert [site[2] for site in found["sites"]] == ["saved_twice", "saved_twice"]
    assert all(site[0].endswith("finding_views.py") for site in found["sites"])
    assert found["sites"][0][1] != found["sites"][1][1]
    assert "redundant save" in opened.content
    assert "1 redundant save" in opened.response.content.decode()  # the toolbar's nav subtitle
    # the rows involved are highlighted
    assert opened.content.count("djdt-sig-marked") >= 2


def test_a_save_that_changed_nothing_since_load_is_a_redundant_save(visit):
    Author.objects.create(name="Steady")
    opened = visit("/findings/unchanged/")
    (pre,) = opened.events("pre_save")
    assert pre["changed"] == []
    found = finding(opened, "nothing_changed")
    assert found["model"] == "testapp.Author"
    assert "no field changed" in found["message"]


def test_a_full_save_that_changed_one_field_suggests_update_fields(visit):
    Book.objects.create(title="Partial", author=Author.objects.create(name="P"))
    opened = visit("/findings/full-save/")
    (pre,) = opened.events("pre_save")
    assert pre["changed"] == ["price"]
    found = finding(opened, "update_fields_would_do")
    assert found["fields"] == ["price"]
    assert "update_fields=['price']" in opened.content or "update_fields=[&#x27;price&#x27;]" in opened.content


def test_an_update_with_update_fields_shows_only_the_changed_names_never_values(visit):
    opened = visit("/create/")
    second = opened.events("pre_save")[1]
    assert second["changed"] == ["name"]
    assert [f["kind"] for f in opened.stats["findings"]["redundant_saves"]] == ["saved_again"]


def test_a_save_of_a_new_row_has_no_changed_fields_to_report(visit):
    opened = visit("/findings/chain/")
    assert all("changed" not in e for e in opened.events("pre_save"))


@pytest.fixture
def receivers():
    connected = []

    def connect(signal, receiver, **kwargs):
        signal.connect(receiver, weak=False, **kwargs)
        connected.append((signal, receiver, kwargs.get("sender")))

    yield connect
    for signal, receiver, sender in connected:
        signal.disconnect(receiver, sender=sender)


def test_the_slowest_receiver_is_named_with_its_time(visit, receivers):
    receivers(post_save, finding_views.quick_receiver, sender=Author)
    receivers(post_save, finding_views.slow_receiver, sender=Author)
    opened = visit("/create/")
    slowest = opened.stats["summary"]["slowest_receiver"]
    assert slowest["name"] == "tests.testapp.finding_views.slow_receiver"
    assert slowest["calls"] == 2
    assert slowest["where"].endswith("finding_views.py:" + str(finding_views.slow_receiver.__code__.co_firstlineno))
    names = [r["name"] for r in opened.stats["receivers"]]
    assert names.index("tests.testapp.finding_views.slow_receiver") < names.index(
        "tests.testapp.finding_views.quick_receiver"
    )
    (event, _) = opened.events("post_save")
    assert [r["name"].rsplit(".", 1)[1] for r in event["receivers"]] == ["quick_receiver", "slow_receiver"]
    assert all("ms" in r for r in event["receivers"])
    assert "slowest receiver" in opened.content


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": ["tests.testapp.finding_views.order_placed"]})
def test_a_receiver_that_raises_under_send_robust_is_shown_and_the_page_still_works(visit, receivers):
    receivers(finding_views.order_placed, finding_views.failing_receiver)
    receivers(finding_views.order_placed, finding_views.quick_receiver)
    opened = visit("/findings/robust/")
    assert b"<p>2</p>" in opened.response.content  # Django's send_robust result reached the view intact
    (event,) = opened.events("order_placed")
    assert event["mode"] == "send_robust"
    assert event["args"] == {"order_id": 7}
    failing, quick = event["receivers"]
    assert failing["error"] == "RuntimeError: receiver broke"
    assert "error" not in quick
    assert "RuntimeError: receiver broke" in opened.content


def test_a_receiver_that_saves_another_model_nests_those_signals_under_it(visit, receivers):
    receivers(post_save, finding_views.audit_receiver, sender=Book)
    opened = visit("/findings/chain/")
    book_saved = next(e for e in opened.events("post_save") if e["sender"] == "testapp.Book")
    nested = [e for e in opened.stats["groups"] for e in e["events"] if e.get("parent") == book_saved["seq"]]
    assert [(e["signal"], e["sender"]) for e in nested] == [
        ("pre_save", "testapp.Author"),
        ("post_save", "testapp.Author"),
    ]
    assert opened.content.count('data-depth="1"') == 2


def test_login_nests_the_last_login_save_in_the_chronological_view(visit):
    get_user_model().objects.create_user("alice", password="wonderland")
    opened = visit("/login/")
    assert 'data-depth="1" data-signal="pre_save"' in opened.content
    assert 'data-depth="1" data-signal="post_save"' in opened.content
    assert 'data-depth="0" data-signal="user_logged_in"' in opened.content


def test_loading_thousands_of_rows_gives_a_hint(visit):
    Author.objects.bulk_create(Author(name=f"a{i}") for i in range(1200))
    opened = visit("/load/")
    (hint,) = opened.stats["findings"]["init_hints"]
    assert hint["sender"] == "testapp.Author"
    assert hint["count"] == 1200
    assert "1200 testapp.Author instances were built" in opened.content


SENSITIVE_NAMES = st.sampled_from(
    [
        "otp",
        "pin",
        "password",
        "Authorization",
        "api_key",
        "PassPhrase",
        "session",
        "csrfmiddlewaretoken",
        "card_number",
        "cvv",
        "ssn",
        "secret",
        "totp_code",
        "X-Auth-Token",
        "pwd",
        "private_key",
    ]
)
KEY_NAMES = st.tuples(
    st.sampled_from(["", "user_", "x-", "MFA"]), SENSITIVE_NAMES, st.sampled_from(["", "_2", "Value"])
).map("".join)
SECRETS = st.text(alphabet="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&", min_size=10, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(credentials=st.dictionaries(KEY_NAMES, SECRETS, min_size=1, max_size=4), through_django=st.booleans())
def test_no_sensitive_credential_value_reaches_the_stats_or_the_page(client, credentials, through_django):
    from tests.conftest import open_panel, request_id_of

    response = client.post(
        "/findings/credentials/",
        data=json.dumps({"credentials": credentials, "authenticate": through_django}),
        content_type="application/json",
    )
    assert response.status_code == 200
    stats, content = open_panel(client, request_id_of(response))
    stored = json.dumps(stats)
    for value in credentials.values():
        assert value not in stored
        assert value not in content
        assert value not in response.content.decode()
    (event,) = next(g for g in stats["groups"] if g["signal"] == "user_login_failed")["events"]
    assert {row["key"] for row in event["credentials"]} == set(credentials)
    assert all(row["status"] != "not_sensitive" for row in event["credentials"])
