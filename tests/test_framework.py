"""Findings a developer can act on, on pages the framework drives (issue 15): a call site for every send,
framework-made findings marked and listed apart, distinct rows beside instances."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from debug_toolbar.settings import CONFIG_DEFAULTS
from debug_toolbar.toolbar import DebugToolbar
from django.contrib.auth.models import User
from django.test import override_settings

from dt_signals_panel import capture, testing
from tests.testapp import framework_views
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db

PANEL_ID = "SignalActivityPanel"
HIDE_VENDOR = override_settings(
    DEBUG_TOOLBAR_CONFIG={
        "IS_RUNNING_TESTS": False,
        "RENDER_PANELS": False,
        "HIDE_IN_STACKTRACES": [*CONFIG_DEFAULTS["HIDE_IN_STACKTRACES"], "tests.testapp.vendor"],
    }
)


def every_event(opened: Any) -> list[dict[str, Any]]:
    return [event for group in opened.stats["groups"] for event in group["events"]]


def redundant(opened: Any) -> list[dict[str, Any]]:
    return list(opened.stats["findings"]["redundant_saves"])


def subtitle(opened: Any) -> str:
    toolbar = DebugToolbar.fetch(opened.request_id, PANEL_ID)
    assert toolbar is not None
    return str(toolbar.get_panel_by_id(PANEL_ID).nav_subtitle)


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password="wonderland")


# -- call sites -----------------------------------------------------------------------------------------
def test_the_session_middlewares_save_names_django_sessions_as_framework_code_with_a_stack(visit, alice):
    opened = visit("/framework/login/")
    sessions = [e for e in every_event(opened) if e["sender"] == "sessions.Session"]
    by_middleware = [e for e in sessions if e.get("site_kind") == "framework"]
    assert by_middleware, [e.get("site") for e in sessions]
    for event in by_middleware:
        assert event["site"][0].endswith("django/contrib/sessions/backends/db.py")
        assert event["site"][2] == "save"
        assert "stack" in event
        assert event["via"] == "django.contrib.sessions.backends.db"
    assert "framework code" in opened.content


def test_every_send_of_a_login_has_a_call_site_and_no_finding_reads_an_unknown_place(visit, alice):
    opened = visit("/framework/login/")
    assert all(e.get("site") for e in every_event(opened))
    # Never a frame of whoever called the request handler (here the test client's caller).
    assert not any(e["site"][0].endswith("conftest.py") for e in every_event(opened))
    assert "an unknown place" not in opened.content
    assert all("an unknown place" not in f["message"] for items in opened.stats["findings"].values() for f in items)


def test_a_send_from_a_hidden_reusable_app_names_the_apps_frame_not_the_test_client(visit, alice):
    Book.objects.create(title="Hooked", author=Author.objects.create(name="Hook"), price=Decimal(1))
    with HIDE_VENDOR:
        opened = visit("/framework/vendor/")
    vendor_saves = [e for e in opened.events("post_save") if e.get("site_kind") == "framework"]
    assert len(vendor_saves) == 2
    assert {e["site"][2] for e in vendor_saves} == {"view"}
    assert all(e["site"][0].endswith("testapp/vendor.py") for e in vendor_saves)


# -- who can act ------------------------------------------------------------------------------------------
def test_the_session_saved_twice_on_login_is_a_known_normal_framework_finding_counted_in_no_tile(visit, alice):
    opened = visit("/framework/login/")
    (session,) = [f for f in redundant(opened) if f["model"] == "sessions.Session"]
    assert session["framework"] is True
    assert session["normal"] is True
    assert session["pattern"] == "session_saved_by_django"
    assert session["severity"] == "info"
    assert "nothing in your code to change" in session["message"]
    assert opened.stats["summary"]["redundant_saves"] == 0
    assert opened.stats["summary"]["framework_findings"] >= 1
    assert "redundant" not in subtitle(opened)
    assert 'data-stat="redundant_saves" class=""><strong>0</strong>' in opened.content
    assert 'data-framework="true"' in opened.content
    assert "Findings about framework code" in opened.content


def test_a_reusable_apps_redundant_save_is_framework_code_and_the_projects_own_one_still_a_problem(visit, alice):
    Book.objects.create(title="Hooked", author=Author.objects.create(name="Hook"), price=Decimal(1))
    with HIDE_VENDOR:
        opened = visit("/framework/vendor/")
    found = redundant(opened)
    vendor = [f for f in found if f["model"] == "testapp.Author"]
    own = [f for f in found if f["model"] == "testapp.Book"]
    assert [f["framework"] for f in vendor] == [True]
    assert vendor[0]["severity"] == "notice"
    assert "tests.testapp.vendor" in vendor[0]["message"]
    assert [f["kind"] for f in own] == ["saved_again"]
    assert not own[0].get("framework")
    assert all(site[0] == framework_views.__file__ for site in own[0]["sites"])
    assert all(site[2] == "save_twice_hook" for site in own[0]["sites"])
    assert opened.stats["summary"]["redundant_saves"] == 1
    assert "1 redundant save" in subtitle(opened)


def test_a_credential_in_clear_sent_by_framework_code_is_still_a_problem(visit):
    # The receivers and backends that get the PIN are the project's, whoever called authenticate().
    with HIDE_VENDOR:
        opened = visit("/framework/vendor-login/")
    (event,) = opened.events("user_login_failed")
    assert event["site_kind"] == "framework"
    (finding,) = opened.stats["findings"]["credentials_in_clear"]
    assert finding["key"] == "pin"
    assert not finding.get("framework")
    assert opened.stats["summary"]["credentials_in_clear"] == 1


def test_assert_no_redundant_saves_passes_framework_findings_unless_asked(client, alice):
    with capture() as recording:
        client.get("/framework/login/")
    testing.assert_no_redundant_saves(recording)
    testing.assert_no_problems(recording)
    with pytest.raises(AssertionError, match=r"sessions\.Session"):
        testing.assert_no_redundant_saves(recording, include_framework=True)
    with pytest.raises(AssertionError, match=r"sessions\.Session"):
        testing.assert_no_problems(recording, include_framework=True)


def test_the_expectations_take_include_framework_too(client, alice):
    with testing.expect_no_redundant_saves():
        client.get("/framework/login/")
    client.logout()  # else the second login keeps its session: saved once
    with pytest.raises(AssertionError), testing.expect_no_redundant_saves(include_framework=True):
        client.get("/framework/login/")


# -- distinct rows ----------------------------------------------------------------------------------------
def make_books(authors: int, books: int) -> None:
    made = [Author.objects.create(name=f"A{i}") for i in range(authors)]
    for i in range(books):
        Book.objects.create(title=f"B{i}", author=made[i % authors])


def test_select_related_shows_distinct_rows_beside_instances_and_flags_the_copies(visit):
    make_books(authors=2, books=30)
    opened = visit("/framework/books/")
    rows = {row["sender"]: row for row in opened.stats["inits"]}
    assert rows["testapp.Author"]["post_init"] == 30
    assert rows["testapp.Author"]["rows"] == 2
    assert rows["testapp.Author"]["copies"] == 28
    assert rows["testapp.Book"]["rows"] == 30
    assert rows["testapp.Book"]["copies"] == 0
    (duplicate,) = opened.stats["findings"]["init_hints"]
    assert duplicate["kind"] == "duplicate_rows"
    assert duplicate["sender"] == "testapp.Author"
    assert "30 testapp.Author instances were built from 2 rows" in duplicate["message"]
    assert duplicate["site"][0] == framework_views.__file__
    assert duplicate["site"][2] == "books_with_authors"
    assert not duplicate.get("framework")
    assert "Distinct rows" in opened.content
    assert re.search(r'data-stat="rows" title="28 instances built for rows already built">2</td>', opened.content)


def test_one_instance_per_row_is_no_finding(visit):
    make_books(authors=20, books=1)
    opened = visit("/framework/authors/")
    (row,) = [r for r in opened.stats["inits"] if r["sender"] == "testapp.Author"]
    assert (row["post_init"], row["rows"], row["copies"]) == (20, 20, 0)
    assert opened.stats["findings"]["init_hints"] == []


def test_instances_built_by_keyword_are_not_counted_as_rows(db):
    with capture() as recording:
        Author(name="new")
        Author(name="new too")
    (row,) = recording.inits
    assert row["post_init"] == 2
    assert "rows" not in row
    assert "copies" not in row


def test_distinct_rows_read_the_same_sql_and_results_with_the_panel_on_and_off(django_assert_num_queries):
    make_books(authors=3, books=12)
    plain = [(b.pk, b.author.pk, b.author.name) for b in Book.objects.select_related("author").order_by("pk")]
    with capture() as recording, django_assert_num_queries(1):
        recorded = [(b.pk, b.author.pk, b.author.name) for b in Book.objects.select_related("author").order_by("pk")]
    assert recorded == plain
    rows = {row["sender"]: row for row in recording.inits}
    assert (rows["testapp.Author"]["rows"], rows["testapp.Author"]["copies"]) == (3, 9)


def test_past_max_distinct_rows_a_model_is_only_counted_and_says_at_least(monkeypatch):
    from dt_signals_panel import recorder

    monkeypatch.setattr(recorder, "MAX_DISTINCT", 5)
    make_books(authors=12, books=1)
    with capture() as recording:
        list(Author.objects.order_by("pk"))
        list(Author.objects.order_by("pk"))
    (row,) = [r for r in recording.inits if r["sender"] == "testapp.Author"]
    assert (row["post_init"], row["rows"], row["rows_capped"]) == (24, 5, True)
    assert row["copies"] == 0  # the rows past the cap are not told apart: no copy is claimed
