"""Where in the user's code each signal was sent from, and the full stack behind djdt's toggle."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.testapp import views

pytestmark = pytest.mark.django_db


def line_of(func, text):
    import inspect

    lines, start = inspect.getsourcelines(func)
    return start + next(i for i, line in enumerate(lines) if text in line)


def test_each_save_points_at_the_line_of_user_code_that_made_it(visit):
    opened = visit("/create/")
    first, second = opened.events("post_save")
    assert first["site"][0] == views.__file__
    assert first["site"][1:] == [line_of(views.create_then_update, "author.save()"), "create_then_update"]
    assert second["site"][1] == line_of(views.create_then_update, 'author.save(update_fields=["name"])')
    assert "testapp/views.py:" in opened.content


def test_the_pre_and_post_save_of_one_save_share_one_stack(visit):
    opened = visit("/create/")
    pre, post = opened.events("pre_save"), opened.events("post_save")
    assert pre[0]["stack"] == post[0]["stack"]
    assert pre[1]["stack"] == post[1]["stack"]
    assert pre[0]["stack"] != pre[1]["stack"]
    assert len(opened.stats["stacks"]) == 2


def test_a_cascade_of_deletes_shares_the_stack_of_the_delete_call(visit):
    opened = visit("/delete/")
    deletes = [e for e in opened.events("pre_delete") + opened.events("post_delete")]
    assert len({e["stack"] for e in deletes}) == 1
    assert {e["site"][2] for e in deletes} == {"delete_cascade"}


def test_the_stack_toggle_shows_the_frames_without_hidden_modules(visit):
    opened = visit("/create/")
    stack = opened.stats["stacks"][opened.events("post_save")[0]["stack"]]
    files = [frame[0] for frame in stack]
    assert files[-1] == views.__file__ or any(f == views.__file__ for f in files)
    assert not any("/dt_signals_panel/" in f for f in files)
    assert not any("/django/dispatch/" in f for f in files)
    assert 'class="djToggleSwitch" data-toggle-name="sigMain"' in opened.content
    assert 'class="djdt-stack"' in opened.content


@override_settings(DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False, "ENABLE_STACKTRACES": False})
def test_with_stacktraces_off_only_the_call_site_is_kept(visit):
    opened = visit("/create/")
    assert opened.stats["stacks"] == []
    assert all("stack" not in e for e in opened.events("post_save"))
    assert opened.events("post_save")[0]["site"][2] == "create_then_update"
    assert "djdt-stack" not in opened.content


@override_settings(DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False, "HIDE_IN_STACKTRACES": ["tests.testapp.views"]})
def test_hide_in_stacktraces_hides_frames_and_marks_the_call_site_as_framework_code(visit):
    # A hidden module is not the user's code: with no other frame of theirs in the request, its frame is the
    # nearest framework frame, named and marked as such (never a frame of whoever called the handler).
    opened = visit("/create/")
    event = opened.events("post_save")[0]
    stack = opened.stats["stacks"][event["stack"]]
    assert not any(frame[0] == views.__file__ for frame in stack)
    assert event["site"][0] == views.__file__
    assert event["site_kind"] == "framework"


@override_settings(DT_SIGNALS_PANEL={"CALL_SITES": False})
def test_call_sites_can_be_turned_off(visit):
    opened = visit("/create/")
    assert all("site" not in e and "stack" not in e for e in opened.events("post_save"))


@pytest.mark.django_db(transaction=True)
async def test_sends_made_under_sync_to_async_name_the_views_await_lines(avisit):
    opened = await avisit("/async-create/")
    created, saved = opened.events("post_save")
    for event, text in ((created, "Author.objects.acreate("), (saved, "await author.asave()")):
        assert event["site"][0] == views.__file__
        assert event["site"][1:] == [line_of(views.async_create, text), "async_create"]
    (failed,) = opened.events("user_login_failed")
    assert failed["site"][1:] == [line_of(views.async_create, "aauthenticate("), "async_create"]
    assert "an unknown place" not in opened.content
