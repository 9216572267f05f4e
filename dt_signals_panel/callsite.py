"""The user's ``await`` line for a send made inside ``sync_to_async``.

``await Model.objects.acreate(...)`` runs ``create()`` through asgiref's ``SyncToAsync``: in an executor
thread (or, under WSGI, back in the request's thread through ``CurrentThreadExecutor``), whose frames lead up
to asgiref's ``thread_handler`` and then to the thread's own machinery, never to the view. The view's frame is
suspended in the event loop, awaiting the ``SyncToAsync.__call__`` coroutine that handed the work over.

This module finds it without any hook on the way in: ``thread_handler``'s frame holds ``func``, the closure
that ``SyncToAsync.__call__`` built for this one call, and the same object is a local of that coroutine's
frame. Among the loop's tasks, the one whose chain of awaits reaches a ``SyncToAsync.__call__`` frame holding
that ``func`` is the caller; its frames above that one are the user's ``await`` chain. It runs only when the
recorder found no user frame in the sending thread (nothing when nothing records, nothing for a plain send),
reads frames and never keeps them past the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

#: Awaits followed per task before giving up (a chain deeper than this is not a request's).
MAX_DEPTH = 200


def _codes() -> tuple[CodeType, CodeType] | None:
    try:
        from asgiref.sync import SyncToAsync
    except ImportError:  # pragma: no cover - asgiref comes with Django
        return None
    try:
        return SyncToAsync.thread_handler.__code__, SyncToAsync.__call__.__code__
    except AttributeError:  # pragma: no cover - an asgiref that works otherwise
        return None


_CODES = _codes()


def awaiting_frame(sending: FrameType | None, hidden: Callable[[FrameType], bool]) -> FrameType | None:
    """The innermost frame not ``hidden`` among the frames awaiting the ``sync_to_async`` call that
    ``sending`` runs in; ``None`` when ``sending`` does not run under ``sync_to_async`` or the caller cannot
    be found (its loop closed, the task gone)."""
    if _CODES is None:
        return None
    handler_code, call_code = _CODES
    frame = sending
    while frame is not None and frame.f_code is not handler_code:
        frame = frame.f_back
    if frame is None:
        return None
    handler_locals = frame.f_locals
    func, loop = handler_locals.get("func"), handler_locals.get("loop")
    del frame, handler_locals
    if func is None or not isinstance(loop, asyncio.AbstractEventLoop):
        return None
    try:
        tasks = list(asyncio.all_tasks(loop))
    except RuntimeError:  # the loop's task set changed size too often while read from this thread
        return None
    for task in tasks:
        chain = _await_chain(task.get_coro())
        for i, awaiting in enumerate(chain):
            if awaiting.f_code is call_code and awaiting.f_locals.get("func") is func:
                return next((f for f in reversed(chain[:i]) if not hidden(f)), None)
    return None


def _await_chain(coro: Any) -> list[FrameType]:
    """The frames of a suspended coroutine and of what it awaits, outermost first."""
    frames: list[FrameType] = []
    for _ in range(MAX_DEPTH):
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if coro is None:
            break
    return frames
