"""The ``signal_capture`` fixture, active in this very run through the ``pytest11`` entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import dt_signals_panel.pytest_plugin
from dt_signals_panel.signals import BUILTIN
from dt_signals_panel.testing import assert_no_redundant_saves, assert_signal_count
from dt_signals_panel.wrappers import is_installed
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return Author.objects.create(name="Set up by a fixture")


def test_the_plugin_is_registered_through_the_entry_point(pytestconfig):
    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "dt_signals_panel"]
    assert entry.value == "dt_signals_panel.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("dt_signals_panel") is dt_signals_panel.pytest_plugin


def test_importing_the_plugin_imports_nothing_from_django():
    # pytest imports entry-point plugins before pytest-django has configured settings.
    code = (
        "import sys, dt_signals_panel.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_signal_capture_records_the_test_body_and_not_the_set_up_of_fixtures(author, signal_capture):
    assert signal_capture.events == []
    Book.objects.create(title="The Body", author=author)
    assert not signal_capture.closed
    assert all(is_installed(signal) for signal in BUILTIN.values())
    assert_signal_count(signal_capture, "post_save", 1, sender=Book)
    assert_signal_count(signal_capture, "post_save", 0, sender=Author)
    assert_no_redundant_saves(signal_capture)


def test_signal_capture_gives_the_panels_findings(signal_capture):
    author = Author.objects.create(name="Twice")
    author.save()
    found, unchanged = signal_capture.stats()["findings"]["redundant_saves"]
    assert (found["kind"], unchanged["kind"]) == ("saved_again", "nothing_changed")
    assert [site[2] for site in found["sites"]] == [
        "test_signal_capture_gives_the_panels_findings",
        "test_signal_capture_gives_the_panels_findings",
    ]


@pytest.mark.django_db(transaction=True)
async def test_signal_capture_records_an_async_test_body(signal_capture):
    await Author.objects.acreate(name="Async")
    assert_signal_count(signal_capture, "post_save", 1, sender=Author)


def test_no_signal_is_wrapped_in_a_test_without_the_fixture():
    assert not any(is_installed(signal) for signal in BUILTIN.values())
