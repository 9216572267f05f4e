"""The assertions of ``dt_signals_panel.testing``: each passes on good code and fails naming the line."""

from __future__ import annotations

import sys

import pytest
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save, pre_init
from django.dispatch import Signal
from django.test import RequestFactory, TestCase, override_settings

import dt_signals_panel
from dt_signals_panel.testing import (
    SignalAssertionsMixin,
    assert_no_credentials_in_clear,
    assert_no_redundant_saves,
    assert_signal_count,
    expect_no_credentials_in_clear,
    expect_no_redundant_saves,
    expect_signal_count,
)
from tests.testapp import finding_views
from tests.testapp.models import Author, Book, ProxyAuthor

pytestmark = pytest.mark.django_db


def next_line() -> str:
    """``test_testing.py:<line> in <function>`` of the line after the caller's."""
    frame = sys._getframe(1)
    return f"test_testing.py:{frame.f_lineno + 1} in {frame.f_code.co_name}"


def saved_twice() -> Author:
    author = Author.objects.create(name="Twice")
    author.name = "Twice again"
    author.save()
    return author


def test_assert_signal_count_passes_on_the_exact_count_overall_and_per_sender():
    with dt_signals_panel.capture() as recording:
        Book.objects.create(title="Dune", author=Author.objects.create(name="Herbert"))
    assert_signal_count(recording, "post_save", 2)
    assert_signal_count(recording, "post_save", 1, sender=Book)
    assert_signal_count(recording, post_save, 1, sender="testapp.Author")
    assert_signal_count(recording, "post_delete", 0)


def test_assert_signal_count_lists_each_send_with_the_line_that_sent_it():
    with dt_signals_panel.capture() as recording:
        first = next_line()
        author = Author.objects.create(name="Herbert")
        second = next_line()
        author.save()
    with pytest.raises(AssertionError) as failure:
        assert_signal_count(recording, "post_save", 1, sender=Author)
    message = str(failure.value)
    assert message.startswith("expected 1 post_save from testapp.Author, got 2\n")
    assert (
        f"#2 testapp.Author at tests/{first}: instance=testapp.Author #{author.pk} “Herbert”, created=True" in message
    )
    assert f"#4 testapp.Author at tests/{second}: " in message


def test_assert_signal_count_takes_a_signal_object_and_a_string_sender():
    with dt_signals_panel.capture() as recording:
        user_login_failed.send(sender="shop.login", credentials={"username": "ann"})
    assert_signal_count(recording, user_login_failed, 1, sender="shop.login")
    assert_signal_count(recording, user_login_failed, 0, sender="django.contrib.auth")


def test_init_signals_are_counted_per_model_and_the_message_gives_each_models_count():
    Author.objects.bulk_create([Author(name="a"), Author(name="b")])
    with dt_signals_panel.capture() as recording:
        list(Author.objects.all())
    assert_signal_count(recording, pre_init, 2, sender=Author)
    with pytest.raises(AssertionError, match=r"expected 1 post_init, got 2\n  testapp.Author: 2$"):
        assert_signal_count(recording, "post_init", 1)


@override_settings(DT_SIGNALS_PANEL={"MAX_EVENTS": 2})
def test_sends_past_max_events_are_counted_and_the_message_says_they_were_not_kept():
    with dt_signals_panel.capture() as recording:
        for name in "abc":
            Author.objects.create(name=name)
    assert_signal_count(recording, "post_save", 3)
    with pytest.raises(
        AssertionError, match=r"got 3\n  #2 testapp.Author at .*\n  … and 2 more not kept \(MAX_EVENTS\)$"
    ):
        assert_signal_count(recording, "post_save", 1)


def test_a_misspelt_signal_or_an_untracked_one_is_an_error_not_a_silent_zero():
    with dt_signals_panel.capture() as recording:
        pass
    with pytest.raises(ValueError, match=r"'postsave' is not a recorded signal; recorded: .*post_save"):
        assert_signal_count(recording, "postsave", 0)
    with pytest.raises(ValueError, match="EXTRA_SIGNALS"):
        assert_signal_count(recording, Signal(), 0)


def test_assert_no_redundant_saves_names_each_finding_and_the_lines_of_the_saves():
    with dt_signals_panel.capture() as recording:
        author = saved_twice()
    with pytest.raises(AssertionError) as failure:
        assert_no_redundant_saves(recording)
    message = str(failure.value)
    assert message.startswith("1 redundant save:\n")
    assert f"redundant save: testapp.Author #{author.pk} was saved 2 times" in message
    assert f"test_testing.py:{saved_twice.__code__.co_firstlineno + 1} in saved_twice" in message
    assert f"test_testing.py:{saved_twice.__code__.co_firstlineno + 3} in saved_twice" in message
    assert "known and wanted? allow=[('testapp.Author', 'saved_again')]" in message


def test_a_clean_recording_passes_every_assertion():
    with dt_signals_panel.capture() as recording:
        author = Author.objects.create(name="Once")
        author.name = "Renamed"
        author.save(update_fields=["name"])
        user_login_failed.send(sender="shop.login", credentials={"username": "ann", "password": "*" * 20})
    assert_no_redundant_saves(recording, allow=["testapp.Author"])
    assert_no_credentials_in_clear(recording)


@pytest.mark.parametrize(
    "allow",
    [
        ["testapp.Author"],
        [Author],
        [ProxyAuthor],  # a proxy names its concrete model's rows
        [("testapp.Author", "saved_again")],
        [(Author, "*")],
        [("*", "saved_again")],
        [lambda finding: finding["pk"] is not None],
    ],
)
def test_the_allowlist_covers_a_known_redundant_save(allow):
    with dt_signals_panel.capture() as recording:
        saved_twice()
    assert_no_redundant_saves(recording, allow=allow)


@pytest.mark.parametrize(
    "allow",
    [["testapp.Book"], [("testapp.Author", "nothing_changed")], [lambda finding: False]],
)
def test_the_allowlist_leaves_other_findings_failing(allow):
    with dt_signals_panel.capture() as recording:
        saved_twice()
    with pytest.raises(AssertionError, match="1 redundant save:"):
        assert_no_redundant_saves(recording, allow=allow)


def test_an_unknown_kind_in_the_allowlist_is_an_error_even_with_nothing_to_allow():
    with dt_signals_panel.capture() as recording:
        pass
    with pytest.raises(ValueError, match="unknown redundant save kind 'saved_twice'"):
        assert_no_redundant_saves(recording, allow=[("testapp.Author", "saved_twice")])
    with pytest.raises(ValueError, match="unknown redundant save kind"):
        expect_no_redundant_saves(allow=[(Author, "changed_nothing")])


def test_a_lone_allowlist_entry_is_one_entry():
    with dt_signals_panel.capture() as recording:
        saved_twice()
        user_login_failed.send(sender="shop.login", credentials={"pin": "1"})
    assert_no_redundant_saves(recording, allow="testapp.Author")
    assert_no_credentials_in_clear(recording, allow="pin")
    with pytest.raises(AssertionError):
        assert_no_credentials_in_clear(recording, allow="p")


def test_assert_no_credentials_in_clear_names_the_key_and_the_line_never_the_value():
    with dt_signals_panel.capture() as recording:
        sent = next_line()
        user_login_failed.send(sender="shop.login", credentials={"username": "ann", "pin": "8472-secret"})
    with pytest.raises(AssertionError) as failure:
        assert_no_credentials_in_clear(recording)
    message = str(failure.value)
    assert message.startswith("1 credential reached receivers in clear:\n")
    assert "credential 'pin' reached user_login_failed receivers in clear (sent by shop.login" in message
    assert f"sent at tests/{sent}" in message
    assert "8472-secret" not in message
    assert "8472-secret" not in recording.as_table()


@pytest.mark.parametrize(
    "allow", [["pin"], [("shop.login", "pin")], [("*", "pin")], [lambda finding: finding["key"] == "pin"]]
)
def test_the_credentials_allowlist_takes_a_key_a_sender_and_key_or_a_predicate(allow):
    with dt_signals_panel.capture() as recording:
        user_login_failed.send(sender="shop.login", credentials={"pin": "1"})
    assert_no_credentials_in_clear(recording, allow=allow)
    with pytest.raises(AssertionError):
        assert_no_credentials_in_clear(recording, allow=[("other.sender", "pin"), "otp"])


def test_the_context_managers_record_their_block_and_check_it_at_the_end():
    with expect_signal_count("post_save", 1, sender=Author) as recording:
        Author.objects.create(name="One")
    assert recording.closed
    assert_signal_count(recording, "pre_save", 1)
    with pytest.raises(AssertionError, match="expected 0 post_save, got 2"), expect_signal_count("post_save", 0):
        saved_twice()
    with pytest.raises(AssertionError, match="1 redundant save"), expect_no_redundant_saves():
        saved_twice()
    with expect_no_redundant_saves(allow=[Author]):
        saved_twice()
    with pytest.raises(AssertionError, match="'otp' reached"), expect_no_credentials_in_clear():
        user_login_failed.send(sender="shop.login", credentials={"otp": "1"})


def create_then_fail() -> None:
    Author.objects.create(name="One")
    raise KeyError("the test's own failure comes first")


def test_the_blocks_own_exception_goes_through_unchecked():
    with pytest.raises(KeyError), expect_signal_count("post_save", 5):
        create_then_fail()


@pytest.mark.django_db(transaction=True)
async def test_the_context_managers_work_with_async_with():
    async with expect_signal_count("post_save", 1) as recording:
        await Author.objects.acreate(name="Async")
    assert [e["signal"] for e in recording.events] == ["pre_save", "post_save"]
    with pytest.raises(AssertionError, match="expected 2 post_save, got 1"):
        async with expect_signal_count("post_save", 2):
            await Author.objects.acreate(name="Async")


def test_a_recording_has_the_same_findings_as_the_panel(visit):
    opened = visit("/findings/saved-twice/")
    Author.objects.all().delete()
    with dt_signals_panel.capture() as recording:
        finding_views.saved_twice(RequestFactory().get("/findings/saved-twice/"))
    ours = recording.stats()["findings"]

    def shape(found):
        return [(f["kind"], f["model"], [site[1:] for site in f["sites"]]) for f in found]

    assert shape(ours["redundant_saves"]) == shape(opened.stats["findings"]["redundant_saves"])
    assert ours["credentials_in_clear"] == opened.stats["findings"]["credentials_in_clear"] == []


class MixinTests(SignalAssertionsMixin, TestCase):
    """The mixin in a Django ``TestCase``, as a user writes it."""

    def test_assert_signal_count_passes_and_gives_the_recording(self):
        with self.assertSignalCount("post_save", 1, sender=Author) as recording:
            Author.objects.create(name="Mixin")
        assert recording.count("pre_save") == 1

    def test_each_assertion_fails_as_the_test_case_fails(self):
        with self.assertRaisesMessage(AssertionError, "expected 2 post_save, got 1"):  # noqa: SIM117
            with self.assertSignalCount(post_save, 2):
                Author.objects.create(name="Mixin")
        with self.assertRaisesMessage(AssertionError, "was saved 2 times"), self.assertNoRedundantSaves():
            saved_twice()
        with self.assertNoRedundantSaves(allow=[(Author, "saved_again")]):
            saved_twice()
        with self.assertRaisesMessage(AssertionError, "'pin' reached"), self.assertNoCredentialsInClear():
            user_login_failed.send(sender="shop.login", credentials={"pin": "1"})
        with self.assertNoCredentialsInClear(allow=["pin"]):
            user_login_failed.send(sender="shop.login", credentials={"pin": "1"})
