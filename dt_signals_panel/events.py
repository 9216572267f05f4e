"""Turn one send into a JSON-ready dict: labels, arguments, receivers, call site.

Everything here runs at send time, inside the user's request, so it must never raise, never query and never
keep a reference to a model instance, request or user: djdt serialises stats to JSON and may render them
later, in another request, on the event loop. And it never runs the application's code (see ``safe.py``):
no ``__str__`` of the application, no lazy object evaluated, no property or ``__getattr__``.
"""

from __future__ import annotations

import itertools
import linecache
import re
import sys
from types import CodeType, FrameType
from typing import Any

from django.apps import AppConfig
from django.db.models import Model, QuerySet
from django.utils.functional import LazyObject, Promise, empty

from dt_signals_panel import labels, masking, safe, snapshots
from dt_signals_panel.conf import Config

#: What ``django.contrib.auth`` puts in place of a credential its own rule matches.
DJANGO_MASK = "********************"
#: Django's own rule for credentials (``django.contrib.auth._clean_credentials``).
DJANGO_CREDENTIAL_RULE = re.compile("api|token|key|secret|password|signature", re.IGNORECASE)
#: The sender ``authenticate()`` and ``aauthenticate()`` use; any other sender bypassed Django's masking.
AUTH_SENDER = "django.contrib.auth"
MASK = masking.MASK
MAX_TEXT = 200
MAX_ITEMS = 20
MAX_DEPTH = 3


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def sender_label(sender: Any) -> str:
    """A model's label, a string sender as is, a class's dotted name, an app config's label; else the
    sender's class. Read without asking the sender anything (it may be lazy, or have a ``__getattr__``)."""
    try:
        return _sender_label(sender)
    except Exception:  # a sender we cannot read statically: name its type, never fail the send
        return clip(safe.class_name(type(sender)))


def _sender_label(sender: Any) -> str:
    kind = type(sender)
    if kind is str:
        return clip(sender)
    if sender is None:
        return "None"
    bases = safe.mro(kind)
    if type in bases:  # a class: a model's label, else its dotted name
        if Model in safe.mro(sender):
            return str(sender._meta.label)
        return clip(safe.class_name(sender))
    if AppConfig in bases:  # the migrate signals
        label = (safe.instance_dict(sender) or {}).get("label")
        if type(label) is str:
            return label
    return clip(safe.class_name(kind))


def is_toolbar_label(label: str) -> bool:
    """djdt's own ``HistoryEntry`` rows (DatabaseStore) are the toolbar's work, not the user's."""
    return label.startswith("debug_toolbar.")


def _type_name(obj: Any) -> str:
    return clip(safe.short_class_name(type(obj)), 60)


def instance_label(instance: Model, config: Config) -> str:
    """``app_label.Model #pk “text”``: see :mod:`dt_signals_panel.labels` (never runs ``__str__``); a
    credential model's label is its masked pk alone (:mod:`dt_signals_panel.masking`)."""
    return masking.credential_label(instance, labels.instance_label(instance, config))


def row_key(instance: Model) -> dict[str, Any] | None:
    """The row a save or delete touches, as the redundant-save finding keys it (pk from ``__dict__``)."""
    cls = type(instance)
    pk = labels.pk_value(cls, safe.instance_dict(instance) or {})
    if pk is None:
        return None
    concrete = cls._meta.concrete_model or cls
    shown = masking.shown_pk(instance, pk)
    if shown is None:
        text = safe.safe_text(pk)
        shown = clip(text if text is not None else safe.object_name(pk), 40)
    return {"model": concrete._meta.label, "pk": shown}


#: What an argument that is still lazy is shown as: looking at it would evaluate it.
LAZY_OBJECT = "<lazy object, not evaluated>"
LAZY_VALUE = "<lazy value, not evaluated>"


def describe(value: Any, config: Config, depth: int = 0) -> Any:
    """A bounded, JSON-native picture of any argument value. Runs none of the value's code: no ``str()`` but
    of a few exact types (:func:`safe.safe_text`), no lazy object evaluated, no queryset evaluated, no
    container's overridden methods. Never raises."""
    try:
        return _describe(value, config, depth)
    except Exception as error:  # a container that changed size while we read it, a recursion limit
        return f"<{safe.short_class_name(type(value))}> [could not be described: {_type_name(error)}]"


def _describe(value: Any, config: Config, depth: int) -> Any:
    kind = type(value)
    if kind in safe.PLAIN:
        return value
    if kind is str:
        return clip(value)
    bases = safe.mro(kind)
    if LazyObject in bases:
        wrapped = (safe.instance_dict(value) or {}).get("_wrapped", empty)
        if wrapped is empty or wrapped is None:
            return LAZY_OBJECT
        return describe(wrapped, config, depth + 1) if depth < MAX_DEPTH else LAZY_OBJECT
    if Promise in bases:
        return LAZY_VALUE
    if Model in bases:
        return instance_label(value, config)
    if type in bases:
        return sender_label(value)
    if QuerySet in bases:
        model = (safe.instance_dict(value) or {}).get("model")
        return f"QuerySet of {sender_label(model)}"
    if masking.wrapped_request(value) is not None:
        return request_label(value)
    length = safe.bytes_length(value)
    if length is not None:
        return f"<{length} bytes>"
    text = safe.safe_text(value)
    if text is not None:
        return clip(text)
    if depth >= MAX_DEPTH:
        return f"<{safe.short_class_name(kind)}>"
    if dict in bases:
        return describe_mapping(value, config, depth)
    items = _builtin_items(value, bases)
    if items is None:
        return safe.object_name(value)
    total, first = items
    described = [describe(v, config, depth + 1) for v in first]
    if set in bases or frozenset in bases:
        described.sort(key=str)
    return described + ([f"… {total - MAX_ITEMS} more"] if total > MAX_ITEMS else [])


def _builtin_items(value: Any, bases: tuple[type, ...], limit: int = MAX_ITEMS) -> tuple[int, list[Any]] | None:
    """The length and first ``limit`` items of a list, tuple, set or frozenset (or a subclass), read through
    the builtin's own methods: a subclass's ``__iter__``, ``__len__`` or ``__getitem__`` is never called."""
    for base in (list, tuple, set, frozenset):
        if base in bases:
            return base.__len__(value), list(itertools.islice(base.__iter__(value), limit))
    return None


def describe_mapping(value: dict[Any, Any], config: Config, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    total = dict.__len__(value)
    for i, (key, item) in enumerate(dict.items(value)):
        if i >= MAX_ITEMS:
            result["…"] = f"{total - MAX_ITEMS} more"
            break
        name = key_name(key)
        result[name] = (
            MASK if masking.sensitive_name(key, name, config.sensitive) else describe(item, config, depth + 1)
        )
    return result


def key_name(key: Any) -> str:
    """A dict key as text; a key that is no plain value is named by its class."""
    text = safe.safe_text(key)
    if text is not None:
        return clip(text, 60)
    bases = safe.mro(type(key))
    if LazyObject in bases or Promise in bases:
        return "<lazy>"
    return f"<{clip(safe.short_class_name(type(key)), 58)}>"


def request_label(request: Any) -> str:
    """Method and path only, for a request or anything wrapping one (DRF's ``Request``), read without
    running its code: the query string and body may carry the very secrets we mask, and a wrapper's
    ``str()`` shows the query string."""
    parts = masking.request_parts(request)
    return clip(f"{parts[0]} {parts[1]}") if parts is not None else "<request>"


def credential_report(
    credentials: Any, sender: Any, config: Config, masked: list[str] | None = None
) -> list[dict[str, Any]]:
    """One row per credential key: its status and a value safe to show. The raw values masked here are
    added to ``masked``, so that no other field of the event echoes them."""
    if not safe.is_a(credentials, dict):
        shown = f"<{safe.short_class_name(type(credentials))}>"
        return [{"key": "(credentials)", "status": "not_a_dict", "value": shown}]
    through_django = sender == AUTH_SENDER
    secrets: list[str] = [] if masked is None else masked
    rows = []
    for key, value in itertools.islice(dict.items(credentials), MAX_ITEMS):
        name = key_name(key)
        if type(value) is str and value == DJANGO_MASK and DJANGO_CREDENTIAL_RULE.search(name):
            status, shown = "masked_by_django", DJANGO_MASK
        elif masking.sensitive_name(key, name, config.sensitive):
            status, shown = "sensitive_in_clear", MASK
            masking.collect(value, secrets)
        else:
            status, shown = "not_sensitive", describe(value, config, 1)
            masking.collect_sensitive(value, config.sensitive, secrets)
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


def _names(value: Any, config: Config) -> list[Any] | None:
    """``update_fields``/``pk_set`` sorted in full, so the same set always reads the same; ``None`` when it
    is no builtin collection."""
    items = _builtin_items(value, safe.mro(type(value)), limit=sys.maxsize)
    if items is None:
        return None
    return sorted((describe(v, config, 1) for v in items[1]), key=str)


def _build(name: str, sender: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    event: dict[str, Any] = {"signal": name, "sender": sender, "args": arguments}
    # Raw values masked for this send; scrubbed from every other text of the event (masking.hold).
    masked: list[str] = []
    for key, value in named.items():
        masking.collect_credential_pk(value, masked, config.sensitive)
        shown = _names(value, config) if key in ("update_fields", "pk_set") else None
        if key == "credentials":
            event["credentials"] = credential_report(value, sender, config, masked)
        elif shown is not None:
            # Only the first MAX_ITEMS are kept.
            extra = [f"… {len(shown) - MAX_ITEMS} more"] if len(shown) > MAX_ITEMS else []
            arguments[key] = shown[:MAX_ITEMS] + extra
        elif key == "instance" and safe.is_a(value, Model):
            arguments[key] = instance_label(value, config)
            row = row_key(value)
            if row is not None:
                event["row"] = row
        elif config.sensitive.search(key) and key not in ("using", "origin"):
            arguments[key] = MASK
            masking.collect(value, masked)
        else:
            arguments[key] = describe(value, config)
            masking.collect_sensitive(value, config.sensitive, masked)
    if "row" in event:
        event["row"]["using"] = arguments.get("using")
    masking.hold(event, masked)
    return event


def _build_light(name: str, sender: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    """An event that will not be shown row by row: what the findings, the call-site summary and the receiver
    times read, no label and no argument text."""
    instance: Any = named.get("instance")
    arguments: dict[str, Any] = {}
    event: dict[str, Any] = {"signal": name, "sender": sender, "args": arguments, "light": True}
    if "raw" in named:
        arguments["raw"] = named["raw"] if type(named["raw"]) is bool else None
    if "created" in named:  # the redundant-save findings pair each pre_save with its post_save
        arguments["created"] = named["created"] is True
    if "using" in named:
        arguments["using"] = named["using"] if type(named["using"]) is str else None
    if "update_fields" in named:
        fields = named["update_fields"]
        if fields is None:
            arguments["update_fields"] = None
        else:
            names = _names(fields, config)
            if names is None:
                raise TypeError("update_fields is no collection")
            arguments["update_fields"] = names
    if "credentials" in named:  # rare, and the credentials finding must see every one
        masked: list[str] = []
        event["credentials"] = credential_report(named["credentials"], sender, config, masked)
        masking.hold(event, masked)
    if safe.is_a(instance, Model):
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
        args = named.get("args")
        kwargs: Any = named.get("kwargs")
        count = len(args) if type(args) is tuple else 0
        return {
            "args": f"{count} positional value{'s' if count != 1 else ''}",
            "kwargs": describe_mapping(kwargs, config, 1) if safe.is_a(kwargs, dict) else {},
        }
    return {}


def receiver_name(receiver: Any) -> tuple[str, str]:
    """``module.qualname`` and ``file:line`` of a receiver, looking through decorators and partials. Read
    through :func:`safe.static_attr`: a receiver's properties and ``__getattr__`` never run."""
    func = receiver
    for _ in range(10):
        # ``is None``, never ``or``: truth-testing a receiver may run its ``__bool__`` or ``__len__``.
        inner = safe.static_attr(func, "__wrapped__")
        if inner is None:
            inner = safe.static_attr(func, "func")
        if inner is None or not callable(inner):
            break
        func = inner
    method_func = safe.static_attr(func, "__func__")
    if method_func is not None:
        func = method_func
    module = safe.static_attr(func, "__module__")
    qualname = safe.static_attr(func, "__qualname__")
    if type(module) is not str or type(qualname) is not str:
        module, qualname = safe.class_name(type(func)).rpartition(".")[::2]
    code = safe.static_attr(func, "__code__")
    if code is None and callable(func):  # an instance with __call__
        code = safe.static_attr(safe.class_attr(type(func), "__call__"), "__code__")
    where = ""
    if type(code) is CodeType:
        where = f"{code.co_filename}:{code.co_firstlineno}"
    return clip(f"{module}.{qualname}" if module else qualname), where


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
        if safe.is_a(response, BaseException):  # a receiver's return value: never ask its __class__
            row["error"] = describe_exception(response)
        rows.append(row)
    return rows


#: ``__str__`` implementations of the exception classes whose text we may take: they format the arguments
#: only, and we take them only when every argument is a plain value.
_EXCEPTION_STR = frozenset({BaseException.__str__, KeyError.__str__})


def describe_exception(error: BaseException) -> str:
    """``Type: message``, the message taken without running the exception's code: ``str()`` only when the
    class formats its arguments the builtin way and every argument is a plain value; otherwise the plain
    arguments, and the class names of the others."""
    kind = type(error)
    name = safe.short_class_name(kind)
    try:
        args = BaseException.__dict__["args"].__get__(error)
    except Exception:
        return clip(name)
    if type(args) is not tuple:
        return clip(name)
    texts = [safe.safe_text(arg) for arg in args]
    own_str = safe.class_attr(kind, "__str__")
    if own_str in _EXCEPTION_STR and all(t is not None for t in texts):
        text = own_str(error)
    else:
        shown = [t if t is not None else safe.object_name(a) for t, a in zip(texts, args, strict=True)]
        text = ", ".join(shown)
    return clip(f"{name}: {text}" if text else name)


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
