"""Looking at an application's objects without running any of their code.

Labels and argument descriptions are made while the application's request runs, from objects the
application owns. Asking such an object anything through its own type (``isinstance`` reads ``__class__``,
``str()`` runs ``__str__``, ``getattr`` runs properties and ``__getattr__``) may run its code: a lazy
``request.user`` loads the session and the user, a ``__str__`` builds other models (which sends
``pre_init``/``post_init`` to the application's receivers) or queries, a ``cached_property`` caches what it
computed while we looked. So everything here reads an object through its *real* type (``type(obj)``, never
``obj.__class__``), through descriptors of builtin types only, and calls ``str()`` only on exact types whose
``__str__`` is the interpreter's or the standard library's.
"""

from __future__ import annotations

import datetime
import enum
import pathlib
import uuid
from decimal import Decimal
from types import GetSetDescriptorType, MemberDescriptorType, NoneType
from typing import Any
from zoneinfo import ZoneInfo

_MISSING: Any = object()
_MRO = type.__dict__["__mro__"]
_CLASS_DICT = type.__dict__["__dict__"]
_MODULE = type.__dict__["__module__"]
_QUALNAME = type.__dict__["__qualname__"]

#: Values that are their own JSON.
PLAIN = frozenset({NoneType, bool, int, float})
#: Exact types whose ``str()`` is the interpreter's or the standard library's and reads nothing but the value.
STR_SAFE = frozenset(
    {
        str,
        int,
        float,
        bool,
        NoneType,
        complex,
        Decimal,
        datetime.date,
        datetime.timedelta,
        datetime.timezone,
        uuid.UUID,
        pathlib.PurePosixPath,
        pathlib.PureWindowsPath,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    }
)
#: ``str()`` of a datetime or time calls its ``tzinfo.utcoffset()``: safe for these zones only.
_SAFE_ZONES = frozenset({NoneType, datetime.timezone, ZoneInfo})
_ZONED = frozenset({datetime.datetime, datetime.time})


def mro(cls: type) -> tuple[type, ...]:
    """``cls.__mro__`` read through ``type``'s own descriptor, whatever the metaclass says."""
    result: tuple[type, ...] = _MRO.__get__(cls)
    return result


def is_a(value: Any, base: type) -> bool:
    """``isinstance`` without asking the object: ``isinstance`` reads ``__class__``, which a lazy object
    answers by evaluating itself."""
    return base in _MRO.__get__(type(value))


def class_attr(cls: type, name: str, default: Any = None) -> Any:
    """The raw entry ``name`` of the first class in ``cls``'s MRO that has it (no descriptor is run)."""
    for klass in _MRO.__get__(cls):
        found = _CLASS_DICT.__get__(klass).get(name, default)
        if found is not default:
            return found
    return default


def class_name(cls: type) -> str:
    """``module.QualName`` of a class, through ``type``'s descriptors."""
    return f"{_MODULE.__get__(cls)}.{_QUALNAME.__get__(cls)}"


def short_class_name(cls: type) -> str:
    return str(_QUALNAME.__get__(cls))


def object_name(value: Any) -> str:
    """What we show for an object we will not ask anything: its class."""
    kind = type(value)
    module = _MODULE.__get__(kind)
    return f"<{_QUALNAME.__get__(kind)} object>" if module == "builtins" else f"<{class_name(kind)} object>"


#: type -> the interpreter's ``__dict__`` descriptor for its instances (``None``: no such descriptor). Asked
#: for every save the panel records, so kept per type; bounded, for projects that make classes on the fly.
_dict_getters: dict[type, Any] = {}


def instance_dict(value: Any) -> dict[str, Any] | None:
    """The object's own ``__dict__`` through the interpreter's descriptor; ``None`` when it has none or its
    class puts something of its own under that name."""
    kind = type(value)
    getter = _dict_getters.get(kind, _MISSING)
    if getter is _MISSING:
        getter = class_attr(kind, "__dict__")
        if type(getter) is not GetSetDescriptorType:
            getter = None
        if len(_dict_getters) > 1000:
            _dict_getters.clear()
        _dict_getters[kind] = getter
    if getter is None:
        return None
    found = getter.__get__(value)
    return found if type(found) is dict else None


def static_attr(value: Any, name: str, default: Any = None) -> Any:
    """``getattr`` that runs no property, ``__getattr__`` or ``__getattribute__`` of the application: the
    instance's ``__dict__`` first, then the class's entry, whose value is taken only when it is a slot or a
    builtin type's attribute (reading either runs no Python code)."""
    own = instance_dict(value)
    if own is not None and name in own:
        return own[name]
    found = class_attr(type(value), name, _MISSING)
    if found is _MISSING:
        return default
    if type(found) in (MemberDescriptorType, GetSetDescriptorType):
        try:
            return found.__get__(value, type(value))
        except AttributeError:  # an empty slot
            return default
    if callable(found) or type(found) in STR_SAFE:
        return found  # a plain class attribute: a method (unbound), a constant
    return default


def is_plain_value(value: Any) -> bool:
    """A value whose ``str()``, ``repr()`` and ``format()`` run no application code (a field value we may
    compute a label with)."""
    kind = type(value)
    return kind in STR_SAFE or (kind in _ZONED and type(value.tzinfo) in _SAFE_ZONES)


def safe_text(value: Any) -> str | None:
    """``str(value)`` when it is certain to run no application code; ``None`` otherwise."""
    kind = type(value)
    try:
        if kind is str:
            return value  # type: ignore[no-any-return]
        if kind in STR_SAFE:
            return str(value)
        if kind in _ZONED:
            if type(value.tzinfo) in _SAFE_ZONES:
                return str(value)
            return f"{value.replace(tzinfo=None)} ({class_name(type(value.tzinfo))})"
        bases = _MRO.__get__(kind)
        if enum.Enum in bases:
            own = instance_dict(value) or {}
            name = own.get("_name_")
            if type(name) is str:
                return f"{short_class_name(kind)}.{name}"
            shown = safe_text(own.get("_value_", _MISSING))
            return f"{short_class_name(kind)}({shown})" if shown is not None else None
        # Subclasses of the builtins (SafeString, a str or int subclass): the builtin's own method gives the
        # value without the subclass's overrides.
        if str in bases:
            return str.__str__(value)
        if int in bases:
            return int.__repr__(value)
        if float in bases:
            return float.__repr__(value)
    except (ValueError, TypeError, AttributeError, OverflowError):  # a 100,000-digit int, an odd zone
        return None
    return None


def bytes_length(value: Any) -> int | None:
    """The length of a bytes-like value, through the builtin's own ``__len__``."""
    bases = _MRO.__get__(type(value))
    for base in (bytes, bytearray, memoryview):
        if base in bases:
            return int(base.__len__(value))
    return None
