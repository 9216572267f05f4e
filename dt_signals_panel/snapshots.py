"""The last known state of a row, so a save can say which fields it changed.

Django keeps no dirty state, and asking the database would change what the request does. So while a
capture is open we keep the state an instance was initialised with, and again the state after each save, in
the instance's own ``__dict__`` under a key no field can have: it lives and dies with the instance, so
recording a million rows keeps nothing alive and nothing in the recording grows. (Not on ``_state``: a new
key there turns each ``ModelState``'s shared-key dict into a dict of its own, which cost more than the rest
of the snapshot.) Only field *names* ever leave this module, never values: a password
hash is a field too.

A row loaded from the database is initialised positionally, one value per concrete field, and ``pre_init``
hands us that very tuple: keeping a reference to it costs no copy, which matters because it happens for every
row loaded. Anything else is initialised by keyword and gets a copy of its ``__dict__`` (a C-level copy, no
``str()``, no query).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model

from dt_signals_panel import safe

_KEY = "_dt_signals_panel_state"
_MISSING = object()


def remember_values(instance: Any, values: tuple[Any, ...]) -> None:
    """At ``post_init`` of an instance built from positional ``values`` only: a row as loaded, in
    ``concrete_fields`` order. Checked against the fields only when a save asks (see :func:`_known`)."""
    if safe.is_a(instance, Model):  # a hand-made send: never write into someone else's object (nor evaluate a lazy one)
        instance.__dict__[_KEY] = values


def _known(instance: Model) -> dict[str, Any] | None:
    known = instance.__dict__.get(_KEY)
    if isinstance(known, tuple):
        fields = instance._meta.concrete_fields
        if len(known) != len(fields):  # built from a few positional values: no state we can trust
            return None
        known = {field.attname: value for field, value in zip(fields, known, strict=True)}
        instance.__dict__[_KEY] = known
    return known if isinstance(known, dict) else None


def remember_loaded(instance: Any) -> None:
    """At ``post_init`` of an instance built by keyword, and after a full save: its state now. Never raises."""
    if not safe.is_a(
        instance, Model
    ):  # a hand-made send: never write into someone else's object (nor evaluate a lazy one)
        return
    try:
        known = instance.__dict__.copy()
        # Without _state in the copy there is no reference cycle, and without the previous snapshot no chain of
        # them: the copy dies with the instance.
        known.pop("_state", None)
        known.pop(_KEY, None)
        instance.__dict__[_KEY] = known
    except Exception:  # not a model instance, or one without a writable ``__dict__``
        pass


def remember_saved(instance: Model, update_fields: Iterable[str] | None) -> None:
    """At ``post_save``: the database now holds what was written. Never raises (a hand-made send may pass
    an ``update_fields`` that is no iterable of names): the send goes on as without the panel."""
    try:
        _remember_saved(instance, update_fields)
    except Exception:
        remember_loaded(instance)


def _remember_saved(instance: Model, update_fields: Iterable[str] | None) -> None:
    known = None if update_fields is None else _known(instance)
    if known is None or update_fields is None:
        remember_loaded(instance)
        return
    attnames = _attnames(instance, update_fields)
    for name in attnames:
        known[name] = instance.__dict__.get(name, _MISSING)


def changed_fields(instance: Model, update_fields: Iterable[str] | None) -> list[str] | None:
    """Names of the concrete fields (limited to ``update_fields`` when given) whose value differs from the
    last known state; ``None`` when there is no state to compare with (a new row, or loaded outside the
    capture)."""
    known = _known(instance)
    if known is None or instance._state.adding:
        return None
    current = instance.__dict__
    wanted = None if update_fields is None else set(update_fields)
    changed = []
    for field in instance._meta.concrete_fields:
        if wanted is not None and field.name not in wanted and field.attname not in wanted:
            continue
        name = field.attname
        if name not in current:  # deferred and never set: the save will not write it
            continue
        before = known.get(name, _MISSING)
        try:
            same = before is current[name] or bool(before == current[name])
        except Exception:  # an __eq__ that raises (arrays, odd types): call it changed
            same = False
        if not same:
            changed.append(field.name)
    return changed


def _attnames(instance: Model, names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [f.attname for f in instance._meta.concrete_fields if f.name in wanted or f.attname in wanted]
