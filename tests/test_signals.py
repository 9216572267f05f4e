"""Each tracked signal, through the real toolbar: request a page, open the panel, read what a user sees."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed
from django.test import override_settings

from dt_signals_panel.testing import assert_signal_count
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db(databases=["default", "other"])


def test_post_save_shows_created_then_updated(visit):
    opened = visit("/create/")
    saves = opened.events("post_save")
    assert [e["args"]["created"] for e in saves] == [True, False]
    assert [e["args"]["update_fields"] for e in saves] == [None, ["name"]]
    assert {e["args"]["using"] for e in saves} == {"default"}
    assert [e["args"]["raw"] for e in saves] == [False, False]
    pk = Author.objects.get().pk
    assert saves[1]["args"]["instance"] == f"testapp.Author #{pk} “Ann Leckie”"
    assert [e["sender"] for e in saves] == ["testapp.Author", "testapp.Author"]
    assert opened.group("post_save")["count"] == 2
    assert "Ann Leckie" in opened.content


def test_pre_save_shows_update_fields_sorted_and_the_unsaved_instance(visit):
    opened = visit("/create/")
    first, second = opened.events("pre_save")
    assert first["args"]["instance"] == "testapp.Author (unsaved) “Ann”"
    assert second["args"]["update_fields"] == ["name"]
    # Django's own argument order, so the panel reads like the receiver signature.
    assert list(first["args"]) == ["instance", "raw", "using", "update_fields"]


def test_save_routed_to_the_second_database_shows_its_alias(visit):
    opened = visit("/archive/")
    (pre,) = opened.events("pre_save")
    (post,) = opened.events("post_save")
    assert pre["args"]["using"] == post["args"]["using"] == "other"
    assert post["sender"] == "testapp.ArchivedNote"


def test_delete_with_cascade_shows_every_row_and_its_origin(visit):
    opened = visit("/delete/")
    deleted = opened.events("post_delete")
    assert sorted(e["sender"] for e in deleted) == ["testapp.Author", "testapp.Book", "testapp.Book"]
    # origin is the instance whose delete() started the cascade, for the books too.
    assert {e["args"]["origin"].split(" “")[0].rsplit(" #", 1)[0] for e in deleted} == {"testapp.Author"}
    assert opened.group("pre_delete")["count"] == 3
    assert opened.stats["summary"]["deletes"] == 3


def test_m2m_changed_shows_each_action_with_sorted_pk_set(visit):
    def listener(**kwargs):
        pass

    m2m_changed.connect(listener, sender=Book.tags.through, weak=False)
    try:
        opened = visit("/m2m/")
    finally:
        m2m_changed.disconnect(listener, sender=Book.tags.through)
    changes = opened.events("m2m_changed")
    assert [e["args"]["action"] for e in changes] == [
        "pre_add",
        "post_add",
        "pre_remove",
        "post_remove",
        "pre_clear",
        "post_clear",
    ]
    red, blue = (t.pk for t in Book.objects.get().tags.model.objects.order_by("name").reverse())
    assert changes[0]["args"]["pk_set"] == sorted([red, blue], key=str)
    assert changes[2]["args"]["pk_set"] == [red]
    assert changes[4]["args"]["pk_set"] is None
    assert {e["args"]["reverse"] for e in changes} == {False}
    assert {e["args"]["model"] for e in changes} == {"testapp.Tag"}
    assert changes[0]["sender"] == "testapp.Book_tags"


def test_m2m_add_without_listeners_is_not_sent_by_django(visit):
    # Django skips m2m_changed for add() when nobody listens; the panel must not change that.
    opened = visit("/m2m/")
    actions = [e["args"]["action"] for e in opened.events("m2m_changed")]
    assert "pre_add" not in actions
    assert actions == ["pre_remove", "post_remove", "pre_clear", "post_clear"]


def test_login_shows_user_and_request_and_the_last_login_save_nested_under_it(visit):
    get_user_model().objects.create_user("alice", password="wonderland")
    opened = visit("/login/")
    (logged_in,) = opened.events("user_logged_in")
    user = get_user_model().objects.get()
    assert logged_in["sender"] == "auth.User"
    assert logged_in["args"]["user"] == f"auth.User #{user.pk} “alice”"
    assert logged_in["args"]["request"] == "GET /login/"
    last_login = [e for e in opened.events("post_save") if e["args"]["update_fields"] == ["last_login"]]
    assert len(last_login) == 1
    assert last_login[0]["parent"] == logged_in["seq"]
    assert "djdt-sig-depth-1" in opened.content


def test_logout_shows_the_user_who_left(visit, client):
    get_user_model().objects.create_user("alice", password="wonderland")
    client.get("/login/")
    opened = visit("/logout/")
    (logged_out,) = opened.events("user_logged_out")
    assert logged_out["args"]["user"].startswith("auth.User #")
    assert logged_out["args"]["request"] == "GET /logout/"


def test_failed_login_shows_each_credential_with_its_masking(visit):
    opened = visit("/failed-login/")
    (failed,) = opened.events("user_login_failed")
    assert failed["sender"] == "django.contrib.auth"
    status = {c["key"]: c["status"] for c in failed["credentials"]}
    assert status == {
        "username": "not_sensitive",
        "password": "masked_by_django",
        "pin": "sensitive_in_clear",
        "otp_code": "sensitive_in_clear",
    }
    values = {c["key"]: c["value"] for c in failed["credentials"]}
    assert values["username"] == "alice"
    for secret in ("wrong-password-123", "p1n-4921", "otp-771234"):
        assert secret not in str(opened.stats)
        assert secret not in opened.content
    assert failed["args"]["request"] == "GET /failed-login/"
    assert opened.stats["summary"]["failed_logins"] == 1


def test_direct_send_of_user_login_failed_is_flagged_and_masked(visit):
    opened = visit("/direct-failed-login/")
    (failed,) = opened.events("user_login_failed")
    status = {c["key"]: c["status"] for c in failed["credentials"]}
    assert status == {
        "username": "not_sensitive",
        "password": "sensitive_in_clear",
        "Authorization": "sensitive_in_clear",
    }
    for secret in ("hunter2-clear", "s3cr3t-t0ken"):
        assert secret not in str(opened.stats)
        assert secret not in opened.content
    keys = {f["key"]: f for f in opened.stats["findings"]["credentials_in_clear"]}
    assert set(keys) == {"password", "Authorization"}
    assert not keys["password"]["via_authenticate"]
    assert "bypassing authenticate()" in opened.content


def test_loading_many_rows_is_counted_per_model_not_listed(visit):
    Author.objects.bulk_create(Author(name=f"a{i}") for i in range(250))
    opened = visit("/load/")
    (row,) = [r for r in opened.stats["inits"] if r["sender"] == "testapp.Author"]
    assert row["pre_init"] == row["post_init"] == 250
    assert not {"pre_init", "post_init"} & set(opened.signals())
    assert opened.stats["summary"]["rows_loaded"] == 250
    assert row["example"]["args"] == "2 positional values"


def test_pre_init_example_shows_keyword_names_and_masks_secrets(visit):
    opened = visit("/create/")
    (row,) = [r for r in opened.stats["inits"] if r["sender"] == "testapp.Author"]
    assert row["example"]["kwargs"] == {"name": "Ann"}


def test_nav_subtitle_counts_signals_and_saves(client):
    response = client.get("/create/")
    assert re.search(rb"\d+ signals \xc2\xb7 2 saves", response.content)


def test_a_page_without_signals_says_so(visit):
    opened = visit("/")
    assert opened.stats["groups"] == []
    assert "No auth or model signal was sent during this request." in opened.content


@pytest.mark.django_db(transaction=True)
async def test_async_view_under_asgi_records_its_saves_and_async_sends(avisit):
    opened = await avisit("/async-create/")
    saves = opened.events("post_save")
    assert [e["args"]["created"] for e in saves] == [True, False]
    (failed,) = opened.events("user_login_failed")
    assert failed["mode"] == "asend"
    assert {c["key"]: c["status"] for c in failed["credentials"]}["password"] == "masked_by_django"


def test_class_prepared_is_recorded_when_a_model_class_is_built():
    from django.db import models

    import dt_signals_panel

    with dt_signals_panel.capture() as recording:

        class Ephemeral(models.Model):
            class Meta:
                app_label = "testapp"
                managed = False

    assert_signal_count(recording, "class_prepared", 1, sender="testapp.Ephemeral")
    (event,) = recording.events
    assert event["signal"] == "class_prepared"
    assert event["sender"] == "testapp.Ephemeral"
    from django.apps import apps

    del apps.all_models["testapp"]["ephemeral"]
    apps.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_migrate_sends_pre_and_post_migrate_per_app_with_their_arguments():
    from django.core.management import call_command

    import dt_signals_panel

    with dt_signals_panel.capture() as recording:
        call_command("migrate", "testapp", verbosity=0, interactive=False)
    pre = [e for e in recording.events if e["signal"] == "pre_migrate"]
    post = [e for e in recording.events if e["signal"] == "post_migrate"]
    assert pre
    assert len(pre) == len(post)
    assert "testapp" in {e["sender"] for e in post}
    event = next(e for e in post if e["sender"] == "testapp")
    assert event["args"]["using"] == "default"
    assert event["args"]["verbosity"] == 0
    assert event["args"]["interactive"] is False
    assert {"app_config", "plan", "apps", "stdout"} <= set(event["args"])


@override_settings(
    DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False, "EXTRA_SIGNALS": ["tests.testapp.finding_views.order_placed"]}
)
def test_djdt_extra_signals_are_recorded_too(visit):
    opened = visit("/findings/robust/")
    (event,) = opened.events("order_placed")
    assert event["sender"] == "testapp.Book"
    assert event["args"] == {"order_id": 7}
