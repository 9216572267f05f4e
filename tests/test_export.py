"""The panel's export: "copy as text" is the recording's text table, "download JSON" a documented,
versioned shape that round-trips what the panel shows; both served only where the toolbar is."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from dt_signals_panel.export import EXPORT_FORMAT, EXPORT_VERSION
from dt_signals_panel.text import format_stats
from tests.testapp.models import Author

pytestmark = pytest.mark.django_db

EXPORT = "/__debug__/signal_activity/export/"


def test_the_json_download_is_versioned_and_round_trips_the_counts_the_panel_shows(client, visit):
    Author.objects.bulk_create([Author(name=f"A{i}") for i in range(10)])
    with override_settings(DT_SIGNALS_PANEL={"SHOWN_PER_SIGNAL": 3}):
        opened = visit("/findings/every-author/")
    assert f"{EXPORT}?request_id={opened.request_id}&amp;format=json" in opened.content
    response = client.get(EXPORT, {"request_id": opened.request_id, "format": "json"})
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="signal-activity-')
    data = json.loads(response.content)
    assert (data["format"], data["version"], data["request_id"]) == (EXPORT_FORMAT, EXPORT_VERSION, opened.request_id)
    assert data["summary"] == opened.stats["summary"]
    by_signal = {s["signal"]: s for s in data["signals"]}
    assert {name: s["count"] for name, s in by_signal.items()} == {"pre_save": 10, "post_save": 10}
    (alike,) = by_signal["post_save"]["groups"]
    assert (alike["count"], alike["rows"]) == (10, 10)
    assert len(by_signal["post_save"]["events"]) == 3
    assert all("stack" not in event for s in data["signals"] for event in s["events"])
    (finding,) = data["findings"]
    assert (finding["family"], finding["severity"], finding["kind"]) == (
        "redundant_saves",
        "problem",
        "nothing_changed",
    )


def test_copy_as_text_is_the_recordings_text_table(client, visit):
    opened = visit("/create/")
    response = client.get(EXPORT, {"request_id": opened.request_id, "format": "text"})
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    # The same function Recording.as_table() runs, on the stats the store kept.
    assert text == format_stats(opened.stats)
    assert "post_save (2)" in text


def test_the_export_is_not_served_where_the_toolbar_is_not_shown(client, visit):
    opened = visit("/create/")
    with override_settings(INTERNAL_IPS=[]):
        assert client.get(EXPORT, {"request_id": opened.request_id}).status_code == 404
    assert client.get(EXPORT, {"request_id": "nosuchrequest"}).status_code == 404
