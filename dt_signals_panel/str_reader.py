"""A model's ``__str__`` read from its source, so the panel can show its text without calling it.

Calling the model's ``__str__`` would run the application's code in the middle of its own request: a
``__str__`` that builds another model (django-simple-history's historical records do) sends
``pre_init``/``post_init`` to the application's receivers, one that queries changes the SQL (or, refused,
makes a ``cached_property`` cache a fallback), one that reads a lazy ``request.user`` loads the session. So
the panel never calls it. Instead it reads the source of the model's ``__str__`` once per class; when the
whole body is one ``return`` of field values put together with constant text (``self.name``,
``str(self.id)``, an f-string, ``%``, ``+`` or ``.format()``), it computes the same text itself from the
values already in the instance's ``__dict__``. Anything else (a relation, a method call, a deferred field, a
value that is not a plain primitive) gives no text, and the label is the pk alone.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import string
import textwrap
import weakref
from collections.abc import Callable
from types import FunctionType
from typing import Any

from django.db.models import Model

from dt_signals_panel import safe
from dt_signals_panel.conf import Config
from dt_signals_panel.formatting import clip
from dt_signals_panel.masking import MASK

MAX_LABEL_TEXT = 120


class _NoText(Exception):
    """This instance's ``__str__`` cannot be had without running the application's code."""


#: A compiled ``__str__``: called with the instance's ``__dict__`` and the config, returns the text.
Plan = Callable[[dict[str, Any], Config], str]

_plans: weakref.WeakKeyDictionary[type, Plan | None] = weakref.WeakKeyDictionary()


def text_of(cls: type[Model], values: dict[str, Any], config: Config) -> str | None:
    """What ``str()`` of an instance of ``cls`` holding ``values`` would give, computed without calling it;
    ``None`` when it cannot be."""
    plan = _plans.get(cls, _UNKNOWN)
    if plan is _UNKNOWN:
        try:
            plan = _plan_for(cls)
        except Exception:  # source we cannot read or parse: pk-only, for good
            plan = None
        _plans[cls] = plan
    if plan is None:
        return None
    try:
        text = plan(values, config)
    except (_NoText, ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None
    return clip(text, MAX_LABEL_TEXT)


_UNKNOWN: Any = object()


# -- reading __str__ --------------------------------------------------------------------------------------
def _plan_for(cls: type[Model]) -> Plan | None:
    func = safe.class_attr(cls, "__str__")
    if type(func) is not FunctionType or func is Model.__str__:
        return None  # Django's default (the pk, already shown), a builtin, a descriptor
    if "__wrapped__" in func.__dict__:
        return None  # decorated: the source we would read is not what runs
    code = func.__code__
    if code.co_argcount != 1 or code.co_kwonlyargcount or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    # The file itself, never ``inspect.getsource``: that walks ``sys.modules`` (a module's ``__getattr__``)
    # and may ask an import loader for the source.
    lines = linecache.getlines(code.co_filename)
    if not lines or code.co_firstlineno > len(lines):
        return None
    source = textwrap.dedent("".join(inspect.getblock(lines[code.co_firstlineno - 1 :])))
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    definition = tree.body[0]
    if definition.decorator_list or not _same_code(source, func):
        return None  # a decorator, or a file changed since it was imported
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    reader = _Reader(cls, definition.args.args[0].arg, func.__globals__)
    node = reader.text(body[0].value)
    return None if node is None else node


def _same_code(source: str, func: FunctionType) -> bool:
    """The source we parsed compiles to the bytecode that runs (a file edited since import does not)."""
    module = compile(source, func.__code__.co_filename, "exec", dont_inherit=True)
    for const in module.co_consts:
        if hasattr(const, "co_code") and const.co_name == func.__code__.co_name:
            return bool(const.co_code == func.__code__.co_code and const.co_names == func.__code__.co_names)
    return False


_Value = Callable[[dict[str, Any], Config], Any]


class _Reader:
    """Turns the expression a ``__str__`` returns into a plan, or ``None`` when it could run any code."""

    def __init__(self, cls: type[Model], self_name: str, module_globals: dict[str, Any]) -> None:
        self.cls = cls
        self.self_name = self_name
        # ``str`` in ``str(self.x)`` is the builtin only if the module does not rebind it.
        self.str_is_builtin = module_globals.get("str", str) is str
        fields: dict[str, tuple[str, str]] = {}
        for field in cls._meta.concrete_fields:
            if not field.is_relation:
                fields[field.name] = (field.attname, field.name)
            if field.attname != field.name or not field.is_relation:
                fields[field.attname] = (field.attname, field.name)
        self.fields = fields

    def text(self, node: ast.expr) -> Plan | None:
        """A plan for an expression whose value is a ``str``."""
        if isinstance(node, ast.Constant) and type(node.value) is str:
            constant = node.value
            return lambda values, config: constant
        field = self.field(node)
        if field is not None:
            return lambda values, config: _must_be_str(field(values, config))
        if isinstance(node, ast.Call) and not node.keywords:
            return self.call(node)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.text(node.left), self.text(node.right)
            if left is None or right is None:
                return None
            return lambda values, config: left(values, config) + right(values, config)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self.percent(node)
        return None

    def field(self, node: ast.expr) -> _Value | None:
        """``self.<field>``: the value in ``__dict__`` (a concrete field, never a relation's object)."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        if node.value.id != self.self_name:
            return None
        names = self.fields.get(node.attr)
        if names is None and node.attr == "pk" and safe.class_attr(self.cls, "pk") is Model.__dict__["pk"]:
            pk = self.cls._meta.pk
            names = None if pk is None else (pk.attname, pk.name)
        if names is None:
            return None
        attname, name = names

        def read(values: dict[str, Any], config: Config) -> Any:
            value = values.get(attname, _ABSENT)  # absent: deferred, never loaded
            if value is _ABSENT or not safe.is_plain_value(value):
                raise _NoText
            if config.sensitive.search(name) or config.sensitive.search(attname):
                return MASK
            return value

        return read

    def call(self, node: ast.Call) -> Plan | None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "str" and self.str_is_builtin and len(node.args) == 1:
            inner = self.value(node.args[0])
            if inner is None:
                return None
            return lambda values, config: str(inner(values, config))
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Constant)
            and type(func.value.value) is str
            and func.attr == "format"
        ):
            return self.format_call(func.value.value, node.args)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.self_name
            and func.attr == "get_username"
            and not node.args
        ):
            return self.username()
        return None

    def value(self, node: ast.expr) -> _Value | None:
        """A field value or a constant, for ``str()``, ``%`` and ``.format()``."""
        if isinstance(node, ast.Constant) and type(node.value) in (str, int, float):
            constant = node.value
            return lambda values, config: constant
        return self.field(node)

    def fstring(self, node: ast.JoinedStr) -> Plan | None:
        parts: list[Plan] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and type(part.value) is str:
                text = part.value
                parts.append(lambda values, config, text=text: text)  # type: ignore[misc]
                continue
            if not isinstance(part, ast.FormattedValue):
                return None
            inner = self.value(part.value)
            spec = _constant_spec(part.format_spec)
            if inner is None or spec is None:
                return None
            parts.append(_formatted(inner, part.conversion, spec))
        return lambda values, config: "".join(p(values, config) for p in parts)

    def percent(self, node: ast.BinOp) -> Plan | None:
        if not (isinstance(node.left, ast.Constant) and type(node.left.value) is str):
            return None
        template = node.left.value
        if isinstance(node.right, ast.Tuple):
            items = [self.value(item) for item in node.right.elts]
            if any(item is None for item in items):
                return None
            readers = [item for item in items if item is not None]
            return lambda values, config: template % tuple(r(values, config) for r in readers)
        single = self.value(node.right)
        if single is None:
            return None
        return lambda values, config: template % (single(values, config),)

    def format_call(self, template: str, args: list[ast.expr]) -> Plan | None:
        for _literal, field_name, spec, _conversion in string.Formatter().parse(template):
            # Only "{}" and "{0}": "{0.attr}" or "{0[key]}" would read into the value.
            if field_name is None:
                continue
            if (field_name and not field_name.isdigit()) or (spec and "{" in spec):
                return None
        items = [self.value(arg) for arg in args]
        if any(item is None for item in items):
            return None
        readers = [item for item in items if item is not None]
        return lambda values, config: template.format(*(r(values, config) for r in readers))

    def username(self) -> Plan | None:
        """Django's ``AbstractBaseUser.__str__``: ``self.get_username()``, i.e. the ``USERNAME_FIELD``."""
        try:
            from django.contrib.auth.base_user import AbstractBaseUser
        except Exception:
            return None
        if safe.class_attr(self.cls, "get_username") is not AbstractBaseUser.__dict__["get_username"]:
            return None
        name = safe.class_attr(self.cls, "USERNAME_FIELD")
        if type(name) is not str:
            return None
        field = self.field(ast.Attribute(value=ast.Name(id=self.self_name), attr=name))
        if field is None:
            return None
        return lambda values, config: _must_be_str(field(values, config))


_ABSENT = object()


def _must_be_str(value: Any) -> str:
    if type(value) is not str:  # ``__str__`` returning a non-str raises TypeError: no text to show
        raise _NoText
    return value


def _constant_spec(spec: ast.expr | None) -> str | None:
    if spec is None:
        return ""
    if isinstance(spec, ast.JoinedStr) and all(
        isinstance(v, ast.Constant) and type(v.value) is str for v in spec.values
    ):
        return "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
    return None


def _same(value: Any) -> Any:
    return value


def _formatted(inner: _Value, conversion: int, spec: str) -> Plan:
    conversions: dict[int, Callable[[Any], Any]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
    convert = conversions.get(conversion, _same)

    def part(values: dict[str, Any], config: Config) -> str:
        return format(convert(inner(values, config)), spec)

    return part
