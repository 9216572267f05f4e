"""Timing receivers must not change what Django gives back or logs."""

from __future__ import annotations

import logging

import pytest
from django.dispatch import Signal

import dt_signals_panel
from tests.testapp import finding_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def ping():
    signal = Signal()
    signal.connect(finding_views.quick_receiver, weak=False)
    signal.connect(finding_views.failing_receiver, weak=False)
    return signal


def record(signal):
    """A capture that tracks one ad-hoc signal as well as the built-in ones."""
    from dt_signals_panel.recorder import capture

    cap = capture()
    cap.recording.signals[signal] = "ping"
    return cap


def test_send_robust_returns_the_real_receivers_and_logs_their_names(ping, caplog):
    with caplog.at_level(logging.ERROR, logger="django.dispatch"):
        plain = ping.send_robust(sender=None)
    caplog.clear()
    with record(ping) as recording, caplog.at_level(logging.ERROR, logger="django.dispatch"):
        recorded = ping.send_robust(sender=None)
    assert (
        [r for r, _ in recorded]
        == [r for r, _ in plain]
        == [
            finding_views.quick_receiver,
            finding_views.failing_receiver,
        ]
    )
    assert isinstance(recorded[1][1], RuntimeError)
    assert "Error calling failing_receiver in Signal.send_robust()" in caplog.text
    (event,) = recording.events
    assert [r["name"].rsplit(".", 1)[1] for r in event["receivers"]] == ["quick_receiver", "failing_receiver"]


def test_an_exception_from_send_propagates_unchanged_and_is_shown(ping):
    with record(ping) as recording, pytest.raises(RuntimeError, match="receiver broke"):
        ping.send(sender=None)
    (event,) = recording.events
    assert event["error"] == "RuntimeError: receiver broke"
    # both receivers ran before the exception left send(): the first returned, the second raised
    assert [r["name"].rsplit(".", 1)[1] for r in event["receivers"]] == ["quick_receiver", "failing_receiver"]


async def test_asend_returns_the_real_receivers(ping):
    ping.disconnect(finding_views.failing_receiver)
    with record(ping) as recording:
        responses = await ping.asend(sender=None)
    assert responses == [(finding_views.quick_receiver, None)]
    (event,) = recording.events
    assert event["mode"] == "asend"
    assert event["receivers"][0]["name"].endswith("quick_receiver")


def test_nested_captures_each_know_the_parent_of_a_nested_send(ping):
    from django.contrib.auth.models import Group

    def saves_inside(sender, **kwargs):
        Group.objects.create(name="made by a receiver")

    ping.disconnect(finding_views.failing_receiver)
    ping.connect(saves_inside, weak=False)
    with record(ping) as outer:
        Group.objects.create(name="outer only")
        with record(ping) as inner:
            ping.send(sender=None)
    inner_ping = next(e for e in inner.events if e["signal"] == "ping")
    outer_ping = next(e for e in outer.events if e["signal"] == "ping")
    assert [e["parent"] for e in inner.events if e["signal"] == "post_save"] == [inner_ping["seq"]]
    outer_saves = [e for e in outer.events if e["signal"] == "post_save"]
    assert [e["parent"] for e in outer_saves] == [None, outer_ping["seq"]]
    assert dt_signals_panel.Recording is type(outer)
