"""Bad input is contained: whatever a model, a receiver or a send does, the response is the same as without
the panel, and the panel shows a bounded, escaped label with a note."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.test_observer_effect import normalise, view_part
from tests.testapp.models import Bare, Hostile

pytestmark = pytest.mark.django_db

EXTRA = {"EXTRA_SIGNALS": ["tests.testapp.trust_views.odd_values"]}
#: No label or argument value the panel stores is longer than this (200 characters of text, a note).
LABEL_LIMIT = 320

CASES = [
    "hostile-raise",
    "hostile-html",
    "hostile-huge",
    "hostile-recurse",
    "hostile-query",
    "unsaved",
    "deleted",
    "proxy",
    "multi-table",
    "deferred",
    "unmanaged",
    "odd-values",
    "unexpected-kwargs",
    "receiver-raises",
]


class BoomError(Exception):
    pass


def explode(sender: Any, **kwargs: Any) -> None:
    raise BoomError("receiver exploded")


@pytest.fixture
def raising_receiver():
    pre_save.connect(explode, sender=Bare, weak=False)
    yield
    pre_save.disconnect(explode, sender=Bare)


def both_ways(client: Client, url: str) -> tuple[Any, Any, list[str], list[str]]:
    """The response and SQL with the panel off, then on, from the same database state."""
    results = []
    for state in ("off", "on"):
        client.cookies.clear()
        client.cookies[f"djdt{PANEL_ID}"] = state
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            transaction.set_rollback(True)
        results.append((response, [normalise(q["sql"]) for q in queries.captured_queries]))
    (off, off_sql), (on, on_sql) = results
    return off, on, off_sql, on_sql


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@override_settings(DT_SIGNALS_PANEL=EXTRA)
@pytest.mark.parametrize("case", CASES)
def test_the_response_and_the_sql_are_the_same_as_without_the_panel(client, case, raising_receiver):
    off, on, off_sql, on_sql = both_ways(client, f"/trust/zoo/{case}/")
    assert (on.status_code, view_part(on)) == (off.status_code, view_part(off))
    assert on_sql == off_sql
    stats, content = open_panel(client, request_id_of(on))
    assert stats["summary"]["signals"] > 0
    longest = max((s for g in stats["groups"] for e in g["events"] for s in strings(e["args"])), key=len)
    assert len(longest) <= LABEL_LIMIT, longest[:400]
    assert len(content) < 200_000


@pytest.mark.parametrize("mode", ["raise", "recurse", "query", "huge", "html"])
def test_a_hostile_str_is_never_run_and_the_label_is_the_pk(visit, mode):
    calls_before = Hostile.str_calls
    opened = visit(f"/trust/zoo/hostile-{mode}/")
    first, _second = opened.events("post_save")
    pk = first["row"]["pk"]
    assert first["args"]["instance"] == f"testapp.Hostile #{pk}"
    assert Hostile.str_calls == calls_before
    # The findings still work on a row whose __str__ is hostile.
    assert [f["kind"] for f in opened.stats["findings"]["redundant_saves"]][:1] == ["saved_again"]


def test_a_str_that_queries_is_not_run_and_the_sql_panel_sees_no_query_from_it(client):
    _off, _on, off_sql, on_sql = both_ways(client, "/trust/zoo/hostile-query/")
    assert on_sql == off_sql
    assert not [s for s in on_sql if "COUNT(*)" in s]


def test_unsaved_deleted_proxy_and_multi_table_instances_are_labelled(visit):
    assert visit("/trust/zoo/unsaved/").events("post_save")[0]["args"]["instance"] == (
        "testapp.Author (unsaved) “never saved”"
    )
    deleted = visit("/trust/zoo/deleted/")
    assert deleted.events("pre_save")[0]["args"]["instance"] == "testapp.Author (unsaved) “gone”"
    assert deleted.events("post_delete")[0]["args"]["instance"].startswith("testapp.Author #")
    (proxy,) = visit("/trust/zoo/proxy/").events("post_save")
    assert proxy["sender"] == "testapp.ProxyAuthor"
    assert proxy["row"]["model"] == "testapp.Author"
    novel = visit("/trust/zoo/multi-table/")
    assert [e["sender"] for e in novel.events("post_save")] == ["testapp.Novelist"]
    assert novel.events("post_save")[0]["args"]["instance"].startswith("testapp.Novelist #")


def test_a_deferred_instance_is_labelled_without_loading_its_fields(visit):
    opened = visit("/trust/zoo/deferred/")
    saved = opened.events("post_save")[-1]
    # Book.__str__ reads its author, a relation: the label is the pk alone, and nothing was loaded for it.
    assert saved["args"]["instance"] == f"testapp.Book #{saved['row']['pk']}"
    assert saved["args"]["update_fields"] == ["title"]


def test_an_unmanaged_model_is_recorded_like_any_other(visit):
    opened = visit("/trust/zoo/unmanaged/")
    saves = opened.events("post_save")
    assert [e["args"]["created"] for e in saves] == [True, False]
    assert saves[1]["args"]["instance"].endswith("“legacy older”")


@override_settings(DT_SIGNALS_PANEL=EXTRA)
def test_non_json_argument_values_are_shown_bounded(visit):
    opened = visit("/trust/zoo/odd-values/")
    plain, robust = opened.events("odd_values")
    assert robust["mode"] == "send_robust"
    args = plain["args"]
    assert args["blob"] == "<20 bytes>"
    assert args["tags"] == [1, 2, 3]
    assert args["frozen"] == ["a", "b"]
    assert args["price"] == "1.10"
    assert args["lazy"] == "<lazy value, not evaluated>"
    assert args["cyclic"] == [1, [1, [1, "<list>"]]]
    assert args["cyclic_dict"]["self"]["self"]["a"] == 1
    # An object of the application's own class is named by its class: its __str__ is never run.
    assert args["custom"] == "<tests.testapp.trust_views.Custom object>"
    assert args["bad_str"] == "<tests.testapp.trust_views.BadStr object>"
    assert args["querying"] == "<tests.testapp.trust_views.QueryingStr object>"
    assert len(args["huge"]) == 200
    assert args["html"] == "<script>alert('arg')</script>"  # stored as sent, escaped when shown
    assert args["generator"] == "<generator object>"
    # Read through dict's own methods: the subclass's items() that raises is never called.
    assert args["broken_dict"] == {"a": 1}
    assert args["unhashable"].startswith("<tests.testapp.trust_views.Unhashable object")
    assert args["long_list"][-1] == "… 9980 more"
    assert len(args["long_list"]) == 21
    assert plain["sender"] == "None"


def test_sends_with_unexpected_arguments_are_recorded_and_answered_as_django_would(visit):
    opened = visit("/trust/zoo/unexpected-kwargs/")
    assert b"[[], [], [], [], [], []]" in view_part(opened.response)
    odd = opened.events("pre_save")[0]
    assert odd["args"]["instance"] == "not a model"
    assert odd["args"]["update_fields"] == 5
    assert odd["args"]["surprise"] == "<object object>"
    assert "None" in {e["sender"] for e in opened.events("post_save")}
    failed = opened.events("user_login_failed")
    assert failed[0]["credentials"][0]["status"] == "not_a_dict"
    assert [(c["key"], c["status"], c["value"]) for c in failed[1]["credentials"]] == [
        ("<BadStr>", "not_sensitive", "x"),
        ("pin", "sensitive_in_clear", "••••••••"),
    ]
    (m2m,) = opened.events("m2m_changed")
    assert len(m2m["args"]["pk_set"]) == 21
    assert m2m["args"]["pk_set"][-1] == "… 4980 more"


def test_a_receiver_that_raises_propagates_the_same_exception_and_the_panel_shows_it(visit, raising_receiver):
    opened = visit("/trust/zoo/receiver-raises/")
    assert b"BoomError: receiver exploded from True" in view_part(opened.response)
    (event,) = opened.events("pre_save")
    assert event["error"] == "BoomError: receiver exploded"
    (receiver,) = event["receivers"]
    assert receiver["name"] == "tests.test_bad_input.explode"
    assert "BoomError: receiver exploded" in opened.content
    assert not opened.events("post_save")


def test_an_uncaught_receiver_exception_reaches_the_caller_unchanged(client, raising_receiver):
    caught = []
    for state in ("off", "on"):
        client.cookies[f"djdt{PANEL_ID}"] = state
        with pytest.raises(BoomError) as info:
            client.get("/trust/zoo/receiver-raises-uncaught/")
        frames = []
        tb = info.value.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            # The panel's send wrapper runs Django's dispatch loop itself: its frame stands where Django's
            # Signal.send would, and it adds none. Every other frame is the same.
            dispatch = "dt_signals_panel" in code.co_filename or "/django/dispatch/" in code.co_filename
            frames.append(("<dispatch>", code.co_name) if dispatch else (code.co_filename, code.co_name))
            tb = tb.tb_next
        caught.append((type(info.value), str(info.value), frames))
    assert caught[0] == caught[1]
    assert caught[0][2][-1][1] == "explode"


async def test_an_async_receiver_that_raises_reaches_asend_unchanged_and_send_robust_answers_as_django():
    import dt_signals_panel
    from tests.testapp.trust_views import odd_values

    async def async_explode(sender: Any, **kwargs: Any) -> None:
        raise BoomError("async receiver exploded")

    def quiet(sender: Any, **kwargs: Any) -> str:
        return "fine"

    odd_values.connect(async_explode, weak=False)
    odd_values.connect(quiet, weak=False)
    try:
        outcomes = []
        for recording in (False, True):
            with override_settings(DT_SIGNALS_PANEL=EXTRA):
                capture = dt_signals_panel.capture()
            if recording:
                capture.__enter__()
            try:
                with pytest.raises(BoomError) as info:
                    await odd_values.asend(sender=None, n=1)
                robust = await odd_values.asend_robust(sender=None, n=2)
            finally:
                if recording:
                    capture.__exit__(None, None, None)
            shown = [(receiver, type(r).__name__ if isinstance(r, Exception) else r) for receiver, r in robust]
            outcomes.append((type(info.value), str(info.value), shown))
        assert capture.recording.count("odd_values") == 2
        assert [e.get("error") for e in capture.recording.events] == ["BoomError: async receiver exploded", None]
        assert outcomes[0] == outcomes[1]
        assert outcomes[1][2] == [(quiet, "fine"), (async_explode, "BoomError")]
    finally:
        odd_values.disconnect(async_explode)
        odd_values.disconnect(quiet)


@override_settings(DT_SIGNALS_PANEL={"SHOWN_PER_SIGNAL": 0})
def test_odd_sends_past_the_listed_rows_are_counted_and_answered_as_django_would(visit):
    """Events past SHOWN_PER_SIGNAL are built the light way; odd arguments must not break that path either."""
    opened = visit("/trust/zoo/unexpected-kwargs/")
    assert b"[[], [], [], [], [], []]" in view_part(opened.response)
    assert opened.events("pre_save") == []  # nothing listed row by row
    assert opened.group("pre_save")["count"] >= 1
    assert opened.group("user_login_failed")["count"] == 2
    # The light events still feed the findings: the hand-sent pin reached receivers in clear.
    assert [f["key"] for f in opened.stats["findings"]["credentials_in_clear"]] == ["pin"]
