"""Labels and argument descriptions, made without running the application's code.

Senders, instances, requests and every other argument value are shown as bounded, JSON-native text read
from the objects' real types and ``__dict__`` (see ``safe.py``), sensitive names masked (``masking.py``).

An instance is shown as ``app_label.Model #pk``, the pk read from the instance's ``__dict__``, followed by
the text its ``__str__`` would give when that can be computed without calling it (``str_reader.py``).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.apps import AppConfig
from django.db.models import Model, QuerySet
from django.utils.functional import LazyObject, Promise, empty

from dt_signals_panel import masking, safe, str_reader
from dt_signals_panel.conf import Config
from dt_signals_panel.formatting import clip

MASK = masking.MASK
MAX_ITEMS = 20
MAX_DEPTH = 3
#: What an argument that is still lazy is shown as: looking at it would evaluate it.
LAZY_OBJECT = "<lazy object, not evaluated>"
LAZY_VALUE = "<lazy value, not evaluated>"
_PK_LIMIT = 40


def instance_label(instance: Model, config: Config) -> str:
    """``app_label.Model #pk “text”``, from the instance's ``__dict__`` (never its ``__str__``); a credential
    model's label is its masked pk alone (:func:`masking.credential_label`)."""
    return masking.credential_label(instance, _label(instance, config))


def _label(instance: Model, config: Config) -> str:
    """``app_label.Model #pk “text”`` (or ``(unsaved)``); never raises, never runs the model's code."""
    cls = type(instance)
    meta = cls._meta
    try:
        values = safe.instance_dict(instance) or {}
        head = f"{meta.label} {pk_text(cls, values, config)}"
        text = str_reader.text_of(cls, values, config)
    except Exception:  # a model we cannot read statically: its label alone
        return str(meta.label)
    return f"{head} “{text}”" if text else head


def pk_value(cls: type[Model], values: dict[str, Any]) -> Any:
    """The pk as the instance holds it (``None`` when unsaved or deleted), without ``Model.pk``."""
    pk = cls._meta.pk
    return None if pk is None else values.get(pk.attname)


def pk_text(cls: type[Model], values: dict[str, Any], config: Config) -> str:
    """``#pk``, ``(unsaved)``; a pk whose own field name looks sensitive (a session key) is masked."""
    field = cls._meta.pk
    pk = pk_value(cls, values)
    if pk is None or field is None:
        return "(unsaved)"
    if not field.is_relation and (config.sensitive.search(field.name) or config.sensitive.search(field.attname)):
        return f"#{MASK}"
    text = safe.safe_text(pk)
    return f"#{clip(text, _PK_LIMIT)}" if text is not None else f"#<{safe.short_class_name(type(pk))}>"


#: Class senders' labels (a model's, most sends), keyed by id: no metaclass ``__hash__`` runs. The class is
#: kept with its label, so its id stays its own; bounded, for classes made per test.
_class_labels: dict[int, tuple[type, str]] = {}


def sender_label(sender: Any) -> str:
    """A model's label, a string sender as is, a class's dotted name, an app config's label; else the
    sender's class. Read without asking the sender anything (it may be lazy, or have a ``__getattr__``)."""
    known = _class_labels.get(id(sender))
    if known is not None and known[0] is sender:
        return known[1]
    try:
        label = _sender_label(sender)
    except Exception:  # a sender we cannot read statically: name its type, never fail the send
        return clip(safe.class_name(type(sender)))
    if type in safe.mro(type(sender)):
        if len(_class_labels) > 1000:
            _class_labels.clear()
        _class_labels[id(sender)] = (sender, label)
    return label


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


def type_name(obj: Any) -> str:
    return clip(safe.short_class_name(type(obj)), 60)


def request_label(request: Any) -> str:
    """Method and path only, for a request or anything wrapping one (DRF's ``Request``), read without
    running its code: the query string and body may carry the very secrets we mask, and a wrapper's
    ``str()`` shows the query string."""
    parts = masking.request_parts(request)
    return clip(f"{parts[0]} {parts[1]}") if parts is not None else "<request>"


def key_name(key: Any) -> str:
    """A dict key as text; a key that is no plain value is named by its class."""
    text = safe.safe_text(key)
    if text is not None:
        return clip(text, 60)
    bases = safe.mro(type(key))
    if LazyObject in bases or Promise in bases:
        return "<lazy>"
    return f"<{clip(safe.short_class_name(type(key)), 58)}>"


def describe(value: Any, config: Config, depth: int = 0) -> Any:
    """A bounded, JSON-native picture of any argument value. Runs none of the value's code: no ``str()`` but
    of a few exact types (:func:`safe.safe_text`), no lazy object evaluated, no queryset evaluated, no
    container's overridden methods. Never raises."""
    try:
        return _describe(value, config, depth)
    except Exception as error:  # a container that changed size while we read it, a recursion limit
        return f"<{safe.short_class_name(type(value))}> [could not be described: {type_name(error)}]"


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
    items = builtin_items(value, bases)
    if items is None:
        return safe.object_name(value)
    total, first = items
    described = [describe(v, config, depth + 1) for v in first]
    if set in bases or frozenset in bases:
        described.sort(key=str)
    return described + ([f"… {total - MAX_ITEMS} more"] if total > MAX_ITEMS else [])


def builtin_items(value: Any, bases: tuple[type, ...], limit: int = MAX_ITEMS) -> tuple[int, list[Any]] | None:
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
