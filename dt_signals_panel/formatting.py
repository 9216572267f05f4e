"""Turning recorded values into text: clipping, argument values, call sites, and the fallback for a send
made from nowhere we can name.

One module so the panel, the text table, the findings' messages and the test assertions say the same thing
the same way; everything here works on JSON-ready values (what the store keeps), never on live objects.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

#: Longest text a recorded value keeps (an argument, a label, a receiver's name).
MAX_TEXT = 200

__all__ = ["clip", "short_path", "show", "site_cells", "site_text", "site_text_or_unknown", "unknown_place"]


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def show(value: Any) -> str:
    """One argument value as text; the template escapes it."""
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def short_path(path: str) -> str:
    """The last two parts of a path: enough to recognise a file in a narrow table cell."""
    parts = path.replace(os.sep, "/").rsplit("/", 2)
    return "/".join(parts[-2:])


def site_text(site: Sequence[Any] | None) -> str:
    """``path:line in function``, the path relative to the working directory when it is under it (where the
    developer's editor and terminal are), absolute otherwise; ``""`` for no site."""
    if not site:
        return ""
    path, line, function = site[0], site[1], site[2]
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        relative = path
    return f"{path if relative.startswith('..') else relative}:{line} in {function}"


def unknown_place() -> str:
    """What a message says where a call site would go when none was found (translated when called)."""
    return _("an unknown place")


def site_text_or_unknown(site: Sequence[Any] | None) -> str:
    """:func:`site_text`, or "an unknown place" where a sentence needs words."""
    return site_text(site) or unknown_place()


def site_cells(site: Sequence[Any] | None) -> tuple[str, str]:
    """The call site as the table shows it (the last two path parts) and its full ``path:line`` for the
    tooltip."""
    if not site:
        return "", ""
    path, line, func = site
    return f"{short_path(path)}:{line} in {func}", f"{path}:{line}"
