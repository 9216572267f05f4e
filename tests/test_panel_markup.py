"""The panel's HTML carries what panel.js and panel.css need, and nothing a strict CSP would refuse.

The browser tests (tests/browser, ``make test-browser``) check what a person sees; these check the markup
without a browser, so ``make test`` catches a template change that would break the page.
"""

from __future__ import annotations

import re

import html5lib
import pytest

from dt_signals_panel.presentation import LONG_VALUE, argument

pytestmark = pytest.mark.django_db(databases=["default", "other"])


def test_panel_html_is_valid_and_has_no_inline_script_or_style(visit):
    opened = visit("/create/")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parseFragment(opened.content)
    assert "<script" not in opened.content
    assert not re.search(r"\sstyle=", opened.content)
    assert not re.search(r"\son[a-z]+=", opened.content)


def test_filters_offer_each_signal_and_each_model_sent(visit):
    opened = visit("/create/")
    signal_select = re.search(r'data-sig-filter="signal">(.*?)</select>', opened.content, re.S)
    model_select = re.search(r'data-sig-filter="sender">(.*?)</select>', opened.content, re.S)
    assert signal_select
    assert model_select
    assert re.findall(r'<option value="([^"]*)"', signal_select.group(1)) == ["", "init", "pre_save", "post_save"]
    assert re.findall(r'<option value="([^"]*)"', model_select.group(1)) == ["", "testapp.Author"]
    # Hidden until panel.js shows them: without the script they would do nothing.
    assert '<div class="djdt-sig-controls" role="search" hidden>' in opened.content


def test_every_section_folds_from_a_button_in_its_heading(visit):
    opened = visit("/create/")
    sections = opened.content.count('<section class="djdt-sig-section')
    folds = opened.content.count('<button type="button" class="djdt-sig-fold" aria-expanded="true">')
    # pre_init / post_init, pre_save, post_save, in order sent (no receiver ran: no receivers table)
    assert sections == folds == 4


def test_a_long_value_folds_to_one_line_with_the_whole_value_in_the_page():
    name, text, long = argument("instance", "x" * (LONG_VALUE + 1))
    assert (name, long) == ("instance", True)
    assert text == "x" * (LONG_VALUE + 1)
    assert argument("using", "default")[2] is False


def test_no_controls_when_nothing_was_sent(visit):
    opened = visit("/")
    assert "djdt-sig-controls" not in opened.content
    assert "No auth or model signal was sent during this request." in opened.content


def test_an_empty_page_has_no_zero_tiles_and_counts_read_in_the_singular_or_plural(visit):
    assert "djdt-sig-summary" not in visit("/").content
    opened = visit("/create/")
    assert re.search(r'data-stat="rows_loaded"><strong>1</strong> instance initialised</li>', opened.content)
    assert re.search(r'data-stat="signals"><strong>6</strong> signals</li>', opened.content)
    assert re.search(r'data-stat="deletes"><strong>0</strong> deletes</li>', opened.content)


def test_each_signal_has_the_columns_its_arguments_call_for_and_one_line_per_send(visit):
    opened = visit("/create/")
    heads = re.findall(
        r'<table class="djdt-sig-table djdt-sig-events" data-signal="(\w+)">\s*<thead><tr>(.*?)</tr>',
        opened.content,
        re.S,
    )
    columns = {signal: re.findall(r"<th[^>]*>(.*?)</th>", head) for signal, head in heads}
    assert columns["post_save"] == [
        "#",
        "Sender",
        "instance",
        "created",
        "using",
        "More",
        "Receivers",
        "Dispatch (ms)",
        "Sent from",
    ]
    assert columns["pre_save"] == [
        "#",
        "Sender",
        "instance",
        "using",
        "More",
        "Receivers",
        "Dispatch (ms)",
        "Sent from",
    ]
    # raw=False and update_fields=None say nothing: they are not on the line, only in the full list.
    first = opened.content.split('id="sigMain_', 2)[1].split("</tr>", 1)[0]
    assert "raw=" not in first.split("<details", 1)[0]
    assert "update_fields=[name]" in opened.content  # the second save's, where it says something


def test_the_first_pre_init_names_the_fields_its_values_were_for(visit):
    from tests.testapp.models import Author

    Author.objects.bulk_create([Author(name="Ann"), Author(name="Bo")])
    opened = visit("/load/")
    assert re.search(r"\d+ values?: id, name", opened.content)
    assert "positional value" not in opened.content
