"""Turn one send into a JSON-ready dict: labels, arguments, receivers, call site.

Everything here runs at send time, inside the user's request, so it must never raise, never query and never
keep a reference to a model instance, request or user: djdt serialises stats to JSON and may render them
later, in another request, on the event loop.
"""

from __future__ import annotations

import linecache
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from dt_signals_panel import snapshots
from dt_signals_panel.conf import Config

#: What ``django.contrib.auth`` puts in place of a credential its own rule matches.
DJANGO_MASK = "********************"
#: Django's own rule for credentials (``django.contrib.auth._clean_credentials``).
DJANGO_CREDENTIAL_RULE = re.compile("api|token|key|secret|password|signature", re.IGNORECASE)
#: The sender ``authenticate()`` and ``aauthenticate()`` use; any other sender bypassed Django's masking.
AUTH_SENDER = "django.contrib.auth"
MASK = "••••••••"
MAX_TEXT = 200
MAX_ITEMS = 20
MAX_DEPTH = 3


class QueryRefused(Exception):
    """Raised into a ``__str__`` that tries to query while we label its instance."""


_ABSENT = object()


@contextmanager
def no_queries() -> Iterator[list[bool]]:
    """Refuse every query on every connection of this context while a label is computed.

    Refused at ``cursor()``, before anything is logged or a connection opened: refusing later (an
    ``execute_wrapper``) still lets Django's debug cursor, djdt's SQL panel and ``assertNumQueries`` count
    the query, so the panel would change what a request appears to run. The list it yields gets ``True``
    appended when a query was refused, even if the caller swallowed the error."""
    refused: list[bool] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        refused.append(True)
        raise QueryRefused

    patched: list[tuple[Any, str, Any]] = []
    try:
        for alias in connections:
            try:
                connection = connections[alias]
            except Exception:  # a backend that cannot even be loaded cannot be queried either
                continue
            for method in ("cursor", "chunked_cursor"):
                # Whatever is there now (Django's method, or djdt's SQL panel wrapper) comes back after.
                patched.append((connection, method, connection.__dict__.get(method, _ABSENT)))
                setattr(connection, method, refuse)
        yield refused
    finally:
        for connection, method, saved in reversed(patched):
            if saved is _ABSENT:
                connection.__dict__.pop(method, None)
            else:
                setattr(connection, method, saved)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def sender_label(sender: Any) -> str:
    try:
        return _sender_label(sender)
    except Exception:  # a sender whose attributes raise: name its type, never fail the send
        return clip(f"{type(sender).__module__}.{type(sender).__qualname__}")


def _sender_label(sender: Any) -> str:
    meta = getattr(sender, "_meta", None)
    if isinstance(sender, type) and meta is not None:
        return str(meta.label)
    if isinstance(sender, str):
        return clip(sender)
    if sender is None:
        return "None"
    if isinstance(sender, type):
        return f"{sender.__module__}.{sender.__qualname__}"
    label = getattr(sender, "label", None)  # an AppConfig, for the migrate signals
    if isinstance(label, str):
        return label
    return clip(f"{type(sender).__module__}.{type(sender).__qualname__}")


def is_toolbar_label(label: str) -> bool:
    """djdt's own ``HistoryEntry`` rows (DatabaseStore) are the toolbar's work, not the user's."""
    return label.startswith("debug_toolbar.")


def str_with_note(obj: Any, limit: int = 120) -> tuple[str | None, str | None]:
    """``str(obj)`` bounded to ``limit``, and a note when it could not be had as is. Never raises, never
    lets a query through: a ``__str__`` that raises, recurses, queries or returns megabytes gives a note."""
    refused: list[bool] = []
    try:
        with no_queries() as refused:
            text = str(obj)
    except RecursionError:
        return None, "str() recursed without end"
    except Exception as error:
        if refused:
            return None, "str() queried the database; not run"
        return None, f"str() raised {_type_name(error)}"
    if refused:  # the query was refused but __str__ swallowed the error and made up a text
        return None, "str() queried the database; not run"
    if len(text) > limit:
        return clip(text, limit), f"str() returned {len(text)} characters; clipped"
    return text, None


def safe_str(obj: Any) -> str | None:
    """``str(obj)`` when it costs no query and does not fail; ``None`` otherwise."""
    text, note = str_with_note(obj)
    return text if note is None or text is not None else None


def _type_name(obj: Any) -> str:
    return clip(type(obj).__qualname__, 60)


def instance_label(instance: Model) -> str:
    meta = instance._meta
    try:
        pk = instance.pk
    except Exception:
        pk = None
    head = f"{meta.label} #{clip(str(pk), 40)}" if pk is not None else f"{meta.label} (unsaved)"
    text, note = str_with_note(instance)
    if text:
        head = f"{head} “{text}”"
    return f"{head} [{note}]" if note else head


def row_key(instance: Model) -> dict[str, Any] | None:
    """The row a save or delete touches, as the redundant-save finding keys it."""
    try:
        pk = instance.pk
    except Exception:
        return None
    if pk is None:
        return None
    concrete = instance._meta.concrete_model or type(instance)
    return {"model": concrete._meta.label, "pk": clip(str(pk), 40)}


def describe(value: Any, config: Config, depth: int = 0) -> Any:
    """A bounded, JSON-native picture of any argument value. Never evaluates a queryset, never raises."""
    try:
        return _describe(value, config, depth)
    except Exception as error:  # a container or object that misbehaves while we look at it
        return f"<{_type_name(value)}> [could not be described: {_type_name(error)}]"


def _describe(value: Any, config: Config, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, Model):
        return instance_label(value)
    if isinstance(value, type) and hasattr(value, "_meta"):
        return sender_label(value)
    if isinstance(value, QuerySet):
        return f"QuerySet of {value.model._meta.label}"
    if isinstance(value, HttpRequest):
        return request_label(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        return describe_mapping(value, config, depth)
    if isinstance(value, (set, frozenset)):
        items = sorted((describe(v, config, depth + 1) for v in list(value)[:MAX_ITEMS]), key=str)
        return items + ([f"… {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else [])
    if isinstance(value, (list, tuple)):
        items = [describe(v, config, depth + 1) for v in value[:MAX_ITEMS]]
        return items + ([f"… {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else [])
    text, note = str_with_note(value)
    if note is None and text is not None:
        return clip(text)
    return f"{clip(text) if text else f'<{_type_name(value)}>'} [{note}]"


def describe_mapping(value: Mapping[Any, Any], config: Config, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for i, (key, item) in enumerate(value.items()):
        if i >= MAX_ITEMS:
            result["…"] = f"{len(value) - MAX_ITEMS} more"
            break
        name = key_name(key)
        result[name] = MASK if config.sensitive.search(name) else describe(item, config, depth + 1)
    return result


def key_name(key: Any) -> str:
    """A dict key as text; a key whose ``str()`` fails is named by its type."""
    if isinstance(key, str):
        return clip(key, 60)
    text, note = str_with_note(key, 60)
    return text if note is None and text is not None else f"<{_type_name(key)}>"


def request_label(request: Any) -> str:
    """Method and path only: the query string and body may carry the very secrets we mask."""
    try:
        return clip(f"{request.method} {request.path}")
    except Exception:
        return "<request>"


def credential_report(credentials: Any, sender: Any, config: Config) -> list[dict[str, Any]]:
    """One row per credential key: its status and a value safe to show."""
    if not isinstance(credentials, Mapping):
        return [{"key": "(credentials)", "status": "not_a_dict", "value": f"<{type(credentials).__name__}>"}]
    through_django = sender == AUTH_SENDER
    rows = []
    for key, value in list(credentials.items())[:MAX_ITEMS]:
        name = key_name(key)
        if value == DJANGO_MASK and DJANGO_CREDENTIAL_RULE.search(name):
            status, shown = "masked_by_django", DJANGO_MASK
        elif config.sensitive.search(name):
            status, shown = "sensitive_in_clear", MASK
        else:
            status, shown = "not_sensitive", describe(value, config, 1)
        rows.append({"key": name, "status": status, "value": shown, "via_authenticate": through_django})
    return rows


def build(name: str, sender: str, named: dict[str, Any], config: Config, *, detailed: bool = True) -> dict[str, Any]:
    """The event for one send: in full for a row the panel lists, light (see :func:`_build_light`) for one it
    only counts and sums up. Argument order is the order Django sends them in. Never raises: whatever the
    arguments do, the send goes on exactly as without the panel."""
    try:
        return _build(name, sender, named, config) if detailed else _build_light(name, sender, named, config)
    except Exception as error:
        note = f"arguments could not be described: {_type_name(error)}"
        fallback: dict[str, Any] = {"signal": name, "sender": sender, "args": {"…": note}}
        if not detailed:
            fallback["light"] = True
        return fallback


def _build(name: str, sender: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    event: dict[str, Any] = {"signal": name, "sender": sender, "args": arguments}
    for key, value in named.items():
        if key == "credentials":
            event["credentials"] = credential_report(value, sender, config)
        elif key in ("update_fields", "pk_set") and isinstance(value, (set, frozenset, list, tuple)):
            # Sorted in full so the same set always reads the same; only the first MAX_ITEMS are kept.
            shown = sorted((describe(v, config, 1) for v in value), key=str)
            extra = [f"… {len(shown) - MAX_ITEMS} more"] if len(shown) > MAX_ITEMS else []
            arguments[key] = shown[:MAX_ITEMS] + extra
        elif key == "instance" and isinstance(value, Model):
            arguments[key] = instance_label(value)
            row = row_key(value)
            if row is not None:
                event["row"] = row
        elif config.sensitive.search(key) and key not in ("using", "origin"):
            arguments[key] = MASK
        else:
            arguments[key] = describe(value, config)
    if "row" in event:
        event["row"]["using"] = arguments.get("using")
    return event


def _build_light(name: str, sender: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    """An event that will not be shown row by row: what the findings, the call-site summary and the receiver
    times read, nothing that calls ``str()`` on a user's object."""
    instance = named.get("instance")
    arguments: dict[str, Any] = {}
    event: dict[str, Any] = {"signal": name, "sender": sender, "args": arguments, "light": True}
    if "raw" in named:
        arguments["raw"] = bool(named["raw"])
    if "created" in named:  # the redundant-save findings pair each pre_save with its post_save
        arguments["created"] = named["created"] is True
    if "using" in named:
        arguments["using"] = named["using"] if isinstance(named["using"], str) else None
    if "update_fields" in named:
        fields = named["update_fields"]
        arguments["update_fields"] = None if fields is None else sorted(str(f) for f in fields)
    if "credentials" in named:  # rare, and the credentials finding must see every one
        event["credentials"] = credential_report(named["credentials"], sender, config)
    if isinstance(instance, Model):
        row = row_key(instance)
        if row is not None:
            row["using"] = arguments.get("using")
            event["row"] = row
    return event


def _note_changes(event: dict[str, Any], instance: Model, update_fields: Any, rows: snapshots.Rows, using: Any) -> None:
    """At ``pre_save``, once the event is built: the names of the fields this save may change, judged from the
    row state of the recording the event belongs to (``rows``), for the redundant-save findings. Nothing when
    the panel cannot know. Never raises: a hand-made send may pass anything."""
    try:
        changed = snapshots.changed_fields(instance, update_fields, rows, using)
    except Exception:
        return
    if changed is not None:
        event["changed"] = changed
        event["field_count"] = sum(1 for f in instance._meta.concrete_fields if not f.primary_key)


def init_example(name: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    """The first pre_init/post_init of a model, summarised: raw column values (password hashes among them)
    are counted, never shown."""
    if name == "pre_init":
        args = named.get("args") or ()
        kwargs = named.get("kwargs") or {}
        return {
            "args": f"{len(args)} positional value{'s' if len(args) != 1 else ''}",
            "kwargs": describe_mapping(kwargs, config, 1) if isinstance(kwargs, Mapping) else {},
        }
    return {}


def receiver_name(receiver: Any) -> tuple[str, str]:
    """``module.qualname`` and ``file:line`` of a receiver, looking through decorators and partials."""
    func = receiver
    for _ in range(10):
        inner = getattr(func, "__wrapped__", None) or getattr(func, "func", None)
        if inner is None:
            break
        func = inner
    func = getattr(func, "__func__", func)
    module = getattr(func, "__module__", None) or type(func).__module__
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    code = getattr(func, "__code__", None)
    if code is None and callable(func):  # an instance with __call__
        code = getattr(type(func).__call__, "__code__", None)
    where = f"{code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    return clip(f"{module}.{qualname}"), where


def describe_receivers(responses: list[Any], timings: list[Any]) -> list[dict[str, Any]]:
    """The receivers that ran, in order, each with its own time when we could measure it."""
    spent = {id(receiver): seconds for receiver, seconds in timings}
    rows = []
    for item in responses[:50]:
        try:
            receiver, response = item
        except (TypeError, ValueError):
            continue
        name, where = receiver_name(receiver)
        row: dict[str, Any] = {"name": name, "where": where}
        if id(receiver) in spent:
            row["ms"] = round(spent[id(receiver)] * 1000, 3)
        if isinstance(response, BaseException):
            row["error"] = describe_exception(response)
        rows.append(row)
    return rows


def describe_exception(error: BaseException) -> str:
    text = safe_str(error)
    return clip(f"{type(error).__name__}: {text}" if text else type(error).__name__)


def stack_of(frame: FrameType | None, hidden: tuple[str, ...]) -> list[list[Any]]:
    """Frames from the outermost to the send, as djdt's ``render_stacktrace`` expects them."""
    trace = []
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not any(module == h or module.startswith(h + ".") for h in hidden):
            code = frame.f_code
            source = linecache.getline(code.co_filename, frame.f_lineno, frame.f_globals).strip()
            trace.append([code.co_filename, frame.f_lineno, code.co_name, source, None])
        frame = frame.f_back
    trace.reverse()
    return trace
