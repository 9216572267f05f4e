"""Every setting is validated by a system check that reports and never raises, and a request never fails
because of configuration: a bad value is reported and its default used."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning
from django.dispatch import Signal
from django.test import override_settings

from dt_signals_panel.checks import check_settings
from dt_signals_panel.conf import DEFAULTS, get_config
from tests.conftest import open_panel, request_id_of

pytestmark = pytest.mark.django_db

DJDT = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": False, "RESULTS_CACHE_SIZE": 100}
GOOD_SIGNAL = "tests.testapp.trust_views.odd_values"

#: (DT_SIGNALS_PANEL, DEBUG_TOOLBAR_CONFIG extras, the check id it gets)
BAD: list[tuple[Any, dict[str, Any], str]] = [
    ({"NOT_A_KEY": 1}, {}, "dt_signals_panel.E001"),
    ({"MAX_EVENTS": "1000"}, {}, "dt_signals_panel.E002"),
    ({"SHOWN_PER_SIGNAL": -1}, {}, "dt_signals_panel.E002"),
    ({"MAX_EVENTS": True}, {}, "dt_signals_panel.E002"),
    ({"SENSITIVE_KEYS": "(unclosed"}, {}, "dt_signals_panel.E003"),
    ({"SENSITIVE_KEYS": 5}, {}, "dt_signals_panel.E003"),
    ({"SENSITIVE_KEYS": ["pin"]}, {}, "dt_signals_panel.E003"),
    ({"EXTRA_SIGNALS": ["tests.testapp.nowhere.signal"]}, {}, "dt_signals_panel.E004"),
    ({"EXTRA_SIGNALS": ["tests.testapp.views.page"]}, {}, "dt_signals_panel.E004"),
    ({"EXTRA_SIGNALS": ["nodots"]}, {}, "dt_signals_panel.E004"),
    (["MAX_EVENTS", 5], {}, "dt_signals_panel.E005"),
    ("EXTRA_SIGNALS", {}, "dt_signals_panel.E005"),
    ({"EXTRA_SIGNALS": [Signal()]}, {}, "dt_signals_panel.E006"),
    ({"EXTRA_SIGNALS": GOOD_SIGNAL}, {}, "dt_signals_panel.E006"),
    ({"EXTRA_SIGNALS": [3]}, {}, "dt_signals_panel.E006"),
    ({"CALL_SITES": "no"}, {}, "dt_signals_panel.E007"),
    ({"CALL_SITES": 0}, {}, "dt_signals_panel.E007"),
    ({}, {"EXTRA_SIGNALS": [Signal()]}, "dt_signals_panel.W002"),
    ({}, {"EXTRA_SIGNALS": "tests.testapp.trust_views.odd_values"}, "dt_signals_panel.W002"),
    ({}, {"EXTRA_SIGNALS": ["tests.testapp.nowhere.signal"]}, "dt_signals_panel.W002"),
    ({}, {"HIDE_IN_STACKTRACES": "tests"}, "dt_signals_panel.W003"),
    ({}, {"HIDE_IN_STACKTRACES": [None]}, "dt_signals_panel.W003"),
    ({}, {"ENABLE_STACKTRACES": "no"}, "dt_signals_panel.W004"),
    ({}, {"ENABLE_STACKTRACES_LOCALS": "yes"}, "dt_signals_panel.W005"),
]
IDS = [f"{case[2]}-{i}" for i, case in enumerate(BAD)]
#: djdt's own SQL panel fails on a `None` in HIDE_IN_STACKTRACES, which is djdt's to judge; every other bad
#: value is tried with a real request.
REQUESTS = [(case, i) for case, i in zip(BAD, IDS, strict=True) if case[1].get("HIDE_IN_STACKTRACES") != [None]]


def test_valid_settings_pass_every_check():
    with override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": [GOOD_SIGNAL], "SENSITIVE_KEYS": "pin|ssn"}):
        assert check_settings() == []


@pytest.mark.parametrize(("ours", "djdt", "check_id"), BAD, ids=IDS)
def test_each_bad_setting_is_reported_by_its_own_check_without_raising(ours, djdt, check_id):
    with override_settings(DT_SIGNALS_PANEL=ours, DEBUG_TOOLBAR_CONFIG={**DJDT, **djdt}):
        messages = check_settings()
    assert [m.id for m in messages] == [check_id]
    (message,) = messages
    assert isinstance(message, Warning if check_id.startswith("dt_signals_panel.W") else Error)
    assert message.msg


def test_a_debug_toolbar_config_that_is_not_a_dict_is_reported():
    with override_settings(DEBUG_TOOLBAR_CONFIG=["HIDE_IN_STACKTRACES"]):
        assert [m.id for m in check_settings()] == ["dt_signals_panel.W001"]
        assert get_config().stacktraces is True


def test_a_module_that_fails_to_import_is_reported_not_raised():
    with override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": ["tests.testapp.broken_module.signal"]}):
        assert [m.id for m in check_settings()] == ["dt_signals_panel.E004"]


@pytest.mark.parametrize(("ours", "djdt", "check_id"), [case for case, _ in REQUESTS], ids=[i for _, i in REQUESTS])
def test_a_request_never_fails_because_of_a_bad_setting(client, ours, djdt, check_id):
    with override_settings(DT_SIGNALS_PANEL=ours, DEBUG_TOOLBAR_CONFIG={**DJDT, **djdt}):
        response = client.get("/create/")
        assert response.status_code == 200
        config = get_config()
    stats, content = open_panel(client, request_id_of(response))
    assert stats["summary"]["saves"] == 2
    assert "Ann Leckie" in content
    # Every bad value counts as absent: the default is in force.
    assert config.max_events == DEFAULTS["MAX_EVENTS"]
    assert isinstance(config.call_sites, bool)
    assert isinstance(config.stacktraces, bool)
    assert all(isinstance(path, str) for path in config.extra_signals)
    assert all(isinstance(module, str) and len(module) > 1 for module in config.hidden_modules)


def test_a_bad_value_falls_back_to_its_default_and_good_ones_are_kept():
    with override_settings(DT_SIGNALS_PANEL={"CALL_SITES": "no", "MAX_EVENTS": "5", "SHOWN_PER_SIGNAL": 7}):
        config = get_config()
    assert config.call_sites is True
    assert config.max_events == DEFAULTS["MAX_EVENTS"]
    assert config.shown_per_signal == 7
