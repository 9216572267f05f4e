"""The SQL each receiver runs, observed through Django's public database instrumentation.

While a receiver runs, the thread it runs in has one observer of ours on each database connection object
that thread already made (``connections.all(initialized_only=True)``), in the list of wrappers that
Django's public ``execute_wrapper()`` keeps, put on and taken off as that context manager does (without
making one per receiver call): no connection object is made and no connection opened that the application would not
make. A connection object first made inside the receiver gets the observer when Django opens its connection,
through ``connection_created`` (connected only while a capture is open), before its first query runs, under
the application's own wrappers (so an ``execute_wrapper()`` block it opened pops its own). The observer is
taken off when the outermost receiver of the thread returns: between receivers, and outside every capture, a
connection is exactly as Django made it, except in a thread serving ``sync_to_async`` work for a recording
(below).

Which receiver a query belongs to is read from a ``ContextVar`` set for the duration of each receiver call:
the innermost receiver running in this thread or task. A receiver that saves a row counts the save's SQL;
the receivers of that save count their own, and their parent does not count them again. A query run by the
``save()`` around the receivers, by another request or by another thread is in no receiver's context.

An async receiver's queries run where its ``sync_to_async`` calls land (Django's async ORM: asgiref's
thread-sensitive thread), with its frame current there (asgiref copies the context), and are counted exactly
when that thread's connections carry the observer, which is put on only by code already running in that
thread, never by a hop into it (a hop would make concurrent receivers wait for it):

- ``send()`` with async receivers runs them under ``async_to_sync``, so their calls come back to the sending
  thread: the send wrapper watches it (``watch()``/``unwatch()``, ``hold()`` plus the thread's entry below)
  while they run.
- A thread that serves ``sync_to_async`` work of a running event loop (the ASGI request's sync thread) gets
  the observer on every connection object it has when one of them opens in a context that records
  (``_linger``), at the bottom of ``execute_wrappers`` so no ``execute_wrapper()`` block of the application's
  ever pops it. It stays while that thread works for a recording, and comes off in that thread: at its first
  query in a context that records nothing, or when a capture closes there.

Each such thread has an entry in ``_threads`` (from when its connections are all observed, and which they
are). At the end of an async receiver, ``covered()`` asks asgiref's state which thread its calls went to
(``sync_thread.target()``) and whether that thread was fully observed all along; if not (its connection
opened before the capture and none of our code has run there since, as with the test client's async handler,
whose sync thread outlives requests), the receiver's row says "not measured" (``queries_not_measured``) and
never shows a count that could be short.

Only the SQL text is kept (placeholders as the database driver gets them); parameters are never read.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar, Token
from time import perf_counter
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

from dt_signals_panel import sync_thread
from dt_signals_panel.shapes import ReceiverRow

__all__ = [
    "Frame",
    "bind",
    "covered",
    "describe",
    "enter",
    "hold",
    "leave",
    "release",
    "stamp",
    "start",
    "stop",
    "unwatch",
    "watch",
]

#: Longest SQL text kept per query shape.
MAX_SQL = 300
#: Query shapes kept per receiver call (the count and time cover every query).
MAX_SHAPES = 10


class Frame:
    """The queries of one receiver call: how many, how long, and each distinct (alias, SQL) with its count."""

    __slots__ = ("count", "seconds", "shapes")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        #: (alias, sql) -> [count, seconds]
        self.shapes: dict[tuple[str, str], list[Any]] = {}


#: The receiver call running in this thread or task, innermost; ``None`` outside every receiver.
current: ContextVar[Frame | None] = ContextVar("dt_signals_panel_receiver_queries", default=None)

_local = threading.local()
_lock = threading.Lock()
_captures = 0
#: Bumped whenever a capture opens or closes: a thread's list of its connection objects is kept only while
#: this stays the same (see ``_connections_here``).
_generation = 0
#: Whether the current context records (``wrappers.open_recordings``, bound by ``bind()``: wrappers imports us).
_recording_here: Callable[[], Any] = tuple
#: thread ident -> (stamp from which every connection object of that thread has carried the observer, the
#: thread, those objects), the last two weakly (an ident is reused once its thread ends; a connection object
#: dies with its thread). Written only by the thread itself; read by ``covered()`` from the event loop's
#: thread. Emptied when the first capture opens: while none was open, connections opened unseen.
_threads: dict[int, tuple[int, Any, list[Any]]] = {}
#: Increasing numbers that order an async receiver's start against a thread's entry.
_stamps = itertools.count(1)


def _sql_text(sql: Any) -> str:
    # A driver's composed SQL object (psycopg's ``sql.Composed``) is named by its class: its text would be
    # built by its own code.
    return sql if type(sql) is str else f"<{type(sql).__module__}.{type(sql).__qualname__}>"


def _observe(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """The execute wrapper: times the query and files it under the innermost receiver of this context."""
    frame = current.get()
    if frame is None:
        if not _recording_here():  # the thread works for no recording now: a lingering observer comes off
            _let_go(context["connection"])
        return execute(sql, params, many, context)
    started = perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = perf_counter() - started
        key = (context["connection"].alias, _sql_text(sql))
        frame.count += 1
        frame.seconds += elapsed
        shape = frame.shapes.get(key)
        if shape is None:
            frame.shapes[key] = [1, elapsed]
        else:
            shape[0] += 1
            shape[1] += elapsed


def _has_observer(wrappers: list[Any]) -> bool:
    # By identity: ``in`` would call the application's wrappers' ``__eq__``.
    return any(wrapper is _observe for wrapper in wrappers)


class _Thread:
    """One thread's observation, reached with one thread-local read per receiver call: how many receivers
    run in it (``depth``), the connection objects holding an observer of a receiver's (``held``: each with
    whether it was put on top), the thread's connection objects as last asked of Django with the
    ``_generation`` they were asked at, the ones holding an observer that outlives receivers
    (``lingering``), and how deep ``watch()`` calls nest with the thread's entry from before them."""

    __slots__ = ("connections", "depth", "generation", "held", "lingering", "watched_before", "watching")

    def __init__(self) -> None:
        self.depth = 0
        self.held: list[tuple[Any, bool]] = []
        self.connections: list[Any] = []
        self.generation = -1
        self.lingering: list[Any] = []
        self.watching = 0
        self.watched_before: tuple[int, Any, list[Any]] | None = None


def _thread() -> _Thread:
    try:
        found: _Thread = _local.state
    except AttributeError:
        found = _local.state = _Thread()
    return found


def _put_on(connection: Any, held: list[tuple[Any, bool]]) -> None:
    # What ``connection.execute_wrapper(_observe)`` does on entering, without making a context manager per
    # receiver call (a generator: most of the cost of a receiver's observation). ``release`` undoes it.
    wrappers = connection.execute_wrappers
    if not wrappers or not _has_observer(wrappers):
        wrappers.append(_observe)
        held.append((connection, True))


def _connections_here(state: _Thread) -> list[Any]:
    """The connection objects this thread has made. Asking Django costs a few microseconds per receiver call,
    so the answer is kept until a capture opens or closes, or a connection opens in this thread
    (``connection_created``: a connection object made later opens before its first query). A connection
    object replaced by assignment (``connections[alias] = ...``) inside a capture would go unobserved until
    then: Django itself does that only as a live server's thread starts."""
    if state.generation != _generation:
        state.connections = list(connections.all(initialized_only=True))
        state.generation = _generation
    return state.connections


def hold() -> None:
    """The current thread runs a receiver: observe its connections (the outermost receiver puts it on)."""
    state = _thread()
    if state.depth == 0:
        held = state.held
        for connection in _connections_here(state):
            _put_on(connection, held)
    state.depth += 1


def release() -> None:
    """The receiver ``hold()`` was for returned: the outermost one takes the observer off again."""
    state = _thread()
    if state.depth == 0:  # no hold() in this thread: nothing to undo
        return
    state.depth -= 1
    if state.depth:
        return
    held, state.held = state.held, []
    for connection, on_top in reversed(held):
        wrappers = connection.execute_wrappers
        if on_top and wrappers and wrappers[-1] is _observe:
            wrappers.pop()  # as ``execute_wrapper()`` does on leaving
        else:  # put at the bottom, or another wrapper was left on top of ours: take ours out from under it
            for i in range(len(wrappers) - 1, -1, -1):
                if wrappers[i] is _observe:
                    del wrappers[i]
                    break


def enter() -> tuple[Frame, Token[Frame | None]]:
    """A receiver call begins in this thread: its frame, current until :func:`leave`."""
    frame = Frame()
    token = current.set(frame)
    hold()
    return frame, token


def leave(token: Token[Frame | None]) -> None:
    release()
    current.reset(token)


def _at_bottom(connection: Any) -> None:
    # Under every execute_wrapper() block the application has open, so that block's pop() takes its own.
    connection.execute_wrappers.insert(0, _observe)


def _take_off(connection: Any) -> None:
    wrappers = connection.execute_wrappers
    for i in range(len(wrappers) - 1, -1, -1):
        if wrappers[i] is _observe:
            del wrappers[i]
            return


def _works_for_sync_to_async() -> bool:
    """Whether this thread runs ``sync_to_async`` work for an event loop that still runs (asgiref notes the loop
    of the last such call in the thread, for ``async_to_sync``): a thread that once did, as a test's main thread
    after an async test, is not one."""
    from asgiref.sync import SyncToAsync

    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop is not None and bool(loop.is_running())


def _linger(opened: Any) -> None:
    """A connection opens in a thread that runs ``sync_to_async`` work for a recording: every connection object
    of the thread carries the observer from now on, until ``_let_go``."""
    ident = threading.get_ident()
    found = list(connections.all(initialized_only=True))
    if not any(c is opened for c in found):
        found.append(opened)
    # A connection of this thread that was open before, unobserved: its earlier queries were not seen.
    unseen = any(c is not opened and c.connection is not None and not _has_observer(c.execute_wrappers) for c in found)
    state = _thread()
    lingering = state.lingering
    held = state.held
    for connection in found:
        if not _has_observer(connection.execute_wrappers):
            _at_bottom(connection)
            lingering.append(connection)
            continue
        for i, (c, _on_top) in enumerate(held):
            if c is connection:  # held by a receiver of this thread: stays on after it returns, from the bottom
                del held[i]
                _take_off(connection)
                _at_bottom(connection)
                lingering.append(connection)
                break
    before = _threads.get(ident)
    since = next(_stamps) if unseen else (0 if before is None else before[0])
    _enter_thread(ident, since, found)


def _enter_thread(ident: int, since: int, found: list[Any]) -> None:
    _threads[ident] = (since, weakref.ref(threading.current_thread()), [weakref.ref(c) for c in found])


def _let_go(connection: Any) -> None:
    lingering = _thread().lingering
    if not lingering:
        return
    for i, c in enumerate(lingering):
        if c is connection:
            del lingering[i]
            _take_off(connection)
            _threads.pop(threading.get_ident(), None)
            return


def _connection_opened(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A connection opens in this thread: the next receiver asks Django for the thread's connection objects
    again, and one made inside a running receiver is observed from its first query. In a thread that runs
    ``sync_to_async`` work, async receivers' queries may run on it: it is observed while the thread works for a
    recording, and the thread is known not to be fully observed when it opens one for something else."""
    state = _thread()
    state.generation = -1
    if _works_for_sync_to_async():
        if _recording_here():
            _linger(connection)
            return
        _threads.pop(threading.get_ident(), None)
    if current.get() is None or not state.depth or _has_observer(connection.execute_wrappers):
        return
    _at_bottom(connection)
    state.held.append((connection, False))


def watch() -> None:
    """``send()`` hands async receivers to ``async_to_sync``: their ``sync_to_async`` calls come back to this
    thread, whose connections are observed (``hold()``) and known to be (an entry in ``_threads``) meanwhile."""
    hold()
    state = _thread()
    state.watching += 1
    if state.watching == 1:
        ident = threading.get_ident()
        before = state.watched_before = _threads.get(ident)
        if before is None:  # else every connection of this thread is observed already, since before[0]
            _enter_thread(ident, next(_stamps), list(_connections_here(state)))


def unwatch() -> None:
    state = _thread()
    if state.watching > 0:
        state.watching -= 1
        if state.watching == 0:
            before, state.watched_before = state.watched_before, None
            if before is None:
                _threads.pop(threading.get_ident(), None)
            else:
                _threads[threading.get_ident()] = before
    release()


def stamp() -> int:
    """A number that orders an async receiver's start against the threads' entries."""
    return next(_stamps)


def covered(since: int) -> bool:
    """Whether every query run by an async receiver that started at ``since`` was observed: the thread its
    ``sync_to_async`` calls run in (asgiref's choice, read from here) has had every connection object observed
    since before the receiver started, and still has."""
    thread = sync_thread.target()
    if thread is sync_thread.NO_THREAD:  # no such thread yet: no call of the receiver's ran in one
        return True
    if not isinstance(thread, threading.Thread) or thread.ident is None:
        return False
    entry = _threads.get(thread.ident)
    if entry is None or entry[0] > since or entry[1]() is not thread:
        return False
    for ref in entry[2]:
        c = ref()
        if c is not None and c.connection is not None and not _has_observer(c.execute_wrappers):
            return False
    return True


def bind(recording_here: Callable[[], Any]) -> None:
    """Tell this module how to ask whether the current context records (``wrappers.open_recordings.get``)."""
    global _recording_here
    _recording_here = recording_here


def start() -> None:
    """A capture opens: while any is open, connections opened inside receivers are observed."""
    global _captures, _generation
    with _lock:
        _captures += 1
        _generation += 1
        if _captures == 1:
            _threads.clear()
            connection_created.connect(_connection_opened, weak=False, dispatch_uid=__name__)


def stop() -> None:
    """A capture closes: once this context records nothing, this thread's lingering observers come off."""
    global _captures, _generation
    with _lock:
        _captures -= 1
        _generation += 1
        if _captures == 0:
            connection_created.disconnect(dispatch_uid=__name__)
    state = _thread()
    if state.lingering and not _recording_here():
        for connection in state.lingering:
            _take_off(connection)
        state.lingering = []
        _threads.pop(threading.get_ident(), None)


def describe(frame: Frame) -> ReceiverRow:
    """A receiver call's queries as JSON primitives; ``{}`` when it ran none (the stats stay small)."""
    if not frame.count:
        return {}
    by_alias: dict[str, dict[str, Any]] = {}
    shapes = []
    for (alias, sql), (count, seconds) in frame.shapes.items():
        row = by_alias.setdefault(alias, {"queries": 0, "ms": 0.0})
        row["queries"] += count
        row["ms"] += seconds * 1000
        shapes.append({"alias": alias, "sql": _clip(sql), "count": count, "ms": round(seconds * 1000, 3)})
    shapes.sort(key=lambda s: (-s["count"], -s["ms"]))
    for row in by_alias.values():
        row["ms"] = round(row["ms"], 3)
    return {
        "queries": frame.count,
        "query_ms": round(frame.seconds * 1000, 3),
        "db": by_alias,
        "sql": shapes[:MAX_SHAPES],
    }


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SQL else f"{text[: MAX_SQL - 1]}…"
