"""Row state: what the redundant-save findings compare with leaves no trace on the instance, is freed with
it, and never makes the panel advise dropping a save that changes the row."""

from __future__ import annotations

import contextlib
import copy
import gc
import pickle
import weakref
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings

import dt_signals_panel
from tests.conftest import PANEL_ID
from tests.rowstateapp import views
from tests.rowstateapp.models import Article, Blob, Record, Stamped
from tests.testapp.models import Author, Bare, Book

pytestmark = pytest.mark.django_db


def redundant(recording: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found = recording.stats()["findings"]["redundant_saves"]
    return [f for f in found if kind is None or f["kind"] == kind]


# -- no trace on the instance --------------------------------------------------------------------------


def load_and_pickle(client: Client, panel: str) -> dict[str, Any]:
    client.cookies[f"djdt{PANEL_ID}"] = panel
    response = client.get("/rowstate/pickle/")
    assert response.status_code == 200
    seen: dict[str, Any] = response.json()
    seen["after"] = [views.pickled(o) for o in views.kept]
    seen["deepcopy_after"] = [views.deep_copied(o) for o in views.kept]
    return seen


def test_instances_loaded_in_a_recorded_request_pickle_to_the_same_bytes_as_with_the_panel_off(client):
    get_user_model().objects.create_user("pickled", password="pw")
    Blob.objects.create(name="stored", payload=b"\x00stored bytes")
    on = load_and_pickle(client, "on")
    off = load_and_pickle(client, "off")
    # A user, a BinaryField row read back, one built from a memoryview and saved: byte for byte the same
    # during the request and after it (or, where the instance itself holds a memoryview, as PostgreSQL's
    # bytea does, the same error).
    assert on["pickled"] == off["pickled"]
    assert on["after"] == off["after"]
    assert on["deepcopy"] == off["deepcopy"]
    assert on["deepcopy_after"] == off["deepcopy_after"]
    assert on["vars"] == off["vars"]
    if connection.vendor == "sqlite":  # bytes, not a memoryview: everything pickles
        assert not any(p.startswith("pickle raised") for p in on["pickled"] + on["after"]), on
        assert on["deepcopy"] == on["deepcopy_after"] == ["ok", "ok", "ok"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL bytea row")
def test_a_bytea_row_read_back_from_postgresql_pickles_the_same_once_its_value_is_bytes():
    Blob.objects.create(name="stored", payload=b"\x00bytea")
    results = {}
    for panel in ("on", "off"):
        with dt_signals_panel.capture() if panel == "on" else contextlib.nullcontext():
            blob = Blob.objects.get(name="stored")
            # psycopg2 reads bytea back as a memoryview (kept in the row state as loaded), psycopg 3 as bytes.
            blob.payload = bytes(blob.payload)  # type: ignore[arg-type]
            results[panel] = (views.pickled(blob), views.deep_copied(blob))
        results[panel + " after"] = (views.pickled(blob), views.deep_copied(blob))
    assert results["on"] == results["off"] == results["on after"] == results["off after"]
    assert results["on"][1] == "ok"
    assert not results["on"][0].startswith("pickle raised")


def test_an_instance_holds_nothing_of_the_panel_in_its_dict_or_its_copies():
    author = Author.objects.create(name="plain")
    with dt_signals_panel.capture():
        loaded = Author.objects.get(pk=author.pk)
        loaded.save()
        built = Author(name="built")
        built.save()
        for instance in (loaded, built, copy.copy(loaded), copy.deepcopy(built)):
            assert [key for key in vars(instance) if "dt_signals" in key] == []
            assert "dt_signals_panel" not in pickle.dumps(instance).decode("latin-1")
        assert sorted(vars(loaded)) == sorted(vars(built)) == ["_state", "id", "name"]


def test_a_blob_saved_from_a_memoryview_can_be_pickled_and_deep_copied_once_its_value_is_bytes_again():
    with dt_signals_panel.capture():
        blob = Blob(name="mv", payload=memoryview(b"bytes"))
        blob.save()
        blob.payload = b"bytes"
        pickle.dumps(blob)
        copy.deepcopy(blob)
    pickle.dumps(blob)
    copy.deepcopy(blob)


def test_row_state_is_freed_with_the_instance_and_nothing_is_left_when_the_capture_closes():
    Author.objects.create(name="freed")
    gc.collect()
    gc.disable()
    try:
        with dt_signals_panel.capture() as recording:
            loaded = Author.objects.get()
            ref = weakref.ref(loaded)
            assert len(recording.rows.states) == 1
            del loaded
            assert ref() is None
            assert len(recording.rows.states) == 0
            kept = Author.objects.get()
            assert len(recording.rows.states) == 1
        assert len(recording.rows.states) == 0
        assert kept.name == "freed"
    finally:
        gc.enable()


def test_an_instance_kept_from_an_earlier_capture_has_no_known_state_in_the_next():
    Author.objects.create(name="cached")
    with dt_signals_panel.capture():
        cached = Author.objects.get()  # a module-level cache, kept across requests
    with dt_signals_panel.capture() as recording:
        cached.save()  # the row may have changed in between: the panel cannot know
    assert redundant(recording, "nothing_changed") == []


def test_nested_captures_each_judge_a_save_from_what_they_saw():
    Author.objects.create(name="nested")
    with dt_signals_panel.capture() as outer:
        author = Author.objects.get()
        with dt_signals_panel.capture() as inner:
            author.save()
            again = Author.objects.get()
            again.save()
    assert len(redundant(outer, "nothing_changed")) == 2
    # The inner capture did not see the first instance loaded: it judges only the second.
    assert [f["rows"] for f in redundant(inner, "nothing_changed")] == [1]


# -- findings that must not fire -----------------------------------------------------------------------


def test_a_json_field_edited_in_place_is_not_a_save_that_changed_nothing():
    Record.objects.create(name="r", data={"count": 1})
    with dt_signals_panel.capture() as recording:
        record = Record.objects.get()
        record.data["count"] = 2
        record.save()
    assert Record.objects.get().data == {"count": 2}  # the save did change the row
    assert redundant(recording) == []


def test_a_json_field_edited_in_place_after_a_save_is_not_a_save_that_changed_nothing():
    with dt_signals_panel.capture() as recording:
        record = Record.objects.create(name="r", data={"count": 1})
        record.data["count"] = 2
        record.save(update_fields=["data"])
    assert Record.objects.get().data == {"count": 2}
    assert redundant(recording, "nothing_changed") == []


def test_saving_only_an_auto_now_field_is_not_a_save_that_changed_nothing():
    Stamped.objects.create(name="s")
    before = Stamped.objects.get().updated
    with dt_signals_panel.capture() as recording:
        stamped = Stamped.objects.get()
        stamped.save(update_fields=["updated"])
    assert Stamped.objects.get().updated != before
    assert redundant(recording, "nothing_changed") == []


def test_update_fields_advice_never_drops_the_auto_now_field_a_full_save_writes():
    Stamped.objects.create(name="s")
    with dt_signals_panel.capture() as recording:
        stamped = Stamped.objects.get()
        stamped.name = "renamed"
        stamped.save()
    (found,) = redundant(recording, "update_fields_would_do")
    assert found["fields"] == ["name", "updated"]


def test_a_field_whose_pre_save_computes_the_value_counts_as_changed():
    Article.objects.create(title="First title")
    with dt_signals_panel.capture() as recording:
        article = Article.objects.get()
        article.title = "Second title"
        article.save(update_fields=["title"])
        article.save(update_fields=["slug"])  # the slug is computed in the save: it changes the row
    assert Article.objects.get().slug == "second-title"
    assert redundant(recording, "nothing_changed") == []


def test_a_stale_instance_that_reverts_the_row_is_not_a_save_that_changed_nothing():
    Author.objects.create(name="original")
    with dt_signals_panel.capture() as recording:
        first = Author.objects.get()
        second = Author.objects.get()
        second.name = "changed"
        second.save()
        first.save()  # writes "original" back
    assert Author.objects.get().name == "original"
    assert redundant(recording, "nothing_changed") == []


def test_a_copy_that_changes_the_row_makes_the_original_stale():
    Author.objects.create(name="original")
    with dt_signals_panel.capture() as recording:
        first = Author.objects.get()
        second = copy.copy(first)
        second.name = "changed"
        second.save()
        first.save()
    assert Author.objects.get().name == "original"
    assert redundant(recording, "nothing_changed") == []


def test_a_stale_instance_whose_row_was_deleted_is_not_a_save_that_changed_nothing():
    Author.objects.create(name="gone")
    with dt_signals_panel.capture() as recording:
        kept = Author.objects.get()
        Author.objects.get().delete()  # its books cascade: Django sends pre_delete and post_delete
        kept.save()  # inserts the row again
    assert recording.count("post_delete") == 1
    assert Author.objects.get().name == "gone"
    assert redundant(recording, "nothing_changed") == []


def test_a_fast_delete_then_a_save_that_inserts_the_row_again_is_not_a_save_that_changed_nothing():
    Bare.objects.create(name="gone")
    with dt_signals_panel.capture() as recording:
        kept = Bare.objects.get()
        Bare.objects.all().delete()  # no receivers: one DELETE, no signal
        kept.save()
    assert recording.count("post_delete") == 0
    assert Bare.objects.get().name == "gone"
    assert redundant(recording, "nothing_changed") == []


def test_a_partial_save_of_an_instance_loaded_elsewhere_tells_nothing_about_its_other_fields():
    book = Book.objects.create(title="T1", author=Author.objects.create(name="A"))
    book = Book.objects.get()
    with dt_signals_panel.capture() as recording:
        book.title = "T2"
        book.save(update_fields=["price"])
        book.save()  # writes title
    assert Book.objects.get().title == "T2"
    assert redundant(recording, "nothing_changed") == []


# -- findings that still fire --------------------------------------------------------------------------


def test_a_stale_instance_loaded_again_after_the_other_write_still_finds_nothing_changed():
    Author.objects.create(name="original")
    with dt_signals_panel.capture() as recording:
        second = Author.objects.get()
        second.name = "changed"
        second.save()
        fresh = Author.objects.get()
        fresh.save()
    (found,) = redundant(recording, "nothing_changed")
    assert found["pk"] == str(fresh.pk)


def test_unchanged_saves_of_json_auto_now_and_binary_rows_are_still_found_when_the_panel_can_know():
    Record.objects.create(name="r", data="a JSON string")
    Stamped.objects.create(name="s")
    Blob.objects.create(name="b", payload=b"bytes")
    with dt_signals_panel.capture() as recording:
        Record.objects.get().save()  # an immutable JSON value, not changed
        Stamped.objects.get().save(update_fields=["name"])  # auto_now is not written
        Blob.objects.get().save()
    found = redundant(recording, "nothing_changed")
    # bytes are compared; psycopg2's memoryview (bytea on PostgreSQL) over a buffer of its own is not judged.
    blob = ["rowstateapp.Blob"] if type(Blob.objects.get().payload) is bytes else []
    assert sorted(f["model"] for f in found) == [*blob, "rowstateapp.Record", "rowstateapp.Stamped"]


def test_a_full_save_of_a_row_with_a_json_dict_says_nothing_about_update_fields():
    Record.objects.create(name="r", data={"k": 1})
    with dt_signals_panel.capture() as recording:
        record = Record.objects.get()
        record.name = "renamed"
        record.save()
    assert redundant(recording) == []


@override_settings(DT_SIGNALS_PANEL={"MAX_EVENTS": 6})
def test_state_is_kept_for_at_most_max_events_live_instances_and_the_others_are_not_judged():
    Author.objects.bulk_create(Author(name=f"a{i}") for i in range(10))
    with dt_signals_panel.capture() as recording:
        authors = list(Author.objects.order_by("pk"))
        assert len(recording.rows.states) == 6
        authors[9].save()  # loaded past the limit: the panel cannot know
        authors[0].save()
        del authors
        assert len(recording.rows.states) == 0
        Author.objects.order_by("pk")[0].save()  # room again once the others are freed
    found = redundant(recording, "nothing_changed")
    assert [f["rows"] for f in found] == [1, 1]
    assert [f["pk"] for f in found] == [found[0]["pk"]] * 2
