"""No observer effect: the same view runs the same SQL and gets the same return values with the panel
recording as with the panel switched off."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from debug_toolbar.toolbar import DebugToolbar
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.testapp.models import Author
from tests.testapp.trust_views import make_user

pytestmark = pytest.mark.django_db

#: What differs between any two runs whatever the panel does: wall-clock times (last_login), the random
#: session key and its signed data, the connection's savepoint counter. Everything else must match exactly.
VARYING = [
    (re.compile(r"'?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?'?"), "<now>"),
    (re.compile(r"'[a-z0-9]{32}'"), "<session key>"),
    (re.compile(r"'[\w-]+:[\w-]+:[\w-]+'"), "<session data>"),
    (re.compile(r'"s\d+_x\d+"'), "<savepoint>"),
]


def normalise(sql: str) -> str:
    for pattern, replacement in VARYING:
        sql = pattern.sub(replacement, sql)
    return sql


def view_part(response: Any) -> bytes:
    """What the view wrote: the toolbar is inserted after it."""
    content: bytes = response.content
    return content[: content.index(b"</p>")]


def restart_sequences() -> None:
    """A rollback does not give back the ids PostgreSQL's sequences handed out: start them again from the
    table's highest id, so both runs insert the same ids (nothing to do on SQLite)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import router

    models = [m for m in apps.get_models() if router.allow_migrate_model(connection.alias, m)]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def run(client: Client, url: str, recording: bool) -> tuple[Any, list[str], Any]:
    """Run the view on a database state that is rolled back afterwards, so both runs start equal, from a
    client with no cookies but the panel's switch."""
    restart_sequences()
    client.cookies.clear()
    client.cookies[f"djdt{PANEL_ID}"] = "on" if recording else "off"
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        transaction.set_rollback(True)
    assert response.status_code == 200
    sql = [normalise(q["sql"]) for q in queries.captured_queries]
    return response, sql, view_part(response)


@pytest.fixture
def observed(client: Client) -> dict[str, Any]:
    make_user()
    off, off_sql, off_body = run(client, "/trust/observe/", recording=False)
    on, on_sql, on_body = run(client, "/trust/observe/", recording=True)
    stats, _ = open_panel(client, request_id_of(on))
    assert stats["summary"]["signals"] > 20, "the panel did not record the second run"
    off_toolbar = DebugToolbar.fetch(request_id_of(off), PANEL_ID)
    assert off_toolbar is not None
    assert off_toolbar.get_panel_by_id(PANEL_ID).get_stats() == {}, "the panel recorded the first run"
    return {"off_sql": off_sql, "on_sql": on_sql, "off": off_body, "on": on_body, "stats": stats}


def steps(body: bytes) -> dict[str, Any]:
    text = body.split(b"<p>", 1)[1].decode()
    return {name: {**step, "sql": [normalise(s) for s in step["sql"]]} for name, step in json.loads(text).items()}


def test_the_whole_request_runs_the_same_sql_with_and_without_the_panel(observed):
    assert observed["on_sql"] == observed["off_sql"]
    assert len(observed["on_sql"]) >= 25


def test_every_operation_returns_the_same_value_and_runs_the_same_sql(observed):
    off, on = steps(observed["off"]), steps(observed["on"])
    assert list(on) == list(off)
    for name in off:
        assert on[name] == off[name], name
    assert on["bulk_create"]["returned"].count("<Tag:") == 2
    assert on["delete_cascade"]["returned"].startswith("(2, {")
    assert on["authenticate"]["returned"] == "<User: alice>"
    assert on["failed_authenticate"]["returned"] == "None"
    assert on["update_or_create_new"]["returned"] == "(<Author: Upserted>, True)"
    assert on["update_or_create_existing"]["returned"] == "(<Author: Up>, False)"
    assert on["select_for_update"]["returned"] == "['Up']"
    # Inside the test's transaction the outer callback waits for a commit that never comes; the inner one
    # went with its savepoint.
    assert on["savepoints_and_on_commit"]["returned"] == "(False, 1, [])"


def test_row_locks_and_savepoints_reach_the_database_unchanged(observed):
    on = steps(observed["on"])
    savepoint_sql = on["savepoints_and_on_commit"]["sql"]
    assert [" ".join(s.split()[:-1]) for s in savepoint_sql if "SAVEPOINT" in s] == [
        "SAVEPOINT",
        "SAVEPOINT",
        "ROLLBACK TO SAVEPOINT",
        "RELEASE SAVEPOINT",
        "RELEASE SAVEPOINT",
    ]
    locked = [s for s in on["select_for_update"]["sql"] if s.startswith("SELECT")]
    if connection.vendor == "postgresql":
        assert all(s.endswith("FOR UPDATE") for s in locked), locked
        assert any(s.endswith("FOR UPDATE") for s in on["update_or_create_existing"]["sql"])


def test_deleting_a_model_without_receivers_stays_one_fast_delete(observed):
    (sql,) = steps(observed["on"])["bare_delete"]["sql"]
    assert sql.startswith('DELETE FROM "testapp_bare" WHERE')


def test_m2m_add_without_listeners_keeps_the_fast_path(observed):
    # The fast path is a bulk INSERT ... ON CONFLICT DO NOTHING, with no SELECT of the existing rows first.
    sql = steps(observed["on"])["quiet_m2m_add"]["sql"]
    assert not [s for s in sql if s.startswith("SELECT")], sql
    if connection.vendor == "postgresql":
        assert any(
            s.startswith('INSERT INTO "testapp_quiet_tags"') and s.endswith("ON CONFLICT DO NOTHING") for s in sql
        ), sql
    else:
        assert any(s.startswith('INSERT OR IGNORE INTO "testapp_quiet_tags"') for s in sql), sql


def test_the_fast_delete_sends_no_delete_signal_with_the_panel_recording(observed):
    signals = {g["signal"]: g for g in observed["stats"]["groups"]}
    senders = {e["sender"] for e in signals["post_delete"]["events"]}
    # Bare's delete took Django's fast path, which sends nothing; Quiet has a cascading child, so Django
    # collects and sends for it either way.
    assert "testapp.Bare" not in senders
    assert senders == {"testapp.Author", "testapp.Book", "testapp.Quiet"}


def test_labelling_a_deferred_instance_runs_no_query_not_even_a_refused_one(client):
    # The cascade loads books with only their pk; labelling one must not try to load its title: a refused
    # query is still counted by Django's debug cursor, djdt's SQL panel and assertNumQueries.
    from tests.testapp.models import Book

    Book.objects.create(title="t", author=Author.objects.create(name="a"))
    client.cookies[f"djdt{PANEL_ID}"] = "on"
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/delete/")
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if '"testapp_book"."title"' in q["sql"]]


@pytest.mark.django_db(transaction=True)
async def test_async_views_get_the_same_return_values_with_and_without_the_panel(async_client):
    from asgiref.sync import sync_to_async

    await sync_to_async(make_user)()
    bodies = []
    for state in ("off", "on"):
        async_client.cookies.clear()
        async_client.cookies[f"djdt{PANEL_ID}"] = state
        response = await async_client.get("/trust/aobserve/")
        assert response.status_code == 200
        bodies.append(view_part(response))
        stats, _ = await sync_to_async(open_panel)(Client(), request_id_of(response))
        recorded = {g["signal"]: g["count"] for g in stats.get("groups", [])}
        if state == "on":
            assert recorded["user_logged_in"] == recorded["user_logged_out"] == recorded["user_login_failed"] == 1
            assert recorded["post_delete"] == 1  # the author; Bare's delete took the fast path and sent nothing
        else:
            assert stats == {}
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[1].split(b"<p>", 1)[1]) == {
        "acreate": True,
        "asave": "None",
        "aupdate": 1,
        "bare_adelete": "(1, {'testapp.Bare': 1})",
        "adelete": "(1, {'testapp.Author': 1})",
        "aauthenticate": "<User: alice>",
        "alogin": "None",
        "failed_aauthenticate": "None",
        "alogout": "None",
    }


# -- receivers that run SQL (issue 16): counting their queries changes nothing the application sees ------
def _receiver_queries_run(client: Client, recording: bool) -> dict[str, Any]:
    from tests.testapp import query_receivers

    client.cookies.clear()
    client.cookies[f"djdt{PANEL_ID}"] = "on" if recording else "off"
    query_receivers.committed.clear()
    response = client.get("/trust/receiver-queries/")
    assert response.status_code == 200
    toolbar = DebugToolbar.fetch(request_id_of(response), "SQLPanel")
    assert toolbar is not None
    djdt_sql = [
        (q["alias"], normalise(q["raw_sql"])) for q in toolbar.get_panel_by_id("SQLPanel").get_stats()["queries"]
    ]
    body = json.loads(view_part(response).split(b"<p>", 1)[1])
    return {
        "sql": {alias: [normalise(s) for s in body[alias]] for alias in ("default", "other")},
        "committed": body["committed"],
        "djdt": djdt_sql,
        "response": response,
    }


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_receivers_that_query_leave_the_applications_sql_and_djdts_sql_panel_unchanged(client):
    from tests.testapp import query_receivers

    with query_receivers.connected():
        off = _receiver_queries_run(client, recording=False)
        on = _receiver_queries_run(client, recording=True)
    # The same SQL, in the same order, on each database; djdt's SQL panel saw the same queries.
    assert on["sql"] == off["sql"]
    assert on["djdt"] == off["djdt"]
    assert len(on["djdt"]) > 15
    # Savepoints inside a receiver reach the database as they are; on_commit ran once, after the commit.
    assert any(s.startswith("ROLLBACK TO SAVEPOINT") for s in on["sql"]["default"])
    assert on["committed"] == off["committed"] == ["savepoint"]
    stats, content = open_panel(client, request_id_of(on["response"]))
    assert stats["summary"]["receiver_queries"] > 0
    assert f"queries run by receivers, of {len(on['djdt'])} in the request" in content


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_assert_num_queries_counts_the_same_with_receivers_querying_under_a_capture(django_assert_num_queries):
    import dt_signals_panel
    from tests.testapp import query_receivers

    with query_receivers.connected():
        plain = query_receivers.work()
        with django_assert_num_queries(len(plain["default"])), dt_signals_panel.capture() as recording:
            recorded = query_receivers.work()
    assert [normalise(s) for s in recorded["default"]] == [normalise(s) for s in plain["default"]]
    assert recorded["other"] == plain["other"]
    assert sum(r["queries"] for r in recording.stats()["receivers"]) > 0


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_counting_receivers_queries_makes_no_connection_the_application_would_not_make():
    import threading
    from contextlib import nullcontext

    from django.db import connections

    import dt_signals_panel
    from tests.testapp import query_receivers
    from tests.testapp.models import Bare

    def made(recording: bool) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def run() -> None:
            # A new thread starts with no connection object at all: what it has afterwards, the work made.
            try:
                with dt_signals_panel.capture() if recording else nullcontext() as recorded:
                    Bare.objects.create(name="in a thread")
                if recorded is not None:
                    seen["counted"] = recorded.stats()["summary"]["receiver_queries"]
                initialized = connections.all(initialized_only=True)
                seen["objects"] = sorted(c.alias for c in initialized)
                seen["open"] = sorted(c.alias for c in initialized if c.connection is not None)
                seen["wrappers"] = [list(c.execute_wrappers) for c in initialized]
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return seen

    with query_receivers.connected():
        off, on = made(False), made(True)
    assert on.pop("counted") >= 1  # the receiver's insert (in a transaction it rolls back)
    assert on == off == {"objects": ["default"], "open": ["default"], "wrappers": [[]]}


# -- async receivers that run SQL (issue 16): counted where their sync_to_async calls run, changing nothing ------
async def _async_receiver_queries_run(async_client: Any, recording: bool) -> dict[str, Any]:
    from asgiref.sync import ThreadSensitiveContext, sync_to_async
    from django.db import connections
    from django.db.backends.signals import connection_created

    opened: list[str] = []

    def count_opened(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection.alias)

    async_client.cookies.clear()
    async_client.cookies[f"djdt{PANEL_ID}"] = "on" if recording else "off"
    connection_created.connect(count_opened, weak=False, dispatch_uid="count_opened")
    try:
        # As an ASGI server runs a request (Django's ASGIHandler; the test client's handler does not): in a
        # sync thread of its own.
        async with ThreadSensitiveContext():
            try:
                response = await async_client.get("/trust/areceiver-queries/")
            finally:
                await sync_to_async(connections.close_all)()
    finally:
        connection_created.disconnect(dispatch_uid="count_opened")
    assert response.status_code == 200
    toolbar = await sync_to_async(DebugToolbar.fetch)(request_id_of(response), "SQLPanel")
    assert toolbar is not None
    djdt_sql = [
        (q["alias"], normalise(q["raw_sql"])) for q in toolbar.get_panel_by_id("SQLPanel").get_stats()["queries"]
    ]
    body = json.loads(view_part(response).split(b"<p>", 1)[1])
    return {"sql": [normalise(s) for s in body["default"]], "djdt": djdt_sql, "opened": opened, "response": response}


@pytest.mark.django_db(transaction=True)
async def test_async_receivers_that_query_leave_an_async_views_sql_connections_and_djdts_sql_panel_unchanged(
    async_client,
):
    from asgiref.sync import sync_to_async

    from tests.testapp import query_receivers

    with query_receivers.async_connected():
        off = await _async_receiver_queries_run(async_client, recording=False)
        on = await _async_receiver_queries_run(async_client, recording=True)
    # The same SQL in the same order (the count assertNumQueries would take), the same connections opened.
    assert on["sql"] == off["sql"]
    assert len(on["sql"]) == 3 * 2 + 2 + 1  # per save: its INSERT, its receiver's query; asend's receiver: 2
    assert on["djdt"] == off["djdt"]
    assert on["opened"] == off["opened"]
    stats, content = await sync_to_async(open_panel)(Client(), request_id_of(on["response"]))
    by_name = {r["name"].rpartition(".")[2]: r for r in stats["receivers"]}
    assert (by_name["acount_tags"]["calls"], by_name["acount_tags"]["queries"]) == (3, 3)
    assert (by_name["afailed_lookup"]["calls"], by_name["afailed_lookup"]["queries"]) == (1, 2)
    assert stats["summary"]["receiver_queries"] == 5
    assert stats["summary"]["receivers_not_measured"] == 0
    assert "not measured" not in content


@pytest.mark.django_db(transaction=True)
def test_assert_num_queries_counts_the_same_with_async_receivers_querying_under_a_capture(django_assert_num_queries):
    from django.db.models.signals import post_save

    import dt_signals_panel
    from tests.testapp import query_receivers

    def work() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            for i in range(3):
                Author.objects.create(name=f"loop {i}")
        return [normalise(q["sql"]) for q in captured.captured_queries]

    post_save.connect(query_receivers.acount_tags, sender=Author, weak=False)
    try:
        plain = work()
        with django_assert_num_queries(len(plain)), dt_signals_panel.capture() as recording:
            recorded = work()
    finally:
        post_save.disconnect(query_receivers.acount_tags, sender=Author)
    assert recorded == plain
    assert len(plain) == 6
    (row,) = [r for r in recording.stats()["receivers"] if r["name"].endswith("acount_tags")]
    assert (row["calls"], row["queries"]) == (3, 3)


@pytest.mark.django_db(databases=["default", "other"])
def test_between_receivers_a_connection_carries_no_wrapper_of_ours():
    from django.db import connections
    from django.db.models.signals import post_save

    import dt_signals_panel
    from tests.testapp.models import Bare

    seen: list[Any] = []

    def look(sender: Any, **kwargs: Any) -> None:
        seen.append(len(connection.execute_wrappers))

    post_save.connect(look, sender=Bare, weak=False)
    try:
        with dt_signals_panel.capture():
            Bare.objects.create(name="b")
            outside = [list(c.execute_wrappers) for c in connections.all(initialized_only=True)]
    finally:
        post_save.disconnect(look, sender=Bare)
    assert seen == [1]  # ours, while the receiver runs
    assert outside == [[] for _ in outside]
