"""djdt's own settings, read through djdt: its stack defaults, its frame locals, and extra signals' names."""

from __future__ import annotations

import json

import pytest
from debug_toolbar import settings as djdt_settings
from debug_toolbar.utils import render_stacktrace
from django.test import override_settings

from dt_signals_panel import capture
from dt_signals_panel.conf import get_config
from dt_signals_panel.signals import tracked_signals
from tests.testapp import billing, finding_views
from tests.testapp.models import Author

LOCALS_ON = {"IS_RUNNING_TESTS": False, "ENABLE_STACKTRACES_LOCALS": True}


@pytest.fixture
def djdt_default_hides_views():
    """djdt as if its own HIDE_IN_STACKTRACES default named a module of the test app."""
    saved = djdt_settings.CONFIG_DEFAULTS["HIDE_IN_STACKTRACES"]
    djdt_settings.CONFIG_DEFAULTS["HIDE_IN_STACKTRACES"] = ("tests.testapp.views",)
    djdt_settings.get_config.cache_clear()
    get_config.cache_clear()
    yield
    djdt_settings.CONFIG_DEFAULTS["HIDE_IN_STACKTRACES"] = saved
    djdt_settings.get_config.cache_clear()
    get_config.cache_clear()


@override_settings(DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False})
def test_hidden_stack_modules_follow_djdts_own_default_not_a_copy_of_it(djdt_default_hides_views):
    config = get_config()
    assert "tests.testapp.views" in config.stack_hidden
    assert "django.core.handlers" not in config.stack_hidden


@override_settings(DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False, "HIDE_IN_STACKTRACES": ["myapp"]})
def test_the_users_hide_in_stacktraces_still_wins_over_djdts_default(djdt_default_hides_views):
    assert get_config().stack_hidden[-1:] == ("myapp",)


class Loud:
    """A value whose ``__repr__`` must never run: djdt's own locals rendering would call it."""

    calls = 0

    def __repr__(self) -> str:
        Loud.calls += 1
        return "loud"


def save_with_locals() -> Loud:
    api_token = "tok-4f9d81c2"
    note = "hello there"
    loud = Loud()
    writer = Author(name="Ann")
    writer.save()
    del api_token, note  # locals of the frame, read while the save is sent
    return loud


def frame_of(stats, function):
    event = next(e for g in stats["groups"] if g["signal"] == "pre_save" for e in g["events"])
    return next(frame for frame in stats["stacks"][event["stack"]] if frame[2] == function)


@pytest.mark.django_db
@override_settings(DEBUG_TOOLBAR_CONFIG=LOCALS_ON)
def test_with_enable_stacktraces_locals_each_frame_shows_its_locals_masked_and_without_running_their_code():
    Loud.calls = 0
    with capture() as recording:
        save_with_locals()
    stats = recording.stats()
    shown = frame_of(stats, "save_with_locals")[4]
    assert "note = hello there" in shown
    assert "api_token = ••••••••" in shown
    assert "writer = testapp.Author" in shown
    assert "loud = <tests.test_djdt_settings.Loud object>" in shown
    assert "tok-4f9d81c2" not in json.dumps(stats)
    assert Loud.calls == 0
    assert "djdt-locals" in render_stacktrace(stats["stacks"][0])


@pytest.mark.django_db
@override_settings(DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False})
def test_without_enable_stacktraces_locals_no_frame_carries_locals():
    with capture() as recording:
        save_with_locals()
    assert frame_of(recording.stats(), "save_with_locals")[4] is None


EXTRA = [
    "tests.testapp.finding_views.order_placed",
    "tests.testapp.billing.order_placed",
    "tests.testapp.billing.post_save",
    "tests.testapp.billing.invoice_sent",
]


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": EXTRA})
def test_extra_signals_that_share_a_name_are_named_by_their_path_and_a_unique_one_by_its_name():
    names = tracked_signals(get_config())
    assert names[finding_views.order_placed] == "tests.testapp.finding_views.order_placed"
    assert names[billing.order_placed] == "tests.testapp.billing.order_placed"
    assert names[billing.post_save] == "tests.testapp.billing.post_save"
    assert names[billing.invoice_sent] == "invoice_sent"


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": EXTRA})
def test_two_signals_of_one_name_from_two_apps_are_two_groups():
    with capture() as recording:
        finding_views.order_placed.send(sender="shop")
        billing.order_placed.send(sender="billing")
        billing.order_placed.send(sender="billing")
        billing.invoice_sent.send(sender="billing")
    counts = {group["signal"]: group["count"] for group in recording.stats()["groups"]}
    assert counts == {
        "tests.testapp.finding_views.order_placed": 1,
        "tests.testapp.billing.order_placed": 2,
        "invoice_sent": 1,
    }
