"""What each receiver's queries cost (issue 16): counted per call, filed under the innermost receiver of the
thread or task that ran them, shown and reported, and never changing what the application gets."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.test import override_settings

import dt_signals_panel
from dt_signals_panel import queries, testing
from dt_signals_panel.checks import check_settings
from dt_signals_panel.presentation import view_model
from tests.testapp.models import ArchivedNote, Author, Bare, Tag

pytestmark = pytest.mark.django_db(databases=["default", "other"])

SECRET = "a-parameter-value-never-shown"


@contextmanager
def receiving(receiver: Any, signal: Signal = post_save, **kwargs: Any) -> Iterator[None]:
    signal.connect(receiver, weak=False, **kwargs)
    try:
        yield
    finally:
        signal.disconnect(receiver, **kwargs)


def calls(recording: Any, name: str) -> list[dict[str, Any]]:
    """Every call of the receiver whose dotted name ends with ``name``, in order."""
    return [r for e in recording.events for r in e.get("receivers") or () if r["name"].endswith(name)]


def one_query(sender: Any, instance: Any, **kwargs: Any) -> None:
    Tag.objects.filter(name=SECRET).exists()


# -- attribution ---------------------------------------------------------------------------------------
def test_a_receiver_counts_its_own_queries_and_not_the_save_that_sent_the_signal():
    with receiving(one_query, sender=Bare), dt_signals_panel.capture() as recording:
        for i in range(3):
            Bare.objects.create(name=f"b{i}")
    found = calls(recording, "one_query")
    assert [c["queries"] for c in found] == [1, 1, 1]
    (shape,) = found[0]["sql"]
    assert shape["alias"] == "default"
    assert shape["sql"].startswith("SELECT ")
    assert 'FROM "testapp_tag" WHERE "testapp_tag"."name" = %s' in shape["sql"]
    assert found[0]["db"] == {"default": {"queries": 1, "ms": shape["ms"]}}
    (row,) = [r for r in recording.stats()["receivers"] if r["name"].endswith("one_query")]
    assert (row["calls"], row["queries"], row["sql"][0]["count"]) == (3, 3, 3)


def test_parameters_are_never_kept_only_the_sql_with_its_placeholders():
    def raw(sender: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s", [SECRET])

    with receiving(raw, sender=Bare), receiving(one_query, sender=Bare), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
    assert SECRET not in json.dumps(recording.events) + json.dumps(recording.stats()) + recording.as_table()
    assert calls(recording, "raw")[0]["sql"][0]["sql"] == "SELECT %s"


def test_nested_receivers_each_count_their_own_queries_once():
    def outer(sender: Any, instance: Any, **kwargs: Any) -> None:
        Tag.objects.count()
        Author.objects.create(name="made by a receiver")  # its receiver runs one query of its own

    with receiving(outer, sender=Bare), receiving(one_query, sender=Author), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
    (outer_call,) = calls(recording, "outer")
    (inner_call,) = calls(recording, "one_query")
    # The count and the INSERT are the outer receiver's; the inner one's query is its own, counted once.
    assert outer_call["queries"] == 2
    assert sorted(s["sql"].split()[0] for s in outer_call["sql"]) == ["INSERT", "SELECT"]
    assert inner_call["queries"] == 1
    assert recording.stats()["summary"]["receiver_queries"] == 3
    nested = next(e for e in recording.events if e["signal"] == "post_save" and e["sender"] == "testapp.Author")
    assert nested["parent"] is not None


def test_queries_another_thread_runs_while_a_receiver_runs_are_not_the_receivers():
    started, finished = threading.Event(), threading.Event()

    def elsewhere() -> None:
        started.wait(10)
        try:
            for _ in range(5):
                Tag.objects.count()
        finally:
            connections.close_all()
            finished.set()

    def waits(sender: Any, **kwargs: Any) -> None:
        started.set()
        assert finished.wait(10)
        Tag.objects.filter(name="its own").exists()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    with receiving(waits, sender=Bare), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
    thread.join()
    (call,) = calls(recording, "waits")
    assert call["queries"] == 1  # its own; none of the other thread's five


def test_queries_outside_every_receiver_are_nobodys():
    with dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
        Tag.objects.count()
    assert recording.stats()["summary"]["receiver_queries"] == 0


# -- bad input -----------------------------------------------------------------------------------------
def test_a_receiver_whose_query_raises_counts_it_and_the_exception_reaches_the_caller_unchanged():
    def broken(sender: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    def attempt() -> tuple[type[BaseException], str]:
        # In a savepoint: on PostgreSQL a failed query spoils the transaction it ran in.
        with pytest.raises(DatabaseError) as raised, transaction.atomic():
            Signal_.send(sender=None)
        return raised.type, str(raised.value)

    Signal_ = Signal()
    with receiving(broken, signal=Signal_):
        plain = attempt()
        recorder = dt_signals_panel.capture()
        recorder.recording.signals[Signal_] = "probe"
        with recorder as recording:
            recorded = attempt()
    assert recorded == plain
    (call,) = calls(recording, "broken")
    assert call["queries"] == 1
    assert call["sql"][0]["sql"] == "SELECT * FROM no_such_table"


def test_send_robust_receivers_that_raise_after_querying_are_counted_and_their_error_returned():
    def queries_then_raises(sender: Any, **kwargs: Any) -> None:
        Tag.objects.count()
        raise RuntimeError("after one query")

    probe = Signal()
    with receiving(queries_then_raises, signal=probe):
        recorder = dt_signals_panel.capture()
        recorder.recording.signals[probe] = "probe"
        with recorder as recording:
            ((receiver, response),) = probe.send_robust(sender=None)
    assert receiver is queries_then_raises
    assert isinstance(response, RuntimeError)
    (call,) = calls(recording, "queries_then_raises")
    assert call["queries"] == 1
    assert call["error"] == "RuntimeError: after one query"


def test_raw_cursors_and_executemany_count_as_django_counts_them():
    def raw(sender: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.executemany(f"INSERT INTO {Tag._meta.db_table} (name) VALUES (%s)", [["m1"], ["m2"], ["m3"]])

    with receiving(raw, sender=Bare), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
    (call,) = calls(recording, "raw")
    # Django's own query log counts an executemany once, as one entry.
    assert call["queries"] == 2
    assert Tag.objects.filter(name__in=["m1", "m2", "m3"]).count() == 3


def test_a_database_used_only_inside_the_receiver_is_counted_under_its_alias():
    def archive(sender: Any, **kwargs: Any) -> None:
        ArchivedNote.objects.count()
        ArchivedNote.objects.create(text="archived")

    with receiving(archive, sender=Bare), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="b")
    (call,) = calls(recording, "archive")
    assert call["queries"] == 2
    assert set(call["db"]) == {"other"}
    assert {s["alias"] for s in call["sql"]} == {"other"}


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def in_a_thread_of_its_own(work: Callable[[], None]) -> None:
    """Run ``work`` in a new thread, whose connection objects are its own, and close them after."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


# Rows made in another thread are committed by its own connection: only a transactional test flushes them.
@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_receiver_that_opens_a_connection_of_its_own_has_its_queries_counted():
    seen: dict[str, Any] = {}

    def archive(sender: Any, **kwargs: Any) -> None:
        seen["before"] = sorted(c.alias for c in connections.all(initialized_only=True))
        ArchivedNote.objects.count()

    def run() -> None:
        # A new thread: "other" has no connection object here until the receiver makes one.
        with receiving(archive, sender=Bare), dt_signals_panel.capture() as recording:
            Bare.objects.create(name="b")
        seen["call"] = calls(recording, "archive")[0]
        seen["wrappers"] = [list(c.execute_wrappers) for c in connections.all(initialized_only=True)]

    in_a_thread_of_its_own(run)
    assert seen["before"] == ["default"]
    assert seen["call"]["queries"] == 1
    assert seen["call"]["db"]["other"]["queries"] == 1
    assert seen["wrappers"] == [[], []]  # taken off both again


# -- async receivers --------------------------------------------------------------------------------------
def raw_select() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [SECRET])


async def three_queries(sender: Any, **kwargs: Any) -> None:
    await Tag.objects.acount()
    await Tag.objects.filter(name=SECRET).aexists()
    await sync_to_async(raw_select)()


def assert_three_queries(call: dict[str, Any]) -> None:
    assert call["queries"] == 3
    assert "queries_not_measured" not in call
    assert [shape["count"] for shape in call["sql"]] == [1, 1, 1]
    assert sorted(shape["sql"].split(" FROM ")[0] for shape in call["sql"]) == [
        "SELECT %s",
        'SELECT %s AS "a"',
        'SELECT COUNT(*) AS "__count"',
    ]
    assert list(call["db"]) == ["default"]
    assert call["db"]["default"]["queries"] == 3


@pytest.mark.django_db(transaction=True)
def test_an_async_receiver_of_a_save_counts_exactly_the_queries_its_sync_to_async_calls_ran():
    # send() runs async receivers under async_to_sync: their calls come back to the saving thread.
    with receiving(three_queries, sender=Bare), dt_signals_panel.capture() as recording:
        Bare.objects.create(name="one")
        Bare.objects.create(name="two")
    found = calls(recording, "three_queries")
    assert len(found) == 2
    for call in found:  # the save's own INSERT is in neither
        assert_three_queries(call)
    (row,) = [r for r in recording.stats()["receivers"] if r["name"].endswith("three_queries")]
    assert (row["calls"], row["queries"], "queries_not_measured" in row) == (2, 6, False)
    assert recording.stats()["summary"]["receivers_not_measured"] == 0
    content = render_to_string("dt_signals_panel/panel.html", view_model(recording.stats()))
    assert "not measured" not in content


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_connection_object_made_before_the_receiver_and_opened_inside_it_counts_each_query_once():
    seen: dict[str, Any] = {}

    def archive(sender: Any, **kwargs: Any) -> None:
        ArchivedNote.objects.count()
        ArchivedNote.objects.count()

    def run() -> None:
        connections["other"]  # the object, as djdt's SQL panel makes it: not connected yet
        with receiving(archive, sender=Bare), dt_signals_panel.capture() as recording:
            Bare.objects.create(name="b")
        seen["call"] = calls(recording, "archive")[0]
        seen["after"] = [list(c.execute_wrappers) for c in connections.all(initialized_only=True)]

    in_a_thread_of_its_own(run)
    assert seen["call"]["queries"] == 2
    assert seen["after"] == [[], []]


def passing(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    return execute(sql, params, many, context)


def recorded_probe(receiver: Callable[..., Any]) -> tuple[Signal, Any]:
    """A signal of the test's own with ``receiver`` connected, and a capture (not open yet) that records it."""
    probe = Signal()
    probe.connect(receiver, weak=False)
    recorder = dt_signals_panel.capture()
    recorder.recording.signals[probe] = "probe"
    return probe, recorder


def wrapped_count() -> list[Any]:
    """Inside the application's own execute_wrapper() block, the first query on "other" in this thread opens its
    connection: the observer put on then must not be what the block's exit pops."""
    with connections["other"].execute_wrapper(passing):
        ArchivedNote.objects.count()
    return list(connections["other"].execute_wrappers)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_connection_opened_inside_the_applications_execute_wrapper_block_gets_only_its_own_wrapper_popped():
    seen: dict[str, Any] = {}

    def archive(sender: Any, **kwargs: Any) -> None:
        seen["inside"] = wrapped_count()

    def run() -> None:
        with receiving(archive, sender=Bare), dt_signals_panel.capture() as recording:
            Bare.objects.create(name="b")
        seen["call"] = calls(recording, "archive")[0]
        seen["after"] = list(connections["other"].execute_wrappers)

    in_a_thread_of_its_own(run)  # a thread with no connection to "other" yet
    assert seen["inside"] == [queries._observe]  # the application's wrapper popped, ours under it until ...
    assert seen["after"] == []  # ... the receiver returned
    assert seen["call"]["db"]["other"]["queries"] == 1


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
async def test_an_async_receiver_whose_call_opens_a_connection_inside_an_execute_wrapper_block_leaves_it_balanced():
    seen: dict[str, Any] = {}

    async def archive(sender: Any, **kwargs: Any) -> None:
        seen["inside"] = await sync_to_async(wrapped_count)()

    probe, recorder = recorded_probe(archive)
    async with ThreadSensitiveContext():
        try:
            async with recorder as recording:
                await probe.asend(sender=None)
        finally:
            await sync_to_async(connections.close_all)()
    assert [w is queries._observe for w in seen["inside"]] == [True]  # the application's own wrapper popped
    assert [c["queries"] for c in calls(recording, "archive")] == [1]


@pytest.mark.django_db(transaction=True)
async def test_an_async_receiver_under_asend_counts_the_queries_run_in_its_requests_sync_thread():
    # As under ASGI: the request's own sync thread, whose connection opens while the request records.
    probe, recorder = recorded_probe(three_queries)
    async with ThreadSensitiveContext():
        try:
            async with recorder as recording:
                await Tag.objects.acount()  # the view's own query, before the send
                responses = await probe.asend(sender=None)
                await probe.asend_robust(sender=None)
                wrappers_inside = await sync_to_async(lambda: [list(c.execute_wrappers) for c in connections.all()])()
            wrappers_after = await sync_to_async(our_wrappers_after_a_query)()
        finally:
            await sync_to_async(connections.close_all)()
    assert responses == [(three_queries, None)]
    found = calls(recording, "three_queries")
    assert len(found) == 2
    for call in found:
        assert_three_queries(call)
    assert recording.stats()["summary"]["receiver_queries"] == 6
    assert any(wrappers_inside)  # observed while the request records ...
    assert wrappers_after == 0  # ... and Django's own again at its next query outside


def our_wrappers_after_a_query() -> int:
    Tag.objects.exists()
    return sum(
        1 for c in connections.all(initialized_only=True) for w in c.execute_wrappers if w.__module__.startswith("dt_")
    )


@pytest.mark.django_db(transaction=True)
async def test_an_async_receiver_that_sends_a_signal_does_not_count_its_child_receivers_queries():
    inner_probe, outer_probe = Signal(), Signal()

    async def inner(sender: Any, **kwargs: Any) -> None:
        await Tag.objects.acount()
        await Tag.objects.acount()

    async def outer(sender: Any, **kwargs: Any) -> None:
        await Tag.objects.filter(name="x").aexists()
        await inner_probe.asend(sender=None)
        await sync_to_async(inner_probe.send)(sender=None)

    inner_probe.connect(inner, weak=False)
    outer_probe.connect(outer, weak=False)
    recorder = dt_signals_panel.capture()
    recorder.recording.signals.update({inner_probe: "inner_probe", outer_probe: "outer_probe"})
    async with ThreadSensitiveContext():
        try:
            async with recorder as recording:
                await outer_probe.asend(sender=None)
        finally:
            await sync_to_async(connections.close_all)()
    assert [c["queries"] for c in calls(recording, "outer")] == [1]
    assert [c["queries"] for c in calls(recording, "inner")] == [2, 2]
    assert recording.stats()["summary"]["receiver_queries"] == 5


@pytest.mark.django_db(transaction=True)
async def test_an_async_receiver_whose_thread_was_not_observed_all_along_is_shown_as_not_measured_never_as_zero():
    # The one case that cannot be measured without moving work to another thread: the thread asgiref runs the
    # receiver's calls in opened its connection before the capture, and none of our code has run there since.
    await Tag.objects.acount()  # outside every capture: the connection of that thread opens unobserved
    probe, recorder = recorded_probe(three_queries)
    async with recorder as recording:
        responses = await probe.asend(sender=None)
    assert responses == [(three_queries, None)]
    found = calls(recording, "three_queries")
    assert [("queries" in c, c.get("queries_not_measured")) for c in found] == [(False, True)]
    (row,) = [r for r in recording.stats()["receivers"] if r["name"].endswith("three_queries")]
    assert row["queries_not_measured"] is True
    assert recording.stats()["summary"]["receivers_not_measured"] == 1
    with pytest.raises(AssertionError, match=r"cannot check at most 5 queries .*three_queries ran 1 call whose .*not"):
        testing.assert_max_receiver_queries(recording, 5)
    by_time = recording.as_table().split("Receivers by time")[1]
    (line,) = [line for line in by_time.splitlines() if "three_queries" in line]
    assert line.split()[-3:-1] == ["-", "-"]  # queries, query ms: not 0
    content = render_to_string("dt_signals_panel/panel.html", view_model(recording.stats()))
    assert content.count(" · queries not measured</span>") == 1
    assert "1 async receiver's queries not measured" in content
    assert ">not measured</td>" in content


@pytest.mark.django_db(transaction=True)
def test_an_async_receivers_queries_are_counted_for_it_and_not_for_the_sync_receiver_that_sent_its_signal():
    async def inner(sender: Any, **kwargs: Any) -> None:
        await Tag.objects.acount()

    probe = Signal()
    probe.connect(inner, weak=False)

    def outer(sender: Any, instance: Any, **kwargs: Any) -> None:
        Tag.objects.exists()
        probe.send(sender=None)  # async_to_sync: inner's queries come back to this thread

    recorder = dt_signals_panel.capture()
    recorder.recording.signals[probe] = "probe"
    with receiving(outer, sender=Bare), recorder as recording:
        Bare.objects.create(name="one")
    assert [c["queries"] for c in calls(recording, "outer")] == [1]
    assert [c["queries"] for c in calls(recording, "inner")] == [1]


async def _interleaving(recording: bool) -> list[str]:
    """What concurrent async receivers under ``asend`` and a task beside them did, in the order they did it."""
    order: list[str] = []

    def receiver(name: str) -> Any:
        async def run(sender: Any, **kwargs: Any) -> None:
            order.append(f"{name} starts")
            await asyncio.sleep(0)
            order.append(f"{name} ends")

        return run

    async def beside() -> None:
        for step in range(6):
            order.append(f"beside {step}")
            await asyncio.sleep(0)

    probe = Signal()
    a, b = receiver("a"), receiver("b")
    probe.connect(a, weak=False)
    probe.connect(b, weak=False)
    recorder = dt_signals_panel.capture()
    recorder.recording.signals[probe] = "probe"
    if recording:
        async with recorder:
            await asyncio.gather(probe.asend(sender=None), beside())
    else:
        await asyncio.gather(probe.asend(sender=None), beside())
    return order


async def test_async_receivers_are_scheduled_the_same_with_the_panel_recording_and_without():
    assert await _interleaving(recording=True) == await _interleaving(recording=False)


# -- the finding ---------------------------------------------------------------------------------------
def saves(n: int) -> Any:
    with receiving(one_query, sender=Bare), dt_signals_panel.capture() as recording:
        for i in range(n):
            Bare.objects.create(name=f"row {i}")
    return recording


def test_a_receiver_querying_on_ten_sends_is_reported_with_its_call_site_count_and_query_shape():
    (finding,) = saves(10).stats()["findings"]["queries_in_receivers"]
    assert finding["kind"] == "receiver_queries_per_send"
    assert (finding["signal"], finding["sender"], finding["sends"], finding["queries"]) == (
        "post_save",
        "testapp.Bare",
        10,
        10,
    )
    assert finding["site"][2] == "saves"
    message = finding["message"]
    assert message.startswith("queries in a receiver per send: tests.test_receiver_queries.one_query ran 10 queries")
    assert 'FROM "testapp_tag"' in message
    assert "\u00d7 10" in message
    assert "test_receiver_queries.py" in message
    for cure in ("after the loop", "transaction.on_commit", "select_related", "bulk_update"):
        assert cure in message


def test_nine_sends_are_not_reported_and_the_threshold_is_a_setting():
    assert saves(9).stats()["findings"]["queries_in_receivers"] == []
    with override_settings(DT_SIGNALS_PANEL={"RECEIVER_QUERY_SENDS": 3}):
        assert len(saves(3).stats()["findings"]["queries_in_receivers"]) == 1
    with override_settings(DT_SIGNALS_PANEL={"RECEIVER_QUERY_SENDS": 0}):
        assert saves(20).stats()["findings"]["queries_in_receivers"] == []


def test_a_wrong_threshold_is_a_system_check_error():
    with override_settings(DT_SIGNALS_PANEL={"RECEIVER_QUERY_SENDS": "ten"}):
        assert [e.id for e in check_settings()] == ["dt_signals_panel.E002"]
    with override_settings(DT_SIGNALS_PANEL={"RECEIVER_QUERY_SENDS": 5}):
        assert check_settings() == []


def test_the_finding_is_a_problem_for_assert_no_problems():
    with pytest.raises(AssertionError, match="queries in a receiver per send"):
        testing.assert_no_problems(saves(10))


# -- in tests ------------------------------------------------------------------------------------------
def test_assert_max_receiver_queries_names_the_receiver_the_query_shape_and_the_call_site():
    recording = saves(4)
    testing.assert_max_receiver_queries(recording, 4)
    testing.assert_max_receiver_queries(recording, 0, signal="pre_save")
    testing.assert_max_receiver_queries(recording, 0, sender=Author)
    testing.assert_max_receiver_queries(recording, 0, receiver="tests.elsewhere.nobody")
    with pytest.raises(AssertionError) as failed:
        testing.assert_max_receiver_queries(recording, 3, receiver=one_query, signal="post_save", sender=Bare)
    text = str(failed.value)
    assert text.splitlines()[0] == "expected at most 3 queries run by receivers, got 4:"
    assert "tests.test_receiver_queries.one_query: 4 queries in 4 calls" in text
    assert 'FROM "testapp_tag"' in text
    assert "\u00d7 4" in text
    assert "test_receiver_queries.py:" in text


def test_assert_no_queries_per_send_in_receivers_fails_unless_allowed():
    recording = saves(10)
    with pytest.raises(AssertionError, match="1 receiver ran queries on every send") as failed:
        testing.assert_no_queries_per_send_in_receivers(recording)
    assert "allow=[('post_save', 'tests.test_receiver_queries.one_query')]" in str(failed.value)
    testing.assert_no_queries_per_send_in_receivers(recording, allow=[("post_save", one_query)])
    testing.assert_no_queries_per_send_in_receivers(recording, allow="tests.test_receiver_queries.one_query")
    testing.assert_no_queries_per_send_in_receivers(saves(2))


def save_bares(n: int) -> None:
    for i in range(n):
        Bare.objects.create(name=f"{i}")


def test_the_expect_forms_record_their_block_and_check_it():
    with receiving(one_query, sender=Bare):
        with testing.expect_max_receiver_queries(2, receiver=one_query):
            save_bares(2)
        with pytest.raises(AssertionError), testing.expect_max_receiver_queries(1):
            save_bares(2)
        with pytest.raises(AssertionError), testing.expect_no_queries_per_send_in_receivers():
            save_bares(10)
        with testing.expect_no_queries_per_send_in_receivers(allow=[("*", one_query)]):
            save_bares(10)


def test_the_mixin_gives_a_testcase_both_as_methods():
    mixin = testing.SignalAssertionsMixin()
    with receiving(one_query, sender=Bare):
        with mixin.assertMaxReceiverQueries(1, signal="post_save"):
            save_bares(1)
        with pytest.raises(AssertionError), mixin.assertNoQueriesPerSendInReceivers():
            save_bares(10)


# -- shown ---------------------------------------------------------------------------------------------
def test_the_panel_shows_each_receivers_queries_in_its_cell_by_time_and_in_the_summary(visit):
    with receiving(one_query, sender=Group):
        opened = visit("/trust/receiver-groups/")
    content = opened.content
    assert content.count("· 12 queries") == 0
    assert content.count(" · 1 query</span>") == 12  # each post_save row's receivers cell
    assert '<li data-stat="receiver_queries"><strong>12</strong> queries run by receivers, of ' in content
    by_time = content[content.index('id="djdt-sig-receivers"') :]
    assert "1 query shape" in by_time
    assert "\u00d7 12" in by_time
    assert 'data-kind="receiver_queries_per_send"' in content
    assert "1 receiver querying on every send" in opened.response.content.decode()  # the toolbar's subtitle


def test_the_text_table_shows_receivers_queries():
    table = saves(3).as_table()
    assert "3 queries run by receivers" in table
    assert "tests.test_receiver_queries.one_query · 1 query" in table
    assert "Queries run by tests.test_receiver_queries.one_query" in table
    assert "\u00d7 3" in table


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_a_connection_first_opened_between_two_receivers_is_observed_in_the_second():
    seen: dict[str, Any] = {}

    def archive(sender: Any, instance: Any, **kwargs: Any) -> None:
        if instance.name == "second":
            ArchivedNote.objects.count()

    def run() -> None:
        # A new thread: "other" has no connection object when the first receiver runs.
        with receiving(archive, sender=Bare), dt_signals_panel.capture() as recording:
            Bare.objects.create(name="first")
            ArchivedNote.objects.exists()  # the view opens "other", outside every receiver
            Bare.objects.create(name="second")
        seen["calls"] = [c.get("queries", 0) for c in calls(recording, "archive")]

    in_a_thread_of_its_own(run)
    assert seen["calls"] == [0, 1]
