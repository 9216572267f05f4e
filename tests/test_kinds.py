"""The finding registry: a kind declared once in ``dt_signals_panel.kinds`` is listed, counted and
asserted on everywhere, with nothing else to edit; and a receiver that raised under ``send_robust`` is one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils.translation import ngettext_lazy

import dt_signals_panel
from dt_signals_panel import kinds
from dt_signals_panel.testing import assert_no_problems, expect_no_problems
from tests.conftest import Opened, open_panel, request_id_of
from tests.testapp import finding_views
from tests.testapp.models import Author

pytestmark = pytest.mark.django_db


def every_author_save(source: kinds.Source) -> list[dict[str, Any]]:
    """A throwaway rule: each save of an author is worth a word."""
    return [
        {
            "kind": "author_saved",
            "seqs": [event["seq"]],
            "model": event["sender"],
            "message": f"author saved: #{event['seq']} saved an author",
        }
        for event in source.events
        if event["signal"] == "post_save" and event["sender"] == "testapp.Author"
    ]


AUTHOR_SAVED = kinds.Kind(
    id="author_saved",
    family="authors_saved",
    severity="problem",
    words="author saved",
    label=ngettext_lazy("%(n)d author saved", "%(n)d authors saved", "n"),
    finder=every_author_save,
    allow=kinds.AllowShape(one="model", pair=("model", "kind")),
)


@pytest.fixture
def author_saved() -> Iterator[kinds.Kind]:
    with kinds.registered(AUTHOR_SAVED) as kind:
        yield kind


def test_a_kind_added_through_the_registry_alone_shows_in_the_panel_subtitle_table_and_assertions(
    visit: Callable[..., Opened], author_saved: kinds.Kind
) -> None:
    opened = visit("/create/")
    # The panel, rendered by the real toolbar from its store: a finding, and a tile with its count.
    _created, updated = opened.stats["findings"]["authors_saved"]
    assert opened.content.count('class="djdt-sig-finding djdt-sig-alert" data-kind="author_saved"') == 2
    assert f"author saved: #{updated['seqs'][0]} saved an author" in opened.content
    assert re.search(r'data-stat="authors_saved"[^>]*><strong>2</strong> authors saved</li>', opened.content)
    # The sidebar subtitle names it.
    assert "· 2 authors saved" in opened.response.content.decode()
    # The text table lists it with the other findings.
    with dt_signals_panel.capture() as recording:
        Author.objects.create(name="Ann")
    table = recording.as_table()
    assert "  ! author saved: #" in table
    # And a test that asks for no problem fails on it, unless allowed the way its AllowShape says.
    with pytest.raises(AssertionError, match=r"1 problem:\n  - author saved: #\d+ saved an author"):
        assert_no_problems(recording)
    assert_no_problems(recording, allow=[("testapp.Author", "author_saved")])
    assert_no_problems(recording, allow=[Author])


def test_a_kind_unregistered_is_gone_from_the_stats_and_ids_are_unique(author_saved: kinds.Kind) -> None:
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(AUTHOR_SAVED)
    kinds.unregister(AUTHOR_SAVED.id)
    kinds.register(AUTHOR_SAVED)  # the fixture unregisters it again
    with dt_signals_panel.capture() as recording:
        Author.objects.create(name="Ann")
    assert recording.stats()["summary"]["authors_saved"] == 1


def test_every_built_in_message_says_the_words_its_kind_declares(visit: Callable[..., Opened]) -> None:
    Author.objects.create(name="Steady")
    seen: set[str] = set()
    for url in ("/findings/saved-twice/", "/findings/unchanged/"):
        for items in visit(url).stats["findings"].values():
            for finding in items:
                kind = kinds.get(finding["kind"])
                assert kind is not None, finding
                assert kind.words in finding["message"]
                seen.add(kind.id)
    assert {"saved_again", "nothing_changed"} <= seen


# -- receiver errors --------------------------------------------------------------------------------------
@pytest.fixture
def robust_receivers() -> Iterator[None]:
    finding_views.order_placed.connect(finding_views.failing_receiver, weak=False)
    finding_views.order_placed.connect(finding_views.quick_receiver, weak=False)
    yield
    finding_views.order_placed.disconnect(finding_views.failing_receiver)
    finding_views.order_placed.disconnect(finding_views.quick_receiver)


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": ["tests.testapp.finding_views.order_placed"]})
def test_a_receiver_that_raised_under_send_robust_is_a_finding_with_a_tile_and_a_subtitle(
    client: Client, robust_receivers: None
) -> None:
    response = client.get("/findings/robust/")
    assert b"<p>2</p>" in response.content  # the view still got both results
    assert "· 1 receiver error" in response.content.decode()
    stats, content = open_panel(client, request_id_of(response))
    (found,) = stats["findings"]["receiver_errors"]
    assert found["receiver"] == "tests.testapp.finding_views.failing_receiver"
    assert found["error"] == "RuntimeError: receiver broke"
    assert found["signal"] == "order_placed"
    assert found["sender"] == "testapp.Book"
    assert found["site"][2] == "robust_send"
    assert found["message"].startswith(
        "receiver error: tests.testapp.finding_views.failing_receiver raised RuntimeError: receiver broke on "
        "order_placed from testapp.Book"
    )
    assert 'data-kind="receiver_error"' in content
    assert re.search(r'data-stat="receiver_errors" class="djdt-sig-alert"><strong>1</strong> receiver error', content)


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": ["tests.testapp.finding_views.order_placed"]})
def test_a_test_fails_on_a_swallowed_receiver_error_unless_it_allows_that_receiver(robust_receivers: None) -> None:
    with (
        pytest.raises(AssertionError, match=r"receiver error: tests\.testapp\.finding_views\.failing_receiver"),
        expect_no_problems(),
    ):
        finding_views.order_placed.send_robust(sender=Author, order_id=1)
    with expect_no_problems(allow="tests.testapp.finding_views.failing_receiver"):
        finding_views.order_placed.send_robust(sender=Author, order_id=1)
    with expect_no_problems(allow=[("order_placed", finding_views.failing_receiver)]):
        finding_views.order_placed.send_robust(sender=Author, order_id=1)
