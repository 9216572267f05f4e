"""The send wrappers, and putting them on and taking them off the tracked signals.

We observe by replacing ``send``, ``send_robust``, ``asend`` and ``asend_robust`` on each tracked ``Signal``
instance, never by connecting a receiver: a connected receiver makes Django skip fast deletes and the m2m
fast-add path, so the application would run different SQL with the panel on, and it could not see sends
that reach no receiver. The wrappers exist only while a capture is open anywhere in the process (a count per
signal, under a lock); a send made outside every capture costs one ``ContextVar`` read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.dispatch import Signal

from dt_signals_panel import events, snapshots
from dt_signals_panel.signals import INIT_SIGNALS

if TYPE_CHECKING:
    from dt_signals_panel.recorder import Recording

#: The open captures of the current context, innermost last. ``()`` when nothing records; also set to ``()``
#: while we label an instance, so whatever our own ``str()`` call sends is not recorded.
open_recordings: ContextVar[tuple[Recording, ...]] = ContextVar("dt_signals_panel_open", default=())
#: The events whose receivers are running (one per open capture), so a nested send knows its parent in each.
parent_events: ContextVar[tuple[tuple[Recording, int], ...]] = ContextVar("dt_signals_panel_parent", default=())

#: Set by a send wrapper just before Django's dispatch, taken (and cleared) by the ``_live_receivers`` wrapper:
#: where the receivers of the event being sent record their time. Cleared at once, so sends made by those
#: receivers never see it.
_pending: ContextVar[list[Any] | None] = ContextVar("dt_signals_panel_pending", default=None)

_METHODS = ("send", "send_robust", "asend", "asend_robust")
#: The positional values the current thread's last ``pre_init`` carried, for the ``post_init`` that follows.
_init_values = threading.local()
_install_lock = threading.Lock()
#: signal -> [number of captures using it, {method: the instance attribute we replaced, or _ABSENT}]
_installed: dict[Signal, list[Any]] = {}
_ABSENT = object()


def _make_init_wrapper(name: str, original: Callable[..., Any], signal: Signal) -> Callable[..., Any]:
    # The hot path: Django sends pre_init and post_init for every row loaded, so these wrappers do the least
    # that keeps every feature: count (one dict read and a C-level next()), and hand the row's values from
    # pre_init to post_init by reference, so a later save can tell what it changed without a copy per row.
    open_get = open_recordings.get
    pending = _init_values
    remember_values = snapshots.remember_values
    # Django's send returns [] at once when the signal has no receiver at all; calling it just to learn that
    # would double the cost of a send that nobody listens to. Only for Django's own send on this signal.
    django_send = getattr(original, "__func__", None) is Signal.send and getattr(original, "__self__", None) is signal

    if name == "pre_init":

        def send(sender: Any, **named: Any) -> Any:
            recordings = open_get()
            if recordings:
                for recording in recordings:
                    counter = recording._pre_inits.get(sender)
                    if counter is None:
                        counter = recording._init_counter(name, sender, named)
                    next(counter)
                pending.values = None if named.get("kwargs") else named.get("args")
            if django_send and not signal.receivers:
                return []
            return original(sender, **named)

    else:

        def send(sender: Any, **named: Any) -> Any:
            recordings = open_get()
            if recordings:
                for recording in recordings:
                    counter = recording._post_inits.get(sender)
                    if counter is None:
                        counter = recording._init_counter(name, sender, named)
                    next(counter)
                values, pending.values = getattr(pending, "values", None), None
                if type(values) is tuple:
                    remember_values(recordings, named.get("instance"), values)
            if django_send and not signal.receivers:
                return []
            return original(sender, **named)

    return send


def _begin_all(
    recordings: tuple[Recording, ...], name: str, sender: Any, named: dict[str, Any], mode: str
) -> tuple[list[tuple[Recording, dict[str, Any] | None]], list[Any] | None, list[Token[Any]]]:
    begun = [(r, r._begin(name, sender, named, mode)) for r in recordings if not r.closed]
    # type(), not isinstance(): a lazy object's __class__ would evaluate it.
    if name in _ROW_SIGNALS and issubclass(type(named.get("instance")), Model):
        _note_rows(begun, name, named)
    parents = tuple((r, e["seq"]) for r, e in begun if e is not None)
    if not parents:
        return begun, None, []
    timings: list[Any] = []
    return begun, timings, [parent_events.set(parents), _pending.set(timings)]


_ROW_SIGNALS = frozenset({"pre_save", "post_save", "post_delete"})


def _note_rows(begun: list[tuple[Recording, dict[str, Any] | None]], name: str, named: dict[str, Any]) -> None:
    """Row state: what a save changes (on its event, per recording), and what the database holds after it."""
    instance, using = named["instance"], named.get("using")
    if name == "pre_save":
        for recording, event in begun:
            if event is not None:
                events._note_changes(event, instance, named.get("update_fields"), recording.rows, using)
        return
    live = tuple(recording for recording, _ in begun)
    if name == "post_save":
        snapshots.remember_saved(live, instance, named.get("update_fields"), using)
    else:
        snapshots.note_deleted(live, instance, using)


def _finish_all(
    begun: list[tuple[Recording, dict[str, Any] | None]],
    timings: list[Any] | None,
    started: float,
    result: Any,
    error: BaseException | None,
) -> Any:
    """Record the outcome; give back Django's result with our timing shims replaced by the receivers."""
    if timings and isinstance(result, list):
        result = [(getattr(receiver, "_dt_original", receiver), response) for receiver, response in result]
    for recording, event in begun:
        recording._finish(event, started, result, error, timings)
    return result


def _reset(tokens: list[Token[Any]]) -> None:
    for token in reversed(tokens):
        token.var.reset(token)


def _disguise(shim: Callable[..., Any], receiver: Callable[..., Any]) -> Callable[..., Any]:
    """Make the shim answer to the receiver's names: send_robust logs ``receiver.__qualname__``."""
    shim._dt_original = receiver  # type: ignore[attr-defined]
    for attribute in ("__module__", "__name__", "__qualname__"):
        value = getattr(receiver, attribute, None)
        if isinstance(value, str):
            setattr(shim, attribute, value)
    return shim


def _timed(receiver: Callable[..., Any], timings: list[Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return receiver(*args, **kwargs)
        finally:
            timings.append((receiver, time.perf_counter() - started))

    return _disguise(timed, receiver)


def _atimed(receiver: Callable[..., Any], timings: list[Any]) -> Callable[..., Any]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await receiver(*args, **kwargs)
        finally:
            timings.append((receiver, time.perf_counter() - started))

    return _disguise(timed, receiver)


def _make_live_receivers_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    # Django asks _live_receivers for the receivers right before calling them; handing back shims that
    # time each call is the one way to time receivers without re-implementing dispatch.
    def _live_receivers(sender: Any) -> Any:
        found = original(sender)
        timings = _pending.get()
        if timings is None:
            return found
        _pending.set(None)
        sync_receivers, async_receivers = found
        return [_timed(r, timings) for r in sync_receivers], [_atimed(r, timings) for r in async_receivers]

    return _live_receivers


def _make_sync_wrapper(name: str, original: Callable[..., Any], mode: str) -> Callable[..., Any]:
    def send(sender: Any, **named: Any) -> Any:
        recordings = open_recordings.get()
        if not recordings:
            return original(sender, **named)
        begun, timings, tokens = _begin_all(recordings, name, sender, named, mode)
        started = time.perf_counter()
        try:
            result = original(sender, **named)
        except BaseException as error:
            _finish_all(begun, timings, started, None, error)
            raise
        finally:
            _reset(tokens)
        return _finish_all(begun, timings, started, result, None)

    return send


def _make_async_wrapper(name: str, original: Callable[..., Any], mode: str) -> Callable[..., Any]:
    async def asend(sender: Any, **named: Any) -> Any:
        recordings = open_recordings.get()
        if not recordings:
            return await original(sender, **named)
        begun, timings, tokens = _begin_all(recordings, name, sender, named, mode)
        started = time.perf_counter()
        try:
            result = await original(sender, **named)
        except BaseException as error:
            _finish_all(begun, timings, started, None, error)
            raise
        finally:
            _reset(tokens)
        return _finish_all(begun, timings, started, result, None)

    return asend


def _methods_for(name: str) -> tuple[str, ...]:
    # Receivers of pre_init/post_init are not timed: that would cost a shim per row loaded.
    return _METHODS if name in INIT_SIGNALS else (*_METHODS, "_live_receivers")


def _wrapper_for(name: str, method: str, original: Callable[..., Any], signal: Signal) -> Callable[..., Any]:
    if method == "_live_receivers":
        return _make_live_receivers_wrapper(original)
    if name in INIT_SIGNALS:
        if method.startswith("a"):
            return _make_async_wrapper(name, original, method)
        return _make_init_wrapper(name, original, signal)
    if method.startswith("a"):
        return _make_async_wrapper(name, original, method)
    return _make_sync_wrapper(name, original, method)


def install(signals: dict[Signal, str]) -> None:
    with _install_lock:
        for signal, name in signals.items():
            entry = _installed.get(signal)
            if entry is not None:
                entry[0] += 1
                continue
            saved: dict[str, Any] = {}
            wrappers: dict[str, Any] = {}
            for method in _methods_for(name):
                # Whatever is there now, Django's bound method or another tool's wrapper, is what we call.
                saved[method] = signal.__dict__.get(method, _ABSENT)
                wrappers[method] = _wrapper_for(name, method, getattr(signal, method), signal)
                setattr(signal, method, wrappers[method])
            _installed[signal] = [1, saved, wrappers]


def uninstall(signals: dict[Signal, str]) -> None:
    with _install_lock:
        for signal in signals:
            entry = _installed.get(signal)
            if entry is None:
                continue
            entry[0] -= 1
            if entry[0] > 0:
                continue
            del _installed[signal]
            _, saved, wrappers = entry
            for method in wrappers:
                if signal.__dict__.get(method) is not wrappers[method]:
                    # Someone wrapped on top of us; taking ours out would drop theirs. Ours stays, inert.
                    continue
                if saved[method] is _ABSENT:
                    delattr(signal, method)
                else:
                    setattr(signal, method, saved[method])


def is_installed(signal: Signal) -> bool:
    return signal in _installed
