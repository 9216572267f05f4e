"""Stats made safe for every toolbar store, and read back exactly.

djdt's stores keep a panel's stats as JSON, and from 7.0 its decoder gives dicts with certain keys a meaning
of its own (``{"__djdt_binary__": …}`` turns back into bytes, ``{"__djdt_postgis__": …}`` into a geometry);
a recorded mapping with such a key (an init example, a described argument, a JSONField value) would be
decoded into something else, or fail to decode, which answers 500 for the panel and for History's refresh
of every request still stored. The panel's stats hold user-made keys in many places, so they are made safe
here, once, on their way in (:func:`encode`, in ``record_stats``) and out (:func:`decode`, in
``get_stats``), rather than where each mapping is built.

A key that starts with ``__`` (djdt's markers, and any it may add) or with :data:`ESCAPE` gets
:data:`ESCAPE` put in front; :func:`decode` takes it off again. Strings that cannot be encoded as UTF-8
(lone surrogates) are made encodable, so a page that renders the panel inline can be sent; anything that is
not a JSON value is named by its type.
"""

from __future__ import annotations

from typing import Any

from dt_signals_panel.masking import PENDING

ESCAPE = "\\"
#: Set in the stats when a key was escaped; without it :func:`decode` has nothing to do.
FLAG = "escaped_keys"


def encode(stats: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``stats`` that every djdt store gives back unchanged (through :func:`decode`)."""
    escaped: list[bool] = []
    result: dict[str, Any] = _encode(stats, escaped)
    if escaped:
        result[FLAG] = True
    return result


def _encode(value: Any, escaped: list[bool]) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else _encodable(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == PENDING:  # a send still running when stats were built: its raw values stay behind
                continue
            if not isinstance(key, str):
                key = f"<{type(key).__qualname__}>" if not isinstance(key, (int, float, bool)) else str(key)
            elif key.startswith(("__", ESCAPE)):
                key = ESCAPE + key
                escaped.append(True)
            result[_encodable(key) if not key.isascii() else key] = _encode(item, escaped)
        return result
    if isinstance(value, (list, tuple)):
        return [_encode(item, escaped) for item in value]
    return f"<{type(value).__qualname__}>"


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def decode(stats: dict[str, Any]) -> dict[str, Any]:
    """``stats`` as :func:`encode` was given them (bar what no store can keep); itself when nothing was
    escaped."""
    if not stats.get(FLAG):
        return stats
    result: dict[str, Any] = _decode(stats)
    result.pop(FLAG, None)
    return result


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return {(key[1:] if key.startswith(ESCAPE) else key): _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
