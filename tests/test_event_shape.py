"""One event, whatever the detail level: a light event is the detailed one with the costly parts left out."""

from __future__ import annotations

import pytest

from dt_signals_panel import events
from dt_signals_panel.conf import get_config
from tests.testapp.models import Author


@pytest.mark.parametrize(
    "named",
    [
        {"created": True, "update_fields": None, "raw": False, "using": "default"},
        {"created": "yes", "update_fields": frozenset({"name"}), "raw": "no", "using": 3},
        {"created": False, "update_fields": ["b", "a"], "raw": True, "using": "other", "extra": "text"},
    ],
)
def test_a_light_event_reads_every_argument_it_keeps_as_the_detailed_event_does(named):
    author = Author(id=7, name="Ann")
    named = {"instance": author, **named}
    config = get_config()
    detailed = events.build("post_save", "testapp.Author", named, config)
    light = events.build("post_save", "testapp.Author", named, config, detailed=False)
    assert light["light"] is True
    assert "light" not in detailed
    assert light["row"] == detailed["row"]
    assert set(light["args"]) == (set(detailed["args"]) & events.LIGHT_ARGUMENTS) - {"instance"}
    assert {key: detailed["args"][key] for key in light["args"]} == light["args"]
    assert "instance" not in light["args"]
    assert detailed["args"]["instance"] == "testapp.Author #7 “Ann”"
