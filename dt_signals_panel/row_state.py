"""The last known state of a row, so a save can say which fields it changed, and when it cannot know.

Django keeps no dirty state, and asking the database would change what the request does. So while a capture
is open we keep the values a row was loaded with, and again the values after each save. They are kept
*outside* the instance, in each open recording's :class:`Rows`, keyed by ``id(instance)`` and held through a
weak reference whose callback drops the entry when the instance dies: nothing is written on the instance
(pickle, ``copy``, ``deepcopy``, ``vars()`` and ``__eq__`` see exactly what they see without the panel), an
instance is never kept alive, and a recording's row state is dropped when it closes. Not a
``WeakKeyDictionary``: it hashes its keys, and ``Model.__hash__`` raises for an unsaved instance and equates
two instances of one row; identity is what we need. Only field *names* ever leave this module, never values:
a password hash is a field too.

A row loaded from the database is initialised positionally, one value per concrete field, and ``pre_init``
hands us that very tuple: keeping a reference to it costs no copy, which matters because it happens for every
row loaded. An instance built by keyword is a new row or a hand-made one: its values say nothing of what the
database holds, so it has no state until it is saved.

A comparison claims "unchanged" only when it can know (see :func:`changed_fields`): the value kept must be of a
type that cannot change in place, the field's ``pre_save`` must not compute the value during the save, and no
other instance may have written the row since the state was taken (per-row write stamps). Anything else is
"changed" or "unknown", and an unknown comparison gives no finding.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

from django.db.models import DEFERRED, DateField, DateTimeField, Field, Model, TimeField

from dt_signals_panel import safe

_MISSING = object()
#: Types whose values cannot change in place: a value of these kept from the load is what the row held.
IMMUTABLE = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
    }
)
#: ``pre_save`` methods known not to change the value (the date ones only without ``auto_now``).
_PURE_PRE_SAVE = (Field.pre_save,)
_DATE_PRE_SAVE = (DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save)
#: Distinct rows whose last write a recording remembers; past it, every older state counts as stale.
MAX_WRITES = 10_000

#: Stamps order writes and states across the process: a state older than its row's last write is stale.
_stamps = itertools.count(1)
_latest = 0


class Row(weakref.ref):  # type: ignore[type-arg]
    """One instance's known state: a weak reference to the instance (its callback drops the entry) carrying
    the values, the stamp they were taken at, and the recordings that hold it."""

    __slots__ = ("key", "owners", "stamp", "values")
    key: int
    values: tuple[Any, ...] | dict[str, Any]
    stamp: int
    owners: tuple[Any, ...]


class Rows:
    """One recording's row state: ``id(instance) -> Row``, and the stamp of each row's last write."""

    __slots__ = ("floor", "limit", "states", "writes")

    def __init__(self, limit: int) -> None:
        self.states: dict[int, Row] = {}
        self.writes: dict[tuple[Any, ...], int] = {}
        self.floor = 0
        # Instances alive at once whose state is kept. A recording keeps at most this many events (MAX_EVENTS),
        # so a page that holds more rows than that could not show their saves' findings anyway; past it a row
        # costs the hot path one len().
        self.limit = limit

    def close(self) -> None:
        """Drop everything; a thread still running in the closed recording's context keeps nothing either."""
        self.states = _Closed()
        self.writes = {}
        self.limit = 0


class _Closed(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def _forget(state: Row) -> None:
    """The instance died: its entries go (the same id may be reused by the next object)."""
    for owner in state.owners:
        states = owner.rows.states
        if states.get(state.key) is state:
            states.pop(state.key, None)


def remember_values(recordings: tuple[Any, ...], instance: Any, values: tuple[Any, ...]) -> None:
    """At ``post_init`` of an instance built from positional ``values`` only: a row as loaded, in
    ``concrete_fields`` order. Checked against the fields only when a save asks (see :func:`changed_fields`).
    The hot path: one weak reference shared by the open recordings, each a dict entry, while under its
    limit."""
    state = None
    for recording in recordings:
        rows = recording.rows
        if len(rows.states) >= rows.limit:
            continue
        if state is None:
            try:
                state = Row(instance, _forget)
            except TypeError:  # a hand-made send's instance that takes no weak reference: nothing to remember
                return
            state.key = id(instance)
            state.values = values
            state.stamp = _latest
            state.owners = recordings
        rows.states[state.key] = state


def _new_stamp() -> int:
    global _latest
    stamp = next(_stamps)
    _latest = max(_latest, stamp)
    return stamp


#: model class -> (its concrete model, its pk's attribute name): asked on every save.
_keys: dict[type, tuple[Any, str]] = {}


def _row_key(instance: Model, using: Any) -> tuple[Any, ...] | None:
    """(concrete model, database, pk), or ``None`` for anything a hand-made send may pass that is not a row
    (hashing or comparing a user's object would run its code). The pk is read from ``__dict__`` (through the
    interpreter's descriptor, never a ``__getattribute__`` of the model's), where ``Model.pk`` reads it."""
    model = type(instance)
    facts = _keys.get(model)
    if facts is None:
        meta = instance._meta
        facts = _keys[model] = (meta.concrete_model, meta.pk.attname)
    values = safe.instance_dict(instance)
    pk = None if values is None else values.get(facts[1])
    if type(using) is not str or type(pk) not in IMMUTABLE or pk is None:
        return None
    return (facts[0], using, pk)


def _field_names(update_fields: Any) -> frozenset[Any]:
    """Django passes ``None`` or a frozenset; anything else (a generator would be used up) is not read. Read
    by its real type and the builtin's own iteration: ``isinstance`` would evaluate a lazy object, and a
    subclass's ``__iter__`` is the application's code."""
    bases = safe.mro(type(update_fields))
    for base in (frozenset, set, list, tuple):
        if base in bases:
            return frozenset(base.__iter__(update_fields))
    raise TypeError("update_fields")


def _note_write(rows: Rows, row: tuple[Any, ...], stamp: int) -> None:
    writes = rows.writes
    if row not in writes and len(writes) >= MAX_WRITES:
        # Bounded memory: forget which rows were written, and trust no state taken before now.
        rows.writes = writes = {}
        rows.floor = stamp
    writes[row] = stamp


def note_deleted(recordings: tuple[Any, ...], instance: Any, using: Any) -> None:
    """At ``post_delete``: a later save through any instance of this row inserts it again. Never raises."""
    try:
        if issubclass(type(instance), Model):
            row = _row_key(instance, using)
            if row is not None:
                stamp = _new_stamp()
                for recording in recordings:
                    _note_write(recording.rows, row, stamp)
    except Exception:
        pass


def remember_saved(recordings: tuple[Any, ...], instance: Any, update_fields: Any, using: Any) -> None:
    """At ``post_save``: the database now holds what was written, and any other instance of this row is
    stale. Never raises (a hand-made send may pass anything): the send goes on as without the panel."""
    try:
        _remember_saved(recordings, instance, update_fields, using)
    except Exception:
        key = id(instance)
        for recording in recordings:
            recording.rows.states.pop(key, None)


def _remember_saved(recordings: tuple[Any, ...], instance: Any, update_fields: Any, using: Any) -> None:
    if not issubclass(type(instance), Model):
        return
    row = _row_key(instance, using)
    key = id(instance)
    stamp = _new_stamp()
    current = instance.__dict__
    if update_fields is None:
        values = current.copy()
        values.pop("_state", None)
        state = _state_of(instance, values, stamp, recordings)
        for recording in recordings:
            rows = recording.rows
            if row is not None:
                _note_write(rows, row, stamp)
            if key in rows.states or len(rows.states) < rows.limit:
                rows.states[key] = state
        return
    attnames = _attnames(instance, _field_names(update_fields))
    for recording in recordings:
        rows = recording.rows
        # Only fields named were written: the others are known only if this recording knew them until now.
        known = _current_state(rows, instance, using, row)
        if row is not None:
            _note_write(rows, row, stamp)
        if known is None:
            rows.states.pop(key, None)
            continue
        updated = dict(known)
        for name in attnames:
            updated[name] = current.get(name, _MISSING)
        rows.states[key] = _state_of(instance, updated, stamp, (recording,))


def _state_of(instance: Model, values: dict[str, Any], stamp: int, owners: tuple[Any, ...]) -> Row:
    state = Row(instance, _forget)
    state.key = id(instance)
    state.values = values
    state.stamp = stamp
    state.owners = owners
    return state


def _current_state(rows: Rows, instance: Model, using: Any, row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """The values this recording knows the row holds, or ``None``: no state, a state of another instance at
    the same address, another database, or a row written through another instance since."""
    state = rows.states.get(id(instance))
    if state is None or state() is not instance or row is None:
        return None
    if using != instance._state.db or state.stamp < rows.floor or rows.writes.get(row, 0) > state.stamp:
        return None
    values = state.values
    if isinstance(values, tuple):
        fields = instance._meta.concrete_fields
        if len(values) != len(fields):  # built from a few positional values: no state we can trust
            return None
        values = {field.attname: value for field, value in zip(fields, values, strict=True)}
    return values


#: model class -> ((field name, attname, whether pre_save may change the value, primary key), ...)
_fields: dict[type, tuple[tuple[str, str, bool, bool], ...]] = {}


def _fields_of(model: type[Model]) -> tuple[tuple[str, str, bool, bool], ...]:
    found = _fields.get(model)
    if found is None:
        found = _fields[model] = tuple(
            (field.name, field.attname, not _pure_pre_save(field), bool(field.primary_key))
            for field in model._meta.concrete_fields
        )
    return found


_field_counts: dict[type, int] = {}


def field_count(model: type[Model]) -> int:
    """The concrete fields a full save of ``model`` writes (its pk aside)."""
    found = _field_counts.get(model)
    if found is None:
        found = _field_counts[model] = sum(1 for field in _fields_of(model) if not field[3])
    return found


def _pure_pre_save(field: Any) -> bool:
    """Whether ``field.pre_save`` returns the value as it is, for a save of an existing row. A field class
    that overrides it (a file committed on save, a slug computed, a third-party timestamp) may write a value
    the instance did not hold when ``pre_save`` was sent."""
    method = getattr(type(field), "pre_save", None)
    if method in _PURE_PRE_SAVE:
        return True
    if method in _DATE_PRE_SAVE:
        return not getattr(field, "auto_now", False)
    return False


def _immutable(value: Any) -> bool:
    if type(value) in IMMUTABLE:
        return True
    if type(value) is memoryview:  # PostgreSQL's bytea: immutable when it shows bytes
        try:
            return value.readonly and type(value.obj) is bytes
        except ValueError:  # released
            return False
    return False


def changed_fields(instance: Model, update_fields: Iterable[str] | None, rows: Rows, using: Any) -> list[str] | None:
    """Names of the concrete fields (limited to ``update_fields`` when given) this save may change: values
    that differ from the last known state, and fields whose ``pre_save`` sets the value. ``None`` when the
    panel cannot know: no state to compare with (a new row, one loaded outside this capture, or written
    through another instance since), or a kept value of a type that can change in place (a ``JSONField``
    dict) that still compares equal. Never runs user code: only values of immutable built-in types are
    compared."""
    if instance._state.adding:
        return None
    known = _current_state(rows, instance, using, _row_key(instance, using))
    if known is None:
        return None
    current = instance.__dict__
    wanted = None if update_fields is None else _field_names(update_fields)
    changed = []
    for name, attname, impure, primary_key in _fields_of(type(instance)):
        if wanted is not None and name not in wanted and attname not in wanted:
            continue
        if attname not in current:  # deferred and never set: the save will not write it
            continue
        before, after = known.get(attname, _MISSING), current[attname]
        if before is _MISSING or before is DEFERRED:  # never known (deferred at load): the save writes it
            changed.append(name)
            continue
        if not _immutable(before):
            if before is after or not _immutable(after):
                return None  # maybe changed in place: the panel cannot tell
            changed.append(name)  # a mutable value replaced by an immutable one
            continue
        if primary_key and before is not after and not (_immutable(after) and before == after):
            return None  # another row
        if impure:
            changed.append(name)
        elif before is after:
            continue
        elif not _immutable(after) or before != after:
            changed.append(name)  # an expression, a lazy value, an object of the user's: never compared
    return changed


def _attnames(instance: Model, wanted: frozenset[Any]) -> list[str]:
    return [f.attname for f in instance._meta.concrete_fields if f.name in wanted or f.attname in wanted]
