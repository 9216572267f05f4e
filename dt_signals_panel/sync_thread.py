"""The thread that a thread-sensitive ``sync_to_async`` call made now, in this context, would run in.

An async receiver's queries run there (Django's async ORM calls are thread-sensitive ``sync_to_async``), and
``queries.covered()`` asks whether every connection of that thread is observed. asgiref picks the thread in
``SyncToAsync.__call__``; this reads the same state in the same order, without making a call, starting a
thread or creating an executor. Anything it does not recognise (an asgiref that stores it otherwise, an
executor of the application's own) is ``UNKNOWN``: the receiver's queries are then reported as not measured,
never as a count that could be short.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

__all__ = ["NO_THREAD", "UNKNOWN", "target"]

#: asgiref would start a new thread for it: no thread runs that context's calls yet.
NO_THREAD: Final = "no thread"
#: The thread cannot be told.
UNKNOWN: Final = "unknown"


def _thread_of(executor: Any) -> threading.Thread | str:
    work_thread = getattr(executor, "_work_thread", None)  # asgiref's CurrentThreadExecutor
    if work_thread is not None:
        return work_thread if isinstance(work_thread, threading.Thread) else UNKNOWN
    if type(executor) is ThreadPoolExecutor and getattr(executor, "_max_workers", 0) == 1:
        threads = list(getattr(executor, "_threads", ()))
        if not threads:
            return NO_THREAD
        return threads[0] if len(threads) == 1 and isinstance(threads[0], threading.Thread) else UNKNOWN
    return UNKNOWN


def target() -> threading.Thread | str:
    """The thread asgiref would run a thread-sensitive call in, ``NO_THREAD`` or ``UNKNOWN``."""
    try:
        from asgiref.sync import AsyncToSync, SyncToAsync

        current = getattr(AsyncToSync.executors, "current", None)
        if current is not None:
            return _thread_of(current)
        context = SyncToAsync.thread_sensitive_context.get(None)
        if context is not None:
            executor = SyncToAsync.context_to_thread_executor.get(context)
            return NO_THREAD if executor is None else _thread_of(executor)
        loop_executors = getattr(AsyncToSync, "loop_thread_executors", None)
        if loop_executors:
            executor = loop_executors.get(asyncio.get_running_loop())
            if executor is not None:
                return _thread_of(executor)
        return _thread_of(SyncToAsync.single_thread_executor)
    except Exception:  # an asgiref laid out otherwise
        return UNKNOWN
