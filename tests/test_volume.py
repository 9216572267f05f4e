"""A request that sends thousands of signals stays readable and light: exact counts, a few rows per signal,
the rest summed up by call site, one line per kind of redundant save, each stack rendered once."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.testapp.models import Author

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_authors_saved_in_one_loop(visit):
    Author.objects.bulk_create([Author(name=f"A{i}") for i in range(10)])
    with override_settings(DT_SIGNALS_PANEL={"SHOWN_PER_SIGNAL": 3}):
        return visit("/findings/every-author/")


def test_alike_sends_of_one_loop_are_one_group_line_with_exact_counts_and_the_listed_rows_under_it(
    ten_authors_saved_in_one_loop,
):
    opened = ten_authors_saved_in_one_loop
    group = opened.group("pre_save")
    assert group["count"] == 10
    assert group["kept"] == 10
    assert len(group["events"]) == 3
    (alike,) = group["similar"]
    assert alike["sender"] == "testapp.Author"
    assert alike["count"] == 10
    assert alike["rows"] == 10
    assert alike["site"][2] == "save_every_author"
    assert alike["shape"] == {"raw": False, "using": "default", "update_fields": None}
    assert alike["seqs"] == [e["seq"] for e in group["events"]]
    assert opened.stats["summary"]["shown"] == 6
    # One folded line per group, saying what it sums; the listed rows sit under it.
    assert opened.content.count('class="djdt-sig-group-line') == 2
    assert opened.content.count('<tbody class="djdt-sig-bundle djdt-sig-folded">') == 2
    assert "10 sends in 1 groups of alike sends" not in opened.content
    assert "3 of 10 listed row by row, under their groups" in opened.content
    assert ">10\N{MULTIPLICATION SIGN}</button>" in opened.content


def test_alike_redundant_saves_are_one_finding_that_says_how_many_rows(ten_authors_saved_in_one_loop):
    opened = ten_authors_saved_in_one_loop
    (found,) = opened.stats["findings"]["redundant_saves"]
    assert found["kind"] == "nothing_changed"
    assert found["rows"] == 10
    assert len(found["pks"]) == 10
    assert "10 testapp.Author rows were saved but no field changed" in found["message"]
    assert opened.stats["summary"]["redundant_saves"] == 1


def test_a_stack_shared_by_many_rows_is_rendered_once_and_the_other_rows_link_to_it(ten_authors_saved_in_one_loop):
    opened = ten_authors_saved_in_one_loop
    assert len(opened.stats["stacks"]) == 1
    assert opened.content.count('class="djdt-stack"') == 1
    first = opened.events("pre_save")[0]["seq"]
    assert f'href="#sigMain_{first}"' in opened.content


def test_rows_not_shown_still_count_in_the_summary_and_nav_subtitle(ten_authors_saved_in_one_loop):
    opened = ten_authors_saved_in_one_loop
    assert opened.stats["summary"]["saves"] == 10
    assert "10 saves" in opened.response.content.decode()
