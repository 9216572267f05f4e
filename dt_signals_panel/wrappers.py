"""The send wrappers, and putting them on and taking them off the tracked signals.

We observe by replacing ``send``, ``send_robust``, ``asend`` and ``asend_robust`` on each tracked ``Signal``
instance, never by connecting a receiver: a connected receiver makes Django skip fast deletes and the m2m
fast-add path, so the application would run different SQL with the panel on, and it could not see sends
that reach no receiver. The wrappers exist only while a capture is open anywhere in the process (a count per
signal, under a lock); a send made outside every capture costs one ``ContextVar`` read.

Other tools patch the same methods (``mock.patch.object(post_save, "send")``, pytest-mock's ``mocker.spy``,
``mock.patch.object(Signal, "send")``), starting and stopping in any order relative to our captures. Three
rules keep us out of their way:

- What a wrapper of ours passes a send on to is looked up when the send is made: what was on the instance
  when we came (another tool's wrapper), else the class's method as it is *now*, so a class-level patch
  made after us is called, and one undone after us is not.
- Each (signal, method) has one *live* wrapper of ours at most, and only the live one records: a wrapper of
  ours that another tool kept (a spy wraps ours; stopping it puts ours back) is a plain pass-through, so a
  send is never recorded twice. Put back on top while a capture is open, it becomes the live one; put back
  after the last capture closed, it takes itself off at its next call, and the next capture replaces it
  rather than wrapping it.
- A wrapper is never stacked on one of ours: installing over a wrapper of ours left on the instance takes
  what that one found instead.

Receivers are called by the wrappers themselves when the signal's method is Django's own and every receiver
is synchronous (the common case, and the one that recurses: a ``post_save`` receiver that saves a row): the
loop is Django's, so one frame of ours replaces Django's frame instead of adding one per send and one per
receiver, and receivers are timed without being replaced by anything. Everything else (async receivers,
``asend``, a patched or overridden method) goes through the method itself, with receivers timed through
``_live_receivers`` by stand-ins that answer every attribute question with the receiver's own answer.
Either way each receiver call also has a ``queries.Frame`` current while it runs, which counts the SQL it
runs (``queries.py``); ``pre_init``/``post_init`` receivers are neither timed nor counted.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from time import perf_counter
from types import FrameType
from typing import Any, Protocol

from django.db.models import Model
from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

from dt_signals_panel import events, queries, row_state
from dt_signals_panel.shapes import Event
from dt_signals_panel.signals import INIT_SIGNALS


class Sink(Protocol):
    """What a send wrapper asks of an open capture (``recorder.Recording``): its per-send API. Declared here,
    so that the wrappers stand below the recorder and never import it."""

    closed: bool
    rows: row_state.Rows
    #: sender -> its counter, for each init signal: the hot path is one attribute read and one dict get.
    pre_init_counters: dict[Any, Iterator[int]]
    post_init_counters: dict[Any, Iterator[int]]
    #: model -> what notes the row an instance is built from, given pre_init's ``args`` (distinct rows).
    distinct_rows: dict[Any, Callable[[Any], None] | None]

    def init_counter(self, name: str, sender: Any, named: dict[str, Any]) -> Iterator[int]: ...

    def begin(self, name: str, sender: Any, named: dict[str, Any], mode: str, sending: FrameType) -> Event | None: ...

    def finish(
        self, event: Event, started: float, result: Any, error: BaseException | None, timings: list[Any]
    ) -> None: ...


#: The open captures of the current context, innermost last. ``()`` when nothing records.
open_recordings: ContextVar[tuple[Sink, ...]] = ContextVar("dt_signals_panel_open", default=())
queries.bind(open_recordings.get)
#: The events whose receivers are running (one per open capture), so a nested send knows its parent in each.
parent_events: ContextVar[tuple[tuple[Sink, int], ...]] = ContextVar("dt_signals_panel_parent", default=())

#: Set by a send wrapper just before it hands a send to the signal's own method: (the signal, where its
#: receivers record their times). Taken and cleared by that signal's ``_live_receivers`` wrapper, so sends
#: made by those receivers, or by another tool's wrapper on another signal, never see it.
_pending: ContextVar[tuple[Signal, list[Any]] | None] = ContextVar("dt_signals_panel_pending", default=None)

_METHODS = ("send", "send_robust", "asend", "asend_robust")
#: Django's own methods, as Django defines them: a wrapper runs the dispatch loop itself only in front of these.
_DJANGO: dict[str, Any] = {m: Signal.__dict__[m] for m in (*_METHODS, "_live_receivers")}
#: The positional values the current thread's last ``pre_init`` carried, for the ``post_init`` that follows.
_init_values = threading.local()
_install_lock = threading.Lock()
_ABSENT: Any = object()


class _Layer:
    """One wrapper of ours on one method of one signal: what it found there, and whether it records."""

    __slots__ = ("beneath", "live", "method", "signal", "wrapper")

    def __init__(self, signal: Signal, method: str, beneath: Any) -> None:
        self.signal = signal
        self.method = method
        #: The instance attribute we replaced (another tool's wrapper), or ``_ABSENT``: then a call that
        #: passes us by goes to the class's method, looked up at call time.
        self.beneath = beneath
        #: The one wrapper of this (signal, method) that records; ``False`` once it is stale.
        self.live = True
        self.wrapper: Callable[..., Any] = _ABSENT


class _Entry:
    """A tracked signal while captures use it: how many, and the live layer of each method."""

    __slots__ = ("count", "layers", "name")

    def __init__(self, name: str, layers: dict[str, _Layer]) -> None:
        self.name = name
        self.count = 1
        self.layers = layers


#: signal -> its entry, while at least one open capture tracks it.
_installed: dict[Signal, _Entry] = {}
#: id(wrapper) -> layer, for every wrapper of ours that may still sit on a signal or inside another tool's
#: wrapper. The layer holds its wrapper, so an id here is never reused while it is here.
_ours: dict[int, _Layer] = {}


def _layer_of(value: Any) -> _Layer | None:
    layer = _ours.get(id(value))
    return layer if layer is not None and layer.wrapper is value else None


def _from_class(signal: Signal, method: str) -> Any:
    """``signal.<method>`` as it would be with nothing on the instance: the class's attribute now, bound
    the way attribute lookup binds it (a ``MagicMock`` put on the class is not bound, a function is)."""
    cls = type(signal)
    for klass in cls.__mro__:
        raw = klass.__dict__.get(method, _ABSENT)
        if raw is not _ABSENT:
            getter = getattr(type(raw), "__get__", None)
            return raw if getter is None else getter(raw, signal, cls)
    raise AttributeError(f"{cls.__name__!r} object has no attribute {method!r}")


def _below(layer: _Layer) -> Any:
    """What a call passing this layer by reaches."""
    beneath = layer.beneath
    return _from_class(layer.signal, layer.method) if beneath is _ABSENT else beneath


def _restore(signal: Signal, method: str, beneath: Any) -> None:
    if beneath is _ABSENT:
        signal.__dict__.pop(method, None)
    else:
        setattr(signal, method, beneath)


def _make_live(entry: _Entry, layer: _Layer) -> None:
    current = entry.layers.get(layer.method)
    if current is not None and current is not layer:
        current.live = False
    entry.layers[layer.method] = layer
    layer.live = True


def _stale_called(layer: _Layer, recording: bool) -> bool:
    """A stale wrapper of ours was called: whether it records this send.

    Below another tool's wrapper it is a pass-through (the live wrapper, if any, is above that tool's). On
    top of the signal, someone put it back there: over the live wrapper while a capture is open (it becomes
    the live one), or after the last capture closed (it takes itself off)."""
    signal, method, wrapper = layer.signal, layer.method, layer.wrapper
    if signal.__dict__.get(method) is not wrapper:
        return False
    with _install_lock:
        if signal.__dict__.get(method) is not wrapper:
            return False
        entry = _installed.get(signal)
        if entry is None:
            _restore(signal, method, layer.beneath)
            _ours.pop(id(wrapper), None)
            return False
        _make_live(entry, layer)
        return recording


def _sender_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The sender and the other arguments of ``send(sender, **named)`` however it was called; ``_ABSENT``
    when the call does not bind (Django raises its own ``TypeError``, and we record nothing)."""
    if not args:
        if "sender" not in kwargs:
            return _ABSENT, kwargs
        named = kwargs.copy()
        return named.pop("sender"), named
    if len(args) == 1 and "sender" not in kwargs:
        return args[0], kwargs
    return _ABSENT, kwargs


def _make_init_wrapper(name: str, layer: _Layer) -> Callable[..., Any]:
    # The hot path: Django sends pre_init and post_init for every row loaded, so these wrappers do the least
    # that keeps every feature: count (one dict read and a C-level next()), and hand the row's values from
    # pre_init to post_init by reference, so a later save can tell what it changed without a copy per row.
    # Arguments go on exactly as they came (a spy asserting ``called_with(sender=...)`` sees no difference).
    open_get = open_recordings.get
    pending = _init_values
    signal, method = layer.signal, layer.method
    django_method = _DJANGO[method]
    on_class = layer.beneath is _ABSENT  # nothing was on the instance: the class's method, looked up per call
    cls = type(signal)
    remember_values = row_state.remember_values

    if name == "pre_init":

        def send(*args: Any, **named: Any) -> Any:
            recordings = open_get()
            if (layer.live or _stale_called(layer, bool(recordings))) and recordings:
                sender = named["sender"] if "sender" in named and not args else _sender_of(args, named)[0]
                if sender is not _ABSENT:
                    for recording in recordings:
                        counter = recording.pre_init_counters.get(sender)
                        if counter is None:
                            counter = recording.init_counter(name, sender, named)
                        next(counter)
                        if (seen := recording.distinct_rows.get(sender)) is not None:  # distinct rows, by pk
                            seen(named.get("args"))
                    pending.values = None if named.get("kwargs") else named.get("args")
            if on_class and getattr(cls, method) is django_method:
                # Django's send returns [] at once when the signal has no receiver at all; calling it just
                # to learn that would double the cost of a send that nobody listens to.
                if not signal.receivers:
                    return []
                return django_method(signal, *args, **named)
            return _below(layer)(*args, **named)

    else:

        def send(*args: Any, **named: Any) -> Any:
            recordings = open_get()
            if (layer.live or _stale_called(layer, bool(recordings))) and recordings:
                sender = named["sender"] if "sender" in named and not args else _sender_of(args, named)[0]
                if sender is not _ABSENT:
                    for recording in recordings:
                        counter = recording.post_init_counters.get(sender)
                        if counter is None:
                            counter = recording.init_counter(name, sender, named)
                        next(counter)
                    values, pending.values = getattr(pending, "values", None), None
                    if type(values) is tuple:
                        remember_values(recordings, named.get("instance"), values)
            if on_class and getattr(cls, method) is django_method:
                if not signal.receivers:
                    return []
                return django_method(signal, *args, **named)
            return _below(layer)(*args, **named)

    return send


def _begin_all(
    recordings: tuple[Sink, ...], name: str, sender: Any, named: dict[str, Any], mode: str, sending: FrameType
) -> tuple[list[tuple[Sink, Event | None]], Token[Any] | None]:
    """Begin the send's event in every open capture; the token of ``parent_events`` when one was kept."""
    begun = [(r, r.begin(name, sender, named, mode, sending)) for r in recordings if not r.closed]
    # type(), not isinstance(): a lazy object's __class__ would evaluate it.
    if name in _ROW_SIGNALS and issubclass(type(named.get("instance")), Model):
        _note_rows(begun, name, named)
    if len(begun) == 1:  # one capture open: the common case, without a generator
        recording, event = begun[0]
        return begun, None if event is None else parent_events.set(((recording, event["seq"]),))
    parents = tuple((r, e["seq"]) for r, e in begun if e is not None)
    return begun, parent_events.set(parents) if parents else None


_ROW_SIGNALS = frozenset({"pre_save", "post_save", "post_delete"})


def _note_rows(begun: list[tuple[Sink, Event | None]], name: str, named: dict[str, Any]) -> None:
    """Row state: what a save changes (on its event, per recording), and what the database holds after it."""
    instance, using = named["instance"], named.get("using")
    if name == "pre_save":
        update_fields = named.get("update_fields")
        for recording, event in begun:
            if event is not None:
                events.note_changes(event, instance, update_fields, recording.rows, using)
        return
    live = (begun[0][0],) if len(begun) == 1 else tuple(recording for recording, _ in begun)
    if name == "post_save":
        row_state.remember_saved(live, instance, named.get("update_fields"), using)
    else:
        row_state.note_deleted(live, instance, using)


def _finish_all(
    begun: list[tuple[Sink, Event | None]],
    timings: list[Any],
    started: float,
    result: Any,
    error: BaseException | None,
) -> None:
    for recording, event in begun:
        if event is not None:
            recording.finish(event, started, result, error, timings)


class _Timed:
    """Stands in for a receiver while the signal's own method calls it, to time it. It has no name, module
    or qualname of its own: every attribute it lacks is the receiver's, or missing as the receiver's is, so
    Django logs a failure under ``send_robust`` (``receiver.__qualname__``) exactly as without the panel."""

    __slots__ = ("_receiver", "_timings")

    def __init__(self, receiver: Callable[..., Any], timings: list[Any]) -> None:
        self._receiver = receiver
        self._timings = timings

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        frame, token = queries.enter()
        started = perf_counter()
        try:
            return self._receiver(*args, **kwargs)
        finally:
            self._timings.append((self._receiver, perf_counter() - started, frame))
            queries.leave(token)

    def __getattr__(self, attribute: str) -> Any:
        if attribute in _Timed.__slots__:  # not set yet (a copy being made): never ask the receiver
            raise AttributeError(attribute)
        return getattr(self._receiver, attribute)


class _ATimed(_Timed):
    """An async receiver's stand-in: timed, and its queries counted without moving anything to another thread.
    Its frame is current while it runs (a ``ContextVar``, which asgiref copies into the thread each of its
    ``sync_to_async`` calls runs in), so a query it runs in a thread whose connections carry the observer is
    counted for it, and never for an enclosing receiver. That thread is observed by code that runs there anyway
    (``queries.py``); the receiver's call is awaited exactly as without the panel. When its thread was not
    observed all along (``queries.covered()``), its row says "not measured" (``None`` in place of its frame)."""

    __slots__ = ()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        frame = queries.Frame()
        token = queries.current.set(frame)
        since = queries.stamp()
        started = perf_counter()
        try:
            return await self._receiver(*args, **kwargs)
        finally:
            elapsed = perf_counter() - started
            self._timings.append((self._receiver, elapsed, frame if queries.covered(since) else None))
            queries.current.reset(token)


def _stand_in(item: Any) -> bool:
    # type(), not isinstance(): item[0] may be the application's receiver, whose __class__ is its own business.
    return type(item) is tuple and len(item) == 2 and type(item[0]) in (_Timed, _ATimed)


def _real_receivers(result: Any) -> Any:
    """The signal's result with each stand-in replaced by its receiver (the same list when there is none)."""
    if not isinstance(result, list) or not any(_stand_in(item) for item in result):
        return result
    return [(item[0]._receiver, item[1]) if _stand_in(item) else item for item in result]


def _make_live_receivers_wrapper(layer: _Layer) -> Callable[..., Any]:
    # Only for a send handed to the signal's own method (see the module docstring): Django asks
    # _live_receivers for the receivers right before calling them, so stand-ins handed back here time each
    # call without re-implementing that dispatch.
    signal = layer.signal
    django_method = _DJANGO["_live_receivers"]
    on_class = layer.beneath is _ABSENT

    def _live_receivers(*args: Any, **kwargs: Any) -> Any:
        if on_class and type(signal)._live_receivers is django_method:
            found = django_method(signal, *args, **kwargs)
        else:
            found = _below(layer)(*args, **kwargs)
        pending = _pending.get()
        if pending is None or pending[0] is not signal:
            return found
        _pending.set(None)
        timings = pending[1]
        sync_receivers, async_receivers = found
        return [_Timed(r, timings) for r in sync_receivers], [_ATimed(r, timings) for r in async_receivers]

    return _live_receivers


def _handed_on(layer: _Layer, args: tuple[Any, ...], kwargs: dict[str, Any], timings: list[Any]) -> Any:
    """Call what is below us, its receivers timed by ``_live_receivers`` stand-ins. Async receivers among them
    run under ``async_to_sync`` and their ``sync_to_async`` calls come back to this thread, so its connections
    are watched meanwhile (``queries.watch()``)."""
    token = _pending.set((layer.signal, timings))
    queries.watch()
    try:
        return _real_receivers(_below(layer)(*args, **kwargs))
    finally:
        queries.unwatch()
        _pending.reset(token)


def _make_sync_wrapper(name: str, layer: _Layer, mode: str) -> Callable[..., Any]:
    open_get = open_recordings.get
    signal, method = layer.signal, layer.method
    django_method = _DJANGO[method]
    on_class = layer.beneath is _ABSENT
    robust = method == "send_robust"

    def send(*args: Any, **kwargs: Any) -> Any:
        recordings = open_get()
        if (layer.live or _stale_called(layer, bool(recordings))) and recordings:
            sender, named = _sender_of(args, kwargs)
            begun, token = (
                ([], None) if sender is _ABSENT else _begin_all(recordings, name, sender, named, mode, sys._getframe(1))
            )
            if token is not None:  # else nothing kept (past MAX_EVENTS, the toolbar's own rows): nothing to time
                timings: list[Any] = []
                started = perf_counter()
                try:
                    if not on_class or getattr(type(signal), method) is not django_method:
                        result = _handed_on(layer, args, kwargs, timings)
                    elif not signal.receivers or signal.sender_receivers_cache.get(sender) is NO_RECEIVERS:
                        result = []
                    else:
                        sync_receivers, async_receivers = signal._live_receivers(sender)
                        if async_receivers:
                            result = _handed_on(layer, args, kwargs, timings)
                        else:
                            # Django's own loop (send's and send_robust's, the same from Django 5.2 to 6.1), run
                            # here so that no frame of ours sits between a receiver and the send that called it.
                            result = []
                            for receiver in sync_receivers:
                                frame, frame_token = queries.enter()
                                called = perf_counter()
                                try:
                                    response = receiver(signal=signal, sender=sender, **named)
                                except Exception as err:
                                    if not robust:
                                        raise
                                    response = err
                                    signal._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                                finally:
                                    timings.append((receiver, perf_counter() - called, frame))
                                    queries.leave(frame_token)
                                result.append((receiver, response))
                except BaseException as error:
                    _finish_all(begun, timings, started, None, error)
                    raise
                finally:
                    parent_events.reset(token)
                _finish_all(begun, timings, started, result, None)
                return result
        if on_class and getattr(type(signal), method) is django_method:
            return django_method(signal, *args, **kwargs)
        return _below(layer)(*args, **kwargs)

    return send


def _make_async_wrapper(name: str, layer: _Layer, mode: str) -> Callable[..., Any]:
    open_get = open_recordings.get
    signal = layer.signal

    async def asend(*args: Any, **kwargs: Any) -> Any:
        recordings = open_get()
        if (layer.live or _stale_called(layer, bool(recordings))) and recordings:
            sender, named = _sender_of(args, kwargs)
            begun, token = (
                ([], None) if sender is _ABSENT else _begin_all(recordings, name, sender, named, mode, sys._getframe(1))
            )
            if token is not None:
                timings: list[Any] = []
                pending = _pending.set((signal, timings))
                started = perf_counter()
                try:
                    result = _real_receivers(await _below(layer)(*args, **kwargs))
                except BaseException as error:
                    _finish_all(begun, timings, started, None, error)
                    raise
                finally:
                    _pending.reset(pending)
                    parent_events.reset(token)
                _finish_all(begun, timings, started, result, None)
                return result
        return await _below(layer)(*args, **kwargs)

    return asend


def _methods_for(name: str) -> tuple[str, ...]:
    # Receivers of pre_init/post_init are not timed: that would cost a stand-in per row loaded.
    return _METHODS if name in INIT_SIGNALS else (*_METHODS, "_live_receivers")


def _wrapper_for(name: str, layer: _Layer) -> Callable[..., Any]:
    method = layer.method
    if method == "_live_receivers":
        return _make_live_receivers_wrapper(layer)
    if method.startswith("a"):
        return _make_async_wrapper(name, layer, method)
    if name in INIT_SIGNALS:
        return _make_init_wrapper(name, layer)
    return _make_sync_wrapper(name, layer, method)


def _put_on(signal: Signal, name: str, method: str) -> _Layer:
    """A new live layer on top of the signal's method; a wrapper of ours found there is replaced, not wrapped."""
    found = signal.__dict__.get(method, _ABSENT)
    stale = _layer_of(found)
    while stale is not None:
        stale.live = False
        _ours.pop(id(found), None)
        found = stale.beneath
        stale = _layer_of(found)
    layer = _Layer(signal, method, found)
    layer.wrapper = _wrapper_for(name, layer)
    _ours[id(layer.wrapper)] = layer
    setattr(signal, method, layer.wrapper)
    return layer


def _check(entry: _Entry, signal: Signal) -> None:
    """Another capture opens on a signal already in use: if another tool took our wrapper off meanwhile
    (``mock``'s stop deletes what it set, ours inside), put one back; if it put a stale one of ours back on
    top, that one is live again."""
    for method, layer in entry.layers.items():
        top = signal.__dict__.get(method, _ABSENT)
        if top is _ABSENT:
            layer.live = False
            _ours.pop(id(layer.wrapper), None)
            entry.layers[method] = _put_on(signal, entry.name, method)
            continue
        ours = _layer_of(top)
        if ours is not None:
            _make_live(entry, ours)


def install(signals: dict[Signal, str]) -> None:
    with _install_lock:
        for signal, name in signals.items():
            entry = _installed.get(signal)
            if entry is not None:
                entry.count += 1
                _check(entry, signal)
                continue
            _installed[signal] = _Entry(name, {method: _put_on(signal, name, method) for method in _methods_for(name)})


def uninstall(signals: dict[Signal, str]) -> None:
    with _install_lock:
        # The values of a pre_init whose post_init never came (its __init__ raised) die with the capture.
        _init_values.values = None
        for signal in signals:
            entry = _installed.get(signal)
            if entry is None:
                continue
            entry.count -= 1
            if entry.count > 0:
                continue
            del _installed[signal]
            for method, layer in entry.layers.items():
                layer.live = False
                top = signal.__dict__.get(method, _ABSENT)
                ours = _layer_of(top)
                if ours is None:
                    # Another tool's wrapper is on top, ours inside it: unwrapping would drop theirs. Ours stays
                    # there stale, a pass-through, until that tool puts it back (then it takes itself off).
                    continue
                ours.live = False
                _restore(signal, method, ours.beneath)
                _ours.pop(id(top), None)


def is_installed(signal: Signal) -> bool:
    return signal in _installed
