"""The SQL each receiver runs, observed through Django's public database instrumentation.

While a receiver runs, the thread it runs in has one observer of ours on each database connection object
that thread already made (``connections.all(initialized_only=True)``), in the list of wrappers that
Django's public ``execute_wrapper()`` keeps, put on and taken off as that context manager does (without
making one per receiver call): no connection object is made and no connection opened that the application
would not make. A connection object first made inside the receiver gets the observer when Django opens its connection,
through ``connection_created`` (connected only while a capture is open), before its first query runs. The
observer is taken off when the outermost receiver of the thread returns: between receivers, and outside
every capture, a connection is exactly as Django made it.

Which receiver a query belongs to is read from a ``ContextVar`` set for the duration of each receiver call:
the innermost receiver running in this thread or task. A receiver that saves a row counts the save's SQL;
the receivers of that save count their own, and their parent does not count them again. A query run by the
``save()`` around the receivers, by another request or by another thread is in no receiver's context.

An async receiver's queries are not measured: they run in the thread its ``sync_to_async`` calls land in,
and putting the observer on that thread's connections would take a hop into it before and after the receiver,
which changes the scheduling the application sees (concurrent receivers under ``asend`` would wait for the
request's sync thread). Its receiver row says so (``queries_not_measured``) instead of showing 0. Its frame is
still current while it runs (``wrappers._ATimed``), so its queries are never counted for an enclosing receiver.

Only the SQL text is kept (placeholders as the database driver gets them); parameters are never read.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from time import perf_counter
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

from dt_signals_panel.shapes import ReceiverRow

__all__ = ["Frame", "describe", "enter", "hold", "leave", "release", "start", "stop"]

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


def _sql_text(sql: Any) -> str:
    # A driver's composed SQL object (psycopg's ``sql.Composed``) is named by its class: its text would be
    # built by its own code.
    return sql if type(sql) is str else f"<{type(sql).__module__}.{type(sql).__qualname__}>"


def _observe(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """The execute wrapper: times the query and files it under the innermost receiver of this context."""
    frame = current.get()
    if frame is None:
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


def _put_on(connection: Any, held: list[Any]) -> None:
    # What ``connection.execute_wrapper(_observe)`` does on entering, without making a context manager per
    # receiver call (a generator: most of the cost of a receiver's observation). ``release`` undoes it.
    wrappers = connection.execute_wrappers
    if not wrappers or not _has_observer(wrappers):
        wrappers.append(_observe)
        held.append(connection)


class _Thread:
    """One thread's observation, reached with one thread-local read per receiver call: how many receivers
    run in it (``depth``), the connection objects holding our observer, and the thread's connection objects
    as last asked of Django, with the ``_generation`` they were asked at."""

    __slots__ = ("connections", "depth", "generation", "held")

    def __init__(self) -> None:
        self.depth = 0
        self.held: list[Any] = []
        self.connections: list[Any] = []
        self.generation = -1


def _thread() -> _Thread:
    try:
        found: _Thread = _local.state
    except AttributeError:
        found = _local.state = _Thread()
    return found


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
    for connection in reversed(held):
        wrappers = connection.execute_wrappers
        if wrappers and wrappers[-1] is _observe:
            wrappers.pop()  # as ``execute_wrapper()`` does on leaving
        else:  # another wrapper was left on top of ours: take ours out from under it, leave it there
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


def _connection_opened(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A connection opens in this thread: the next receiver asks Django for the thread's connection objects
    again, and one made inside a running receiver is observed from its first query."""
    state = _thread()
    state.generation = -1
    if current.get() is None or not state.depth:
        return
    _put_on(connection, state.held)


def start() -> None:
    """A capture opens: while any is open, connections opened inside receivers are observed."""
    global _captures, _generation
    with _lock:
        _captures += 1
        _generation += 1
        if _captures == 1:
            connection_created.connect(_connection_opened, weak=False, dispatch_uid=__name__)


def stop() -> None:
    global _captures, _generation
    with _lock:
        _captures -= 1
        _generation += 1
        if _captures == 0:
            connection_created.disconnect(dispatch_uid=__name__)


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
