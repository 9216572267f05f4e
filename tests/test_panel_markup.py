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
