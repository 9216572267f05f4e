"""What the panel never shows in clear: credential models' keys, and echoes of values it masked.

Three rules live here, apart from the code that describes values, so that each is decided once:

* **Credential models.** A model whose primary key is a credential (``sessions.Session``, keyed by the session
  key; a token model such as Django REST framework's ``authtoken.Token``, keyed by the token) is named by a
  masked pk: the mask and a short keyed digest, so two rows stay apart in findings without revealing either.
  The digest is an HMAC under a secret drawn once per process and never stored, so it cannot be reversed or
  recomputed from what the toolbar's store holds.
* **Echoes.** Every raw value the panel masked for one send (sensitive credentials, sensitive-named
  arguments and the keys of mappings among them, a credential model's pk) is scrubbed from every other text
  of that event: receivers' exception messages, the send's own error, labels, other arguments. A receiver
  that raises ``int(credentials["otp"])`` would otherwise quote the one-time code beside its mask.
* **Request-likes.** A request, or an object wrapping one (Django REST framework's ``Request`` keeps the
  ``HttpRequest`` in its ``_request`` attribute), is recognised without running its code (no ``__getattr__``, no
  property), so it can be labelled by method and path only.

Nothing here calls application code: values are read only when they are ``str``, ``bytes``, numbers, or
the plain containers holding them, and attributes through ``inspect.getattr_static`` / ``vars()``.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.utils.functional import LazyObject, empty

from dt_signals_panel import safe
from dt_signals_panel.conf import get_config

#: What a masked value is shown as.
MASK = "••••••••"
#: Per-process key for the digests: never stored, never shown, so a digest says only "same or different".
_DIGEST_KEY = secrets.token_bytes(32)
#: Hex digits of digest shown after a masked pk: enough to tell a handful of rows apart.
DIGEST_CHARS = 6
#: Masked values shorter than this are scrubbed only where quoted (``'123'``), not everywhere: scrubbing
#: every "1" from every text would garble the panel and point at where the value is.
SHORT = 4
#: How deep masked values are looked for inside plain containers (as deep as ``labels.describe`` looks).
MAX_DEPTH = 3
#: Key under which a freshly built event carries the values to scrub until its send finishes; popped by
#: :func:`finish`, and dropped by the store encoding (``stored.encode``) should a send never finish.
PENDING = "\x00masked"

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def digest(value: str) -> str:
    """A short keyed digest of ``value``: equal values give equal digests within one process, nothing more."""
    mac = hmac.new(_DIGEST_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return mac.hexdigest()[:DIGEST_CHARS]


def masked(value: str) -> str:
    """The mask followed by the digest of ``value``: what a credential model's pk is shown as."""
    return f"{MASK} {digest(value)}"


# -- credential models ------------------------------------------------------------------------------------
def _name_words(name: str) -> list[str]:
    return [word.lower() for part in name.split("_") for word in _WORDS.findall(part)]


#: model -> (the pattern it was judged by, whether it holds credentials); asked for every row a save or
#: delete touches, so one dict read and one identity test.
_credential_models: dict[type[Model], tuple[re.Pattern[str], bool]] = {}


def is_credential_model(model: type[Model], sensitive: re.Pattern[str] | None = None) -> bool:
    """A model whose pk field name looks sensitive (searched, as argument names are: ``session_key``,
    ``key``, ``token``), or whose name has a word the pattern matches in full (``Session``, ``AuthToken``,
    ``APIKey``; not ``Author``, which only contains "auth")."""
    pattern = sensitive if sensitive is not None else get_config().sensitive
    known = _credential_models.get(model)
    if known is not None and known[0] is pattern:
        return known[1]
    meta = model._meta
    pk: Any = meta.pk
    found = bool(pk is not None and pattern.search(pk.name)) or any(
        pattern.fullmatch(word) for word in _name_words(meta.object_name or "")
    )
    _credential_models[model] = (pattern, found)
    return found


def _model_of(instance: Model) -> type[Model]:
    """The model class of an instance; through ``_meta`` only for a lazy object (already evaluated by the
    ``isinstance`` that led here)."""
    kind = type(instance)
    return kind if issubclass(kind, Model) else instance._meta.model


def pk_text(instance: Model) -> str | None:
    """The pk as text, read from the instance's ``__dict__`` (no descriptor, no ``__str__`` of a model)."""
    pk: Any = instance._meta.pk  # None on an abstract model, whatever the stubs say
    if pk is None:
        return None
    if LazyObject in type(instance).__mro__:  # request.user: the instance inside, if it was ever made
        instance = object.__getattribute__(instance, "__dict__").get("_wrapped", empty)
        if instance is empty:
            return None
    value = object.__getattribute__(instance, "__dict__").get(pk.attname)
    if value is None:
        return None
    return _plain_text(value)


def shown_pk(instance: Model, pk: Any, sensitive: re.Pattern[str] | None = None) -> str | None:
    """The pk as the panel may show it: masked with a digest for a credential model, ``None`` otherwise (the
    caller shows it as usual)."""
    pattern = sensitive if sensitive is not None else get_config().sensitive
    known = _credential_models.get(type(instance))
    if pk is None or (known is not None and known[0] is pattern and not known[1]):  # the common case, fast
        return None
    if not is_credential_model(_model_of(instance), pattern):
        return None
    text = _plain_text(pk)
    return masked(text if text is not None else f"<{type(pk).__qualname__}>")


def collect_credential_pk(value: Any, into: list[str], sensitive: re.Pattern[str] | None = None) -> None:
    """Add the pk of ``value`` to ``into`` when it is an instance of a credential model (judged by its type
    alone, so a lazy object is not evaluated): its label masks the pk, so no other text may show it."""
    if issubclass(type(value), Model) and is_credential_model(value._meta.model, sensitive):
        text = pk_text(value)
        if text:
            into.append(text)


def credential_label(instance: Model, label: str, sensitive: re.Pattern[str] | None = None) -> str:
    """``label`` for an ordinary model; ``app.Model #<masked pk>`` alone for a credential model, whose
    label text (a session's ``__str__`` is its key) is no safer than its pk."""
    if not is_credential_model(_model_of(instance), sensitive):
        return label
    pk = pk_text(instance)
    return f"{instance._meta.label} #{masked(pk)}" if pk is not None else f"{instance._meta.label} (unsaved)"


def sensitive_name(key: Any, shown: str, sensitive: re.Pattern[str]) -> bool:
    """Whether a mapping key looks sensitive, judged on the whole key (``shown`` may be clipped for display,
    and the sensitive part of a long key may be past the clip)."""
    return bool(sensitive.search(key if type(key) is str else shown))


# -- echoes ------------------------------------------------------------------------------------------------
def _plain_text(value: Any) -> str | None:
    """``value`` as text when that runs no application code: str, bytes and the built-in numbers only."""
    kind = type(value)  # never isinstance(): it reads __class__, which evaluates a lazy object
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is float:
        return repr(value)
    if kind is bytes or kind is bytearray:
        return bytes(value).decode("utf-8", "replace")
    if safe.is_a(value, str):  # a subclass: its text through str's own method, never its __str__
        return str.__str__(value)
    return None


def collect(value: Any, into: list[str], depth: int = 0) -> None:
    """Add every plain value inside ``value`` (itself, or the items of the plain lists, tuples, sets and
    dicts holding it) to ``into``: all of it is about to be masked."""
    text = _plain_text(value)
    if text is not None:
        if text:
            into.append(text)
        return
    if depth >= MAX_DEPTH:
        return
    kind = type(value)
    if kind is dict:
        for key, item in list(value.items())[:50]:
            collect(key, into, depth + 1)
            collect(item, into, depth + 1)
    elif kind in (list, tuple, set, frozenset):
        for item in list(value)[:50]:
            collect(item, into, depth + 1)


def collect_sensitive(value: Any, sensitive: re.Pattern[str], into: list[str], depth: int = 0) -> None:
    """The values under sensitive-named keys of the plain dicts inside ``value``: ``describe`` masks those
    too, so they must not come back through another field."""
    if depth >= MAX_DEPTH:
        return
    kind = type(value)
    if kind is dict:
        for key, item in list(value.items())[:50]:
            if type(key) is str and sensitive.search(key):
                collect(item, into)
            else:
                collect_sensitive(item, sensitive, into, depth + 1)
    elif kind in (list, tuple):
        for item in value[:50]:
            collect_sensitive(item, sensitive, into, depth + 1)


class Scrubber:
    """Finds every echo of some values in a text: as is, and as ``repr`` quotes them (a short value only
    quoted), longest first so that a value inside another is not scrubbed first. A quoted echo keeps its
    quotes, so ``'48213x'`` reads ``'••••••••'``."""

    def __init__(self, values: Iterable[str]) -> None:
        self.replacements: dict[str, str] = {}
        for value in values:
            if not value:
                continue
            quoted = repr(value)
            self.replacements[quoted] = f"{quoted[0]}{MASK}{quoted[-1]}"
            self.replacements[repr(value.encode("utf-8", "replace"))] = f"b'{MASK}'"
            if len(value) >= SHORT:
                self.replacements[value] = MASK
        forms = sorted(self.replacements, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(form) for form in forms)) if forms else None

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda match: self.replacements[match.group(0)], text)


def scrubber(values: Iterable[str]) -> Scrubber | None:
    """A :class:`Scrubber` for ``values``; ``None`` when there is nothing to find."""
    found = Scrubber(values)
    return found if found.pattern is not None else None


def scrub(data: Any, scrubber: Scrubber | None) -> Any:
    """``data`` (JSON-ready: str, numbers, lists, str-keyed dicts) with every echo replaced by the mask;
    keys included. Containers are scrubbed in place and returned."""
    if scrubber is None:
        return data
    if isinstance(data, str):
        return scrubber(data) if data != MASK else data
    if isinstance(data, list):
        for i, item in enumerate(data):
            data[i] = scrub(item, scrubber)
        return data
    if isinstance(data, dict):
        for key in list(data):
            item = scrub(data.pop(key), scrubber)
            data[scrub(key, scrubber) if isinstance(key, str) else key] = item
        return data
    return data


def hold(event: Any, values: list[str]) -> None:
    """Scrub what the event (a ``shapes.Event``) holds now, and keep ``values`` with it under :data:`PENDING`
    until its send finishes (see :func:`finish`): the receivers, whose errors may echo them, have not run yet."""
    if not values:
        return
    pattern = scrubber(values)
    scrub(event, pattern)
    event[PENDING] = (tuple(values), pattern)


def finish(event: Any) -> tuple[str, ...]:
    """After the send: scrub what the receivers added (their errors, the send's error) and return the raw
    values, for the request-wide scrub of :func:`scrub_stats`. Nothing of them stays on the event."""
    pending = event.pop(PENDING, None)
    if pending is None:
        return ()
    values, pattern = pending
    scrub(event, pattern)
    return tuple(values)


# -- request-likes -----------------------------------------------------------------------------------------
_NOT_WRAPPERS = (str, bytes, bytearray, memoryview, int, float, bool, dict, list, tuple, set, frozenset, type(None))


def wrapped_request(value: Any) -> HttpRequest | None:
    """The ``HttpRequest`` that ``value`` is or wraps, found without running ``value``'s code: DRF's
    ``Request`` (and look-alikes) keep it in an instance attribute, and delegate everything else through a
    ``__getattr__`` whose ``str()`` carries the query string. ``inspect.getattr_static`` reads the instance
    dict and slots without running ``__getattr__``, ``__getattribute__`` or a property."""
    kind = type(value)  # never isinstance(): it reads __class__, which evaluates a lazy object
    if issubclass(kind, HttpRequest):
        return value  # type: ignore[no-any-return]
    if kind in _NOT_WRAPPERS or issubclass(kind, type):
        return None
    try:
        inner = inspect.getattr_static(value, "_request")
    except Exception:
        return None
    return inner if issubclass(type(inner), HttpRequest) else None


def request_parts(value: Any) -> tuple[str, str] | None:
    """Method and path of a request or request-like, read without running its code (both are plain
    attributes Django sets on the ``HttpRequest``); ``None`` for anything else."""
    request = wrapped_request(value)
    if request is None:
        return None
    parts = []
    for name in ("method", "path"):
        try:
            found = inspect.getattr_static(request, name)
        except Exception:
            found = None
        parts.append(found if type(found) is str else "?")
    return parts[0], parts[1]
