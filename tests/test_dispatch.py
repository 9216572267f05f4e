"""How the panel's send wrappers sit on Django's signals: what they keep alive, how they share a signal with
other tools that patch it, how they call receivers and how deep a chain of sends can go. Each test runs the
same code with the panel off and recording, and compares."""

from __future__ import annotations

import functools
import sys
import weakref
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.db.models.signals import post_save, pre_init
from django.dispatch import Signal

from dt_signals_panel import capture, wrappers
from dt_signals_panel.signals import BUILTIN
from tests.testapp.models import Author, Bare

pytestmark = pytest.mark.django_db

BOTH = (False, True)


def panel(recording: bool) -> AbstractContextManager[Any]:
    return capture() if recording else nullcontext()


def leftovers() -> list[str]:
    """Anything of ours still on a tracked signal."""
    names = (*wrappers._METHODS, "_live_receivers")
    return [f"{name}.{m}" for name, signal in BUILTIN.items() for m in names if m in signal.__dict__]


# -- frames and values kept alive after the send -------------------------------------------------------------
def write_then_save(path: Any) -> None:
    handle = open(path, "w")  # noqa: SIM115 - left for CPython to close when this frame goes away
    handle.write("written")
    Author.objects.create(name="writer")


def test_a_file_left_for_cpython_to_close_is_flushed_when_the_function_returns(tmp_path):
    for recording in BOTH:
        path = tmp_path / f"recording-{recording}.txt"
        with panel(recording):
            write_then_save(path)
            assert path.read_text() == "written", f"recording={recording}"


ping = Signal()


class Listener:
    def __init__(self, heard: list[str]) -> None:
        self.heard = heard

    def hear(self, sender: Any, **kwargs: Any) -> None:
        self.heard.append(sender)


def listen_then_save(heard: list[str]) -> None:
    listener = Listener(heard)
    ping.connect(listener.hear)  # weakly: the listener lives as long as this frame
    ping.send(sender="while listening")
    Author.objects.create(name="listener")


def test_a_weakly_connected_receiver_dies_with_the_function_that_held_it():
    for recording in BOTH:
        heard: list[str] = []
        with panel(recording):
            listen_then_save(heard)
            ping.send(sender="after it returned")
        assert heard == ["while listening"], f"recording={recording}"


class Held:
    pass


def test_the_values_of_a_constructor_that_raised_are_not_kept_once_the_capture_ends():
    # Django sends pre_init before it checks the number of positional values; the post_init that would
    # have consumed what the panel keeps for it never comes.
    for recording in BOTH:
        held = Held()
        alive = weakref.ref(held)
        with panel(recording), pytest.raises(IndexError):
            Author(1, "name", held)  # type: ignore[call-arg]
        del held
        assert alive() is None, f"recording={recording}"


# -- other tools that patch the same signals ----------------------------------------------------------------
#: Every order in which one capture (C opens, c closes) and one patch (P starts, p stops) can interleave.
ORDERS = ["CcPp", "CPcp", "CPpc", "PCcp", "PCpc", "PpCc"]


def spy_on(kind: str, signal: Signal) -> Any:
    """What pytest-mock's ``mocker.spy`` does, on the instance or on the class, with plain unittest.mock."""
    if kind == "instance":
        return mock.patch.object(signal, "send", wraps=signal.send)
    return mock.patch.object(Signal, "send", autospec=True, side_effect=Signal.send)


def spied(spy: Any, kind: str, signal: Signal) -> int:
    if kind == "instance":
        return int(spy.call_count)
    return sum(1 for call in spy.call_args_list if call.args and call.args[0] is signal)


@pytest.mark.parametrize("name", ["post_save", "pre_init"])
@pytest.mark.parametrize("kind", ["instance", "class"])
@pytest.mark.parametrize("order", ORDERS)
def test_a_spy_and_a_capture_in_any_order_record_each_send_once_and_the_spy_sees_every_send(order, kind, name):
    signal = BUILTIN[name]
    cap = capture()
    patcher: Any = None
    spy: Any = None
    recording: Any = None
    capturing = patching = False
    try:
        for step in order:
            if step == "C":
                recording = cap.__enter__()
            elif step == "c":
                cap.__exit__(None, None, None)
            elif step == "P":
                patcher = spy_on(kind, signal)  # wraps whatever is on the signal now, as mocker.spy does
                spy = patcher.start()
            else:
                patcher.stop()
            capturing = capturing if step in "Pp" else step == "C"
            patching = patching if step in "Cc" else step == "P"
            recorded_before = recording.count(name, Author) if capturing else 0
            spied_before = spied(spy, kind, signal) if patching else 0
            Author.objects.create(name=f"{order}:{step}")
            recorded = recording.count(name, Author) - recorded_before if capturing else 0
            if patching:
                assert spied(spy, kind, signal) - spied_before == 1, f"after {step}: the spy missed the send"
            # mock's stop deletes the attribute it set, and with it the wrapper of ours that a capture opened
            # after the patch put over it: that capture records the signal no more (README, Guarantees).
            taken_off = kind == "instance" and order == "PCpc" and step == "p"
            assert recorded == (1 if capturing and not taken_off else 0), f"after {step}"
    finally:
        if patching:
            patcher.stop()
        if capturing:
            cap.__exit__(None, None, None)
    Author.objects.create(name="after both")  # a wrapper of ours that the spy put back takes itself off
    assert leftovers() == []
    assert not wrappers._installed
    with capture() as later:
        Author.objects.create(name="later")
    assert later.count(name, Author) == 1
    assert leftovers() == []


def test_a_spy_started_inside_a_capture_and_stopped_after_it_leaves_later_captures_recording_once():
    # The report: pytest-mock's spy in a test that also uses the signal_capture fixture.
    with capture():
        spy = mock.patch.object(post_save, "send", wraps=post_save.send)
        spy.start()
    spy.stop()
    for _ in range(3):
        with capture() as recording:
            Author.objects.create(name="once")
        assert recording.count("post_save") == 1
    assert leftovers() == []


def test_nested_captures_after_a_spy_outlived_others_record_each_send_once_in_each():
    with capture(), capture():
        spy = mock.patch.object(post_save, "send", wraps=post_save.send)
        spy.start()
    spy.stop()
    with capture() as outer:
        with capture() as inner:
            Author.objects.create(name="nested")
        with mock.patch.object(post_save, "send", wraps=post_save.send) as again:
            Author.objects.create(name="spied, nested")
    assert (outer.count("post_save"), inner.count("post_save"), again.call_count) == (2, 1, 1)
    assert leftovers() == []


def test_a_capture_opened_after_a_patch_took_the_panel_s_wrapper_away_puts_it_back():
    patcher = mock.patch.object(post_save, "send", wraps=post_save.send)
    patcher.start()
    with capture() as outer:
        patcher.stop()  # deletes the attribute it set, the panel's wrapper (over the patch) with it
        Author.objects.create(name="not recorded")
        with capture() as inner:
            Author.objects.create(name="recorded again")
    assert (outer.count("post_save"), inner.count("post_save")) == (1, 1)
    assert leftovers() == []


def test_a_patch_below_the_panel_is_called_with_the_arguments_the_sender_gave():
    seen = []
    for recording in BOTH:
        with mock.patch.object(post_save, "send", wraps=post_save.send) as spy, panel(recording):
            Author.objects.create(name="spied")
        (call,) = spy.call_args_list
        seen.append((call.args, sorted(call.kwargs), call.kwargs["sender"]))
    assert seen[0] == seen[1] == ((), ["created", "instance", "raw", "sender", "update_fields", "using"], Author)


@pytest.mark.parametrize("where", ["instance", "class"])
def test_a_replacement_started_inside_a_capture_is_what_the_send_calls(where):
    results = []
    for recording in BOTH:
        with panel(recording):
            target = post_save if where == "instance" else Signal
            with mock.patch.object(target, "send", return_value=["replaced"]) as replaced:
                returned = post_save.send(sender=Author, instance=None)
        results.append((returned, replaced.call_args))
    expected: Any = (["replaced"], mock.call(sender=Author, instance=None))
    assert results[0] == results[1] == expected
    assert leftovers() == []


def test_a_class_level_spy_sees_the_init_sends_of_a_capture():
    results = []
    for recording in BOTH:
        with panel(recording), mock.patch.object(Signal, "send", autospec=True, side_effect=Signal.send) as spy:
            Author(name="counted")
        results.append([call.args[0] for call in spy.call_args_list])
    assert results[0] == results[1] == [pre_init, BUILTIN["post_init"]]


# -- receivers are called as Django calls them --------------------------------------------------------------
class Refuser:
    """A receiver without ``__qualname__`` (an instance with ``__call__``)."""

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        raise ValueError("refused")


def refuse(sender: Any, **kwargs: Any) -> None:
    raise ValueError("refused")


def robust_outcome(send: Any) -> Any:
    try:
        result = send()
    except Exception as error:
        return type(error), str(error)
    return [response for _, response in result]


SAVE_ARGUMENTS = {"created": True, "update_fields": None, "raw": False, "using": "default"}


@pytest.mark.parametrize("receiver", [Refuser(), functools.partial(refuse)], ids=["callable-instance", "partial"])
def test_send_robust_fails_as_django_does_when_a_raising_receiver_has_no_qualname(receiver):
    post_save.connect(receiver, sender=Bare, weak=False)
    try:
        outcomes = []
        for recording in BOTH:
            with panel(recording):
                outcomes.append(
                    robust_outcome(lambda: post_save.send_robust(sender=Bare, instance=Bare(), **SAVE_ARGUMENTS))
                )
    finally:
        post_save.disconnect(receiver, sender=Bare)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is AttributeError


@pytest.mark.parametrize("receiver", [Refuser(), functools.partial(refuse)], ids=["callable-instance", "partial"])
async def test_asend_robust_fails_as_django_does_when_a_raising_receiver_has_no_qualname(receiver):
    post_save.connect(receiver, sender=Bare, weak=False)
    try:
        outcomes = []
        for recording in BOTH:
            with panel(recording):
                try:
                    result = await post_save.asend_robust(sender=Bare, instance=Bare(), **SAVE_ARGUMENTS)
                    outcomes.append([response for _, response in result])
                except Exception as error:
                    outcomes.append((type(error), str(error)))  # type: ignore[arg-type]
    finally:
        post_save.disconnect(receiver, sender=Bare)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is AttributeError


# -- recursion depth ----------------------------------------------------------------------------------------
def chain_depth() -> int:
    """How many rows a post_save receiver that saves the next row reaches before Python's recursion limit."""
    reached = 0

    def save_the_next(sender: Any, instance: Author, **kwargs: Any) -> None:
        nonlocal reached
        reached += 1
        Author(name=f"row {reached}").save()

    post_save.connect(save_the_next, sender=Author, weak=False)
    try:
        with pytest.raises(RecursionError), transaction.atomic():
            Author(name="row 0").save()
    finally:
        post_save.disconnect(save_the_next, sender=Author)
    return reached


def test_a_chain_of_saving_receivers_goes_as_deep_with_the_panel_recording():
    assert sys.getrecursionlimit() == 1000, "measured at Python's default limit"
    plain = chain_depth()
    with capture() as recording:
        recorded = chain_depth()
    assert recording.count("post_save") > 100
    # README, Guarantees: 237 levels either way here (Python 3.11, Django 5.2), 158 with the panel before.
    assert recorded >= 0.9 * plain, (plain, recorded)
