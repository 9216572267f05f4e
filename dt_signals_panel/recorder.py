"""Record signal sends into the capture of the request that made them.

We observe by replacing ``send``, ``send_robust``, ``asend`` and ``asend_robust`` on each tracked ``Signal``
instance, never by connecting a receiver: a connected receiver makes Django skip fast deletes and the m2m
fast-add path, so the application would run different SQL with the panel on, and it could not see sends
that reach no receiver. The wrappers exist only while a capture is open anywhere in the process; a send made
outside every capture costs one ``ContextVar`` read.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

from django.db.models import Model
from django.dispatch import Signal

from dt_signals_panel import events, snapshots
from dt_signals_panel.conf import Config, get_config
from dt_signals_panel.signals import INIT_SIGNALS, tracked_signals

#: The open captures of the current context, innermost last. ``()`` when nothing records; also set to ``()``
#: while we label an instance, so whatever our own ``str()`` call sends is not recorded.
_open: ContextVar[tuple[Recording, ...]] = ContextVar("dt_signals_panel_open", default=())
#: The events whose receivers are running (one per open capture), so a nested send knows its parent in each.
_parent: ContextVar[tuple[tuple[Recording, int], ...]] = ContextVar("dt_signals_panel_parent", default=())

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


class Recording:
    """What one capture saw. Events are JSON-ready dicts built at send time; nothing here holds a model
    instance, request or user once the send returns."""

    def __init__(self, config: Config, signals: dict[Signal, str]) -> None:
        self.config = config
        self.signals = signals
        self.started = time.perf_counter()
        self.events: list[dict[str, Any]] = []
        self.dropped = 0
        self.closed = False
        self.duration_ms: float | None = None
        # (signal name, sender label) -> exact count of every send, kept or not, inits excluded.
        self._counts: dict[tuple[str, str], int] = {}
        # signal name -> events kept for it (the first SHOWN_PER_SIGNAL of them are detailed).
        self._kept: dict[str, int] = {}
        # sender -> itertools.count per init signal: next() is atomic, so threads of one request never lose a
        # count, and the send wrappers reach the dict of their own signal with one attribute read.
        self._pre_inits: dict[Any, Iterator[int]] = {}
        self._post_inits: dict[Any, Iterator[int]] = {}
        self._init_examples: dict[tuple[str, Any], dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        # One full stack per operation: the pre_ and post_ send of one save come from the same user frame.
        self._last_frame: Any = None
        self._last_lasti = -1
        self._last_stack_id = 0
        # module name -> hidden from call sites: a handful of modules, asked about on every send.
        self._hidden_modules: dict[str, bool] = {}
        self.stacks: list[list[list[Any]]] = []
        self._final_inits: list[dict[str, Any]] | None = None

    # -- read API -------------------------------------------------------------------------------------
    def count(self, signal: str, sender: Any = None) -> int:
        """Exact number of sends of ``signal`` (its name, e.g. ``"post_save"``), from ``sender`` if given
        (a model class, or its label such as ``"auth.User"``, or the string sender itself)."""
        wanted = None if sender is None else events.sender_label(sender)
        if signal in INIT_SIGNALS:
            return sum(row[signal] for row in self.inits if wanted is None or row["sender"] == wanted)
        total: int = sum(
            n for (name, label), n in self._counts.items() if name == signal and (wanted is None or label == wanted)
        )
        return total

    @property
    def total(self) -> int:
        return sum(self._counts.values()) + sum(int(r["pre_init"]) + int(r["post_init"]) for r in self.inits)

    @property
    def inits(self) -> list[dict[str, Any]]:
        """``pre_init``/``post_init`` counts per model, aggregated because a queryset sends two per row."""
        if self._final_inits is not None:
            return self._final_inits
        return self._summarise_inits(dict(self._pre_inits), dict(self._post_inits))

    def _summarise_inits(self, pre: dict[Any, Iterator[int]], post: dict[Any, Iterator[int]]) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        counters = [(("pre_init", sender), c) for sender, c in pre.items()]
        counters += [(("post_init", sender), c) for sender, c in post.items()]
        for (name, sender), counter in counters:
            label = events.sender_label(sender)
            if events.is_toolbar_label(label):
                continue
            # Reading an itertools.count consumes one value; read from a copy so the live one stays exact.
            value = int(repr(counter)[6:-1])
            row = rows.setdefault(label, {"sender": label, "pre_init": 0, "post_init": 0, "example": None})
            row[name] += value
            example = self._init_examples.get((name, sender))
            if example and (row["example"] is None or name == "pre_init"):
                row["example"] = example
        return sorted(rows.values(), key=lambda r: (-(r["pre_init"] + r["post_init"]), r["sender"]))

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def stats(self) -> dict[str, Any]:
        """What the panel would show for this recording: groups, summary and findings, built by the panel's
        own ``findings.build_stats``, so a test and the toolbar always agree."""
        from dt_signals_panel.findings import build_stats  # findings imports this module

        return build_stats(self)

    def as_table(self) -> str:
        """The recording as a plain-text table grouped like the panel, for a failing test's output."""
        from dt_signals_panel.text import format_recording

        return format_recording(self)

    # -- recording ------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._last_frame = None
        self.duration_ms = (time.perf_counter() - self.started) * 1000
        self._final_inits = self._summarise_inits(self._pre_inits, self._post_inits)
        # A thread that inherited our context keeps counting into dicts nobody reads.
        self._pre_inits, self._post_inits = {}, {}

    def _init_counter(self, name: str, sender: Any, named: dict[str, Any]) -> Iterator[int]:
        """The counter of the first ``name`` send from ``sender``; its example is taken here, once."""
        counters = self._pre_inits if name == "pre_init" else self._post_inits
        with self._lock:
            counter = counters.get(sender)
            if counter is None:
                self._init_examples[(name, sender)] = events.init_example(name, named, self.config)
                counter = counters[sender] = itertools.count(0)
        return counter

    def _begin(self, name: str, sender: Any, named: dict[str, Any], mode: str) -> dict[str, Any] | None:
        """Count the send and, below the cap, build its event. Runs before dispatch, so nested sends made by
        receivers land after their parent."""
        label = events.sender_label(sender)
        if events.is_toolbar_label(label):
            return None
        key = (name, label)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if len(self.events) >= self.config.max_events:
                self.dropped += 1
                return None
            kept = self._kept.get(name, 0)
            self._kept[name] = kept + 1
        # Only the first events of each signal are shown row by row; the others are summed up by call site,
        # so they skip what only a shown row needs: str(instance), the other arguments' text, a stack.
        detailed = kept < self.config.shown_per_signal
        if detailed:
            token = _open.set(())
            try:
                event = events.build(name, label, named, self.config)
            finally:
                _open.reset(token)
        else:
            event = events.build_light(name, label, named, self.config)
        event["seq"] = next(self._seq)
        event["t"] = round((time.perf_counter() - self.started) * 1000, 3)
        event["parent"] = next((seq for recording, seq in _parent.get() if recording is self), None)
        if mode != "send":
            event["mode"] = mode
        if self.config.call_sites:
            self._locate(event, detailed)
        with self._lock:
            self.events.append(event)
        return event

    def _locate(self, event: dict[str, Any], with_stack: bool) -> None:
        hidden = self.config.hidden_modules
        known = self._hidden_modules
        sending: FrameType | None = sys._getframe(3)
        frame = sending
        user_frame = None
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            is_hidden = known.get(module)
            if is_hidden is None:
                is_hidden = known[module] = module.startswith(hidden) and _is_module_or_child(module, hidden)
            if not is_hidden:
                user_frame = frame
                break
            frame = frame.f_back
        if user_frame is None:
            return
        code = user_frame.f_code
        event["site"] = [code.co_filename, user_frame.f_lineno, code.co_name]
        if not (with_stack and self.config.stacktraces):
            return
        # The same frame at the same instruction is the same operation (the pre_ and post_ send of one save,
        # every row of one cascade): one stack serves them all. Holding the frame keeps its identity unique.
        if user_frame is not self._last_frame or user_frame.f_lasti != self._last_lasti:
            self.stacks.append(events.stack_of(sending, self.config.stack_hidden))
            self._last_frame, self._last_lasti = user_frame, user_frame.f_lasti
            self._last_stack_id = len(self.stacks) - 1
        event["stack"] = self._last_stack_id

    def _finish(
        self,
        event: dict[str, Any] | None,
        started: float,
        result: Any,
        error: BaseException | None,
        timings: list[Any] | None,
    ) -> None:
        if event is None:
            return
        event["ms"] = round((time.perf_counter() - started) * 1000, 3)
        if error is not None:
            event["error"] = events.describe_exception(error)
        # Receivers that ran, even when one raised: the ones before it and the one that raised have timings.
        ran = result if isinstance(result, list) else [(receiver, None) for receiver, _ in timings or ()]
        event["receivers"] = events.describe_receivers(ran, timings or [])


def _is_module_or_child(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# -- the wrappers ---------------------------------------------------------------------------------------
def _make_init_wrapper(name: str, original: Callable[..., Any], signal: Signal) -> Callable[..., Any]:
    # The hot path: Django sends pre_init and post_init for every row loaded, so these wrappers do the least
    # that keeps every feature: count (one dict read and a C-level next()), and hand the row's values from
    # pre_init to post_init by reference, so a later save can tell what it changed without a copy per row.
    open_get = _open.get
    pending = _init_values
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
                    snapshots.remember_values(named.get("instance"), values)
                else:
                    snapshots.remember_loaded(named.get("instance"))
            if django_send and not signal.receivers:
                return []
            return original(sender, **named)

    return send


def _begin_all(
    recordings: tuple[Recording, ...], name: str, sender: Any, named: dict[str, Any], mode: str
) -> tuple[list[tuple[Recording, dict[str, Any] | None]], list[Any] | None, list[Token[Any]]]:
    begun = [(r, r._begin(name, sender, named, mode)) for r in recordings if not r.closed]
    if name == "post_save" and isinstance(named.get("instance"), Model):
        snapshots.remember_saved(named["instance"], named.get("update_fields"))
    parents = tuple((r, e["seq"]) for r, e in begun if e is not None)
    if not parents:
        return begun, None, []
    timings: list[Any] = []
    return begun, timings, [_parent.set(parents), _pending.set(timings)]


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
        recordings = _open.get()
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
        recordings = _open.get()
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


def _install(signals: dict[Signal, str]) -> None:
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


def _uninstall(signals: dict[Signal, str]) -> None:
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


class capture:
    """Record every send of the tracked signals made in this context, in sync or async code.

    Captures nest: a send is recorded by every capture open around it. Threads started inside do not
    inherit the capture (a new thread starts with an empty context), so their sends are not recorded.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or get_config()
        self.recording = Recording(self.config, tracked_signals(self.config))
        self._token: Token[tuple[Recording, ...]] | None = None

    def __enter__(self) -> Recording:
        _install(self.recording.signals)
        self._token = _open.set((*_open.get(), self.recording))
        self.recording.started = time.perf_counter()
        return self.recording

    def __exit__(self, *exc_info: object) -> None:
        self.recording.close()
        if self._token is not None:
            try:
                _open.reset(self._token)
            except ValueError:
                # Closed from another context than it was opened in: drop just this capture from here.
                _open.set(tuple(r for r in _open.get() if r is not self.recording))
            self._token = None
        _uninstall(self.recording.signals)

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)
