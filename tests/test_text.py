"""``Recording.as_table()``: the panel's grouping as plain text, for a failing test's output."""

from __future__ import annotations

import os
import sys

import pytest
from django.contrib.auth.signals import user_login_failed

import dt_signals_panel
from dt_signals_panel.formatting import site_text
from dt_signals_panel.testing import format_recording
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db


def test_the_table_groups_sends_by_signal_in_the_panels_order_with_call_sites():
    with dt_signals_panel.capture() as recording:
        line = sys._getframe().f_lineno + 1
        author = Author.objects.create(name="Ann")
        Book.objects.create(title="Ancillary", author=author)
        list(Book.objects.all())
        author.delete()
    table = recording.as_table()
    assert table == format_recording(recording)
    lines = table.splitlines()
    assert lines[0] == "16 signals: 2 saves, 2 deletes, 4 rows loaded"
    headings = [line for line in lines if line and not line.startswith(" ")][1:]
    assert headings == [
        "pre_save (2)",
        "post_save (2)",
        "pre_delete (2)",
        "post_delete (2)",
        "pre_init / post_init",
    ]
    assert "  #  sender          arguments" in table
    first_save = next(row for row in lines if row.startswith("  2  testapp.Author"))
    assert "instance=testapp.Author #" in first_save
    assert "created=True" in first_save
    here = f"tests/test_text.py:{line} in test_the_table_groups_sends_by_signal_in_the_panels_order_with_call_sites"
    assert first_save.endswith(here)
    assert table.endswith("  testapp.Book    3         3\n  testapp.Author  1         1")


def test_the_table_starts_with_the_findings():
    with dt_signals_panel.capture() as recording:
        author = Author.objects.create(name="Ann")
        author.save()
    lines = recording.as_table().splitlines()
    assert lines[2] == "Findings"
    assert lines[3].startswith(f"  ! redundant save: testapp.Author #{author.pk} was saved 2 times in this request (")
    assert lines[3].endswith(" in test_the_table_starts_with_the_findings)")
    assert "(tests/test_text.py:" in lines[3]


def test_credentials_show_their_status_and_never_a_sensitive_value():
    with dt_signals_panel.capture() as recording:
        user_login_failed.send(sender="shop.login", credentials={"username": "ann", "pin": "5521"})
    table = recording.as_table()
    assert "credentials={username: ann (not_sensitive), pin: •••••••• (sensitive_in_clear)}" in table
    assert "5521" not in table
    assert "  ! credential 'pin' reached user_login_failed receivers in clear" in table


def test_an_empty_recording_is_one_line():
    with dt_signals_panel.capture() as recording:
        pass
    assert recording.as_table() == "0 signals: 0 saves, 0 deletes, 0 rows loaded"


def test_call_sites_are_relative_under_the_working_directory_and_absolute_elsewhere():
    inside = os.path.join(os.getcwd(), "shop", "services.py")
    assert site_text([inside, 12, "rename"]) == os.path.join("shop", "services.py") + ":12 in rename"
    assert site_text(["/elsewhere/x.py", 3, "f"]) == "/elsewhere/x.py:3 in f"
    assert site_text(None) == ""
