"""One send turned into one event: a JSON-ready dict of its arguments, the row it touches, its receivers
and where it was sent from.

Everything here runs at send time, inside the user's request, so it must never raise, never query and never
keep a reference to a model instance, request or user: djdt serialises stats to JSON and may render them
later, in another request, on the event loop. And it never runs the application's code: values are shown
through ``labels.py`` (which reads them through ``safe.py``), credentials judged by ``credentials.py``,
masked values kept from every other text of the event by ``masking.py``.
"""

from __future__ import annotations

import linecache
import re
import sys
from types import CodeType, FrameType, FunctionType, MethodType
from typing import Any

from django.db.models import Model

from dt_signals_panel import credentials, labels, masking, queries, row_state, safe
from dt_signals_panel.conf import Config
from dt_signals_panel.formatting import clip, show
from dt_signals_panel.shapes import Event, ReceiverRow, RowKey

#: The arguments a light event keeps (see :func:`build`): what the findings read.
LIGHT_ARGUMENTS = frozenset({"raw", "created", "using", "update_fields", "credentials", "instance"})
#: Receivers listed per event.
MAX_RECEIVERS = 50
#: Arguments shown as a sorted list of names, so the same set always reads the same.
NAME_LISTS = ("update_fields", "pk_set")
#: Arguments with a treatment of their own in :func:`_build`, whatever their value.
_SPECIAL = frozenset({*NAME_LISTS, "credentials", "instance"})


#: Per model class, keyed by id (a metaclass's own ``__hash__`` never runs): the class itself (so the id stays
#: its own), the concrete model's label and the pk's attribute name. Bounded, for models made per test.
_models: dict[int, tuple[type, str, str | None]] = {}
#: Integer pks shown by ``str()`` at once: far below the digits limit of int-to-text conversion.
_SHORT_INT = 10**30


def _model_facts(cls: type[Model]) -> tuple[type, str, str | None]:
    facts = _models.get(id(cls))
    if facts is None or facts[0] is not cls:
        meta = cls._meta
        concrete = meta.concrete_model or cls
        facts = (cls, concrete._meta.label, None if meta.pk is None else meta.pk.attname)
        if len(_models) > 1000:
            _models.clear()
        _models[id(cls)] = facts
    return facts


def row_key(instance: Model, sensitive: re.Pattern[str] | None = None) -> RowKey | None:
    """The row a save or delete touches, as the redundant-save finding keys it (pk from ``__dict__``)."""
    _, label, attname = _model_facts(type(instance))
    values = safe.instance_dict(instance)
    if attname is None or values is None:
        return None
    pk = values.get(attname)
    if pk is None:
        return None
    shown = masking.shown_pk(instance, pk, sensitive)
    if shown is None:
        if type(pk) is int and -_SHORT_INT < pk < _SHORT_INT:
            shown = str(pk)
        else:
            text = safe.safe_text(pk)
            shown = clip(text if text is not None else safe.object_name(pk), 40)
    return {"model": label, "pk": shown}


def build(name: str, sender: str, named: dict[str, Any], config: Config, *, detailed: bool = True) -> Event:
    """The event for one send. Argument order is the order Django sends them in. A *light* event
    (``detailed=False``: a send the panel only counts and sums up by call site) is the same event with the
    costly parts left out: the instance's label, the text of the arguments the findings do not read
    (:data:`LIGHT_ARGUMENTS`), and (in the recorder) the stack. Never raises: whatever the arguments do, the
    send goes on exactly as without the panel."""
    try:
        return _build(name, sender, named, config, detailed)
    except Exception as error:
        note = f"arguments could not be described: {labels.type_name(error)}"
        fallback: Event = {"signal": name, "sender": sender, "args": {"…": note}}
        if not detailed:
            fallback["light"] = True
        return fallback


def _build(name: str, sender: str, named: dict[str, Any], config: Config, detailed: bool) -> Event:
    arguments: dict[str, Any] = {}
    event: Event = {"signal": name, "sender": sender, "args": arguments}
    if not detailed:
        event["light"] = True
    # Raw values masked for this send; scrubbed from every other text of the event (masking.hold).
    masked: list[str] = []
    sensitive_names = _sensitive_names_of(config.sensitive)
    for key, value in named.items():
        if not detailed and key not in LIGHT_ARGUMENTS:
            continue
        kind = type(value)
        if kind in _PLAIN and (key not in _SPECIAL or (kind is _NONE_TYPE and key in NAME_LISTS)):
            # ``raw``, ``created``, ``using``, ``update_fields=None``...: what most arguments of most sends are,
            # shown as they are (as the general path below would show them), without its cost.
            looks_sensitive = sensitive_names.get(key)
            if looks_sensitive is None:
                looks_sensitive = _judge_name(sensitive_names, config.sensitive, key)
            if not looks_sensitive:
                arguments[key] = clip(value) if kind is str else value
                continue
        elif not detailed and key == "instance":
            # A light event's instance: its row only (read as the general path below reads it).
            if safe.is_a(value, Model):
                row = row_key(value, config.sensitive)
                if row is not None:
                    event["row"] = row
            continue
        if detailed:
            masking.collect_credential_pk(value, masked, config.sensitive)
        shown = _names(value, config) if key in NAME_LISTS else None
        if key == "credentials":  # the credentials finding must see every one, light or not
            event["credentials"] = credentials.report(value, sender, config, masked)
        elif shown is not None:
            # Only the first MAX_ITEMS are kept.
            extra = [f"… {len(shown) - labels.MAX_ITEMS} more"] if len(shown) > labels.MAX_ITEMS else []
            arguments[key] = shown[: labels.MAX_ITEMS] + extra
        elif key == "instance" and safe.is_a(value, Model):
            if detailed:
                arguments[key] = labels.instance_label(value, config)
            row = row_key(value, config.sensitive)
            if row is not None:
                event["row"] = row
        elif not detailed and key == "instance":
            continue
        elif _sensitive_argument(key, config) and key not in ("using", "origin"):
            arguments[key] = masking.MASK
            masking.collect(value, masked)
        else:
            arguments[key] = labels.describe(value, config)
            if detailed:
                masking.collect_sensitive(value, config.sensitive, masked)
    if "row" in event:
        event["row"]["using"] = arguments.get("using")
    masking.hold(event, masked)
    return event


#: Per sensitive-names pattern: argument name -> whether it looks sensitive. A send's names are a handful of
#: strings, and searching the pattern is most of the cost of a light event. Bounded, for hand-made sends.
_sensitive_names: dict[re.Pattern[str], dict[str, bool]] = {}
_NONE_TYPE = type(None)
#: Argument values shown as they are: ``None``, booleans and (clipped) strings.
_PLAIN = frozenset({_NONE_TYPE, bool, str})


def _sensitive_names_of(pattern: re.Pattern[str]) -> dict[str, bool]:
    found = _sensitive_names.get(pattern)
    if found is None:
        if len(_sensitive_names) > 10:
            _sensitive_names.clear()
        found = _sensitive_names[pattern] = {}
    return found


def _judge_name(known: dict[str, bool], pattern: re.Pattern[str], key: str) -> bool:
    if len(known) > 1000:
        known.clear()
    found = known[key] = bool(pattern.search(key))
    return found


def _sensitive_argument(key: str, config: Config) -> bool:
    known = _sensitive_names_of(config.sensitive)
    found = known.get(key)
    return _judge_name(known, config.sensitive, key) if found is None else found


def _names(value: Any, config: Config) -> list[Any] | None:
    """``update_fields``/``pk_set`` sorted in full, so the same set always reads the same; ``None`` when it
    is no builtin collection."""
    items = labels.builtin_items(value, safe.mro(type(value)), limit=sys.maxsize)
    if items is None:
        return None
    return sorted((labels.describe(v, config, 1) for v in items[1]), key=str)


def note_changes(event: Event, instance: Model, update_fields: Any, rows: row_state.Rows, using: Any) -> None:
    """At ``pre_save``, once the event is built: the names of the fields this save may change, judged from the
    row state of the recording the event belongs to (``rows``), for the redundant-save findings. Nothing when
    the panel cannot know. Never raises: a hand-made send may pass anything."""
    try:
        changed = row_state.changed_fields(instance, update_fields, rows, using)
    except Exception:
        return
    if changed is not None:
        event["changed"] = changed
        event["field_count"] = row_state.field_count(type(instance))


def init_example(name: str, named: dict[str, Any], config: Config) -> dict[str, Any]:
    """The first pre_init/post_init of a model, summarised: raw column values (password hashes among them)
    are counted, never shown."""
    if name == "pre_init":
        args = named.get("args")
        kwargs: Any = named.get("kwargs")
        count = len(args) if type(args) is tuple else 0
        return {
            "args": f"{count} positional value{'s' if count != 1 else ''}",
            "positional": count,
            "kwargs": labels.describe_mapping(kwargs, config, 1) if safe.is_a(kwargs, dict) else {},
        }
    return {}


#: Plain functions' names, by their code object's id: the code (not the function, which a weak receiver
#: must be free to lose) is kept so the id stays its own, with the module and qualname the name was made of.
_function_names: dict[int, tuple[CodeType, str, str, tuple[str, str]]] = {}


def receiver_name(receiver: Any) -> tuple[str, str]:
    """``module.qualname`` and ``file:line`` of a receiver, looking through decorators and partials. Read
    through :func:`safe.static_attr`: a receiver's properties and ``__getattr__`` never run."""
    func = receiver
    if type(func) is MethodType:
        func = func.__func__
    # The common case, a plain function or method: its name and code are the interpreter's own attributes
    # (no descriptor of the application's can stand in front of them), read without the static lookups.
    if type(func) is FunctionType and "__wrapped__" not in func.__dict__:
        module, qualname, code = func.__module__, func.__qualname__, func.__code__
        if type(module) is str:
            known = _function_names.get(id(code))
            if known is not None and known[0] is code and known[1] is module and known[2] is qualname:
                return known[3]
            found = clip(f"{module}.{qualname}"), f"{code.co_filename}:{code.co_firstlineno}"
            if len(_function_names) > 1000:
                _function_names.clear()
            _function_names[id(code)] = (code, module, qualname, found)
            return found
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


def describe_receivers(responses: list[Any], timings: list[Any]) -> list[ReceiverRow]:
    """The receivers that ran, in order, each with its own time when we could measure it."""
    if len(timings) == 1:  # one receiver ran: the common case, without the lookup table
        only = timings[0]
        spent = None
    else:
        only, spent = None, {id(timing[0]): timing for timing in timings}
    rows: list[ReceiverRow] = []
    for item in responses if len(responses) <= MAX_RECEIVERS else responses[:MAX_RECEIVERS]:
        try:
            receiver, response = item
        except (TypeError, ValueError):
            continue
        name, where = receiver_name(receiver)
        row: ReceiverRow = {"name": name, "where": where}
        if spent is None:
            timing = only if only is not None and only[0] is receiver else None
        else:
            timing = spent.get(id(receiver))
        if timing is not None:
            row["ms"] = round(timing[1] * 1000, 3)
            if timing[2] is None:  # an async receiver whose thread was not observed all along (queries.covered)
                row["queries_not_measured"] = True
            else:
                row.update(queries.describe(timing[2]))  # the SQL it ran (issue 16); nothing when it ran none
        if response is not None and safe.is_a(response, BaseException):  # never ask a return value's __class__
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


#: Locals shown per frame when djdt's ``ENABLE_STACKTRACES_LOCALS`` is on.
MAX_LOCALS = 20


def stack_of(
    frame: FrameType | None, hidden: tuple[str, ...], config: Config | None = None, masked: list[str] | None = None
) -> list[list[Any]]:
    """Frames from the outermost to the send, as djdt's ``render_stacktrace`` expects them. With ``config``
    and its ``stack_locals`` (djdt's ``ENABLE_STACKTRACES_LOCALS``), each frame's locals as text (see
    :func:`locals_text`); the raw values masked there are added to ``masked``."""
    with_locals = config is not None and config.stack_locals
    trace = []
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not any(module == h or module.startswith(h + ".") for h in hidden):
            code = frame.f_code
            source = linecache.getline(code.co_filename, frame.f_lineno, frame.f_globals).strip()
            shown = locals_text(frame, config, masked) if with_locals and config is not None else None
            trace.append([code.co_filename, frame.f_lineno, code.co_name, source, shown])
        frame = frame.f_back
    trace.reverse()
    return trace


def locals_text(frame: FrameType, config: Config, masked: list[str] | None = None) -> str:
    """A frame's locals, one ``name = value`` a line, for djdt's locals block. djdt's own rendering
    (``pprint`` of ``f_locals``) calls every value's ``__repr__``, which runs the application's code (a
    model's ``__repr__`` calls its ``__str__``); so values are shown as arguments are (``labels.describe``),
    a local whose name looks sensitive is masked, and every value masked is added to ``masked`` so that no
    other text of the request echoes it."""
    secrets: list[str] = [] if masked is None else masked
    lines: list[str] = []
    try:
        found = list(frame.f_locals.items())
    except Exception:  # a frame whose locals cannot be read: no locals block
        return ""
    for name, value in found:
        if type(name) is not str or name.startswith("__"):
            continue
        if len(lines) >= MAX_LOCALS:
            lines.append(f"… {len(found) - MAX_LOCALS} more")
            break
        if config.sensitive.search(name):
            shown: Any = masking.MASK
            masking.collect(value, secrets)
        else:
            shown = labels.describe(value, config)
            masking.collect_credential_pk(value, secrets, config.sensitive)
            masking.collect_sensitive(value, config.sensitive, secrets)
        lines.append(f"{name} = {show(shown)}")
    text = "\n".join(lines)
    scrub = masking.scrubber(secrets)
    return scrub(text) if scrub is not None else text
