"""What both runs of a third-party suite measure, installed identically in the plain and the captured run.

Two things per test id: its outcome (pass, fail, error, skip, xfail, xpass, and a test can collect more than
one, e.g. a failure then an error in tearDown), and what the receivers of the tracked signals received:
``(signal, receiver, sender) -> calls``. Receivers are counted in ``Signal._live_receivers``, the one place
Django's ``send``/``send_robust``/``asend``/``asend_robust`` ask for the receivers they are about to call,
patched on the class before the suite imports anything. The panel replaces methods on signal instances and
calls the class's ``_live_receivers`` underneath, so both runs count through the same code, and a send the
panel's own labelling makes is counted like any other: that is exactly the observer effect we look for.

A receiver is counted when Django hands it over for the call (one raising stops ``send`` before the next
ones, identically in both runs). Nothing here touches the receivers, the senders or the return values.

A suite may connect no receiver at all to a signal the panel's own work sends (django-simple-history has
none on ``pre_init``/``post_init``), and Django then calls nobody. So both runs also connect one receiver of
ours, :func:`every_send`, to each tracked signal: what an application receiver there (model-utils'
``FieldTracker`` listens to ``post_init``) would have received. It is left off ``pre_delete``, ``post_delete``
and ``m2m_changed``, where any receiver makes Django give up fast deletes and the fast m2m add, so the suite
would run other SQL than it does without us; their own receivers are still counted.

Every hook module calls :func:`install` first, then :func:`begin`/:func:`end` around each test and
:func:`outcome` for each result, and :func:`write` at the end; the driver (``compat/run.py``) compares the
two JSON files.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Set by the driver: "plain" or "captured", and where this run writes what it measured.
MODE = os.environ.get("COMPAT_MODE", "plain")
OUT = os.environ.get("COMPAT_OUT", "")
#: The bucket for sends made outside every test (app loading, migrations, class-level set-up).
OUTSIDE = "(outside any test)"

_current = OUTSIDE
_receivers: dict[str, Counter[str]] = {}
_outcomes: dict[str, list[str]] = {}
_installed = False
#: In the captured run: captures opened and the sends they recorded, proof that capturing really happened.
_captures = 0
_recorded = 0


def captured() -> bool:
    return MODE == "captured"


def _label(obj: Any) -> str:
    meta = getattr(obj, "_meta", None)
    label = getattr(meta, "label", None)
    if isinstance(label, str):
        return label
    if obj is None or isinstance(obj, str):
        return str(obj)
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


#: Signals whose receivers change what Django does (the fast-delete and fast m2m-add checks look for them).
CHANGES_DJANGO = frozenset({"pre_delete", "post_delete", "m2m_changed"})


def every_send(**named: Any) -> None:
    """A receiver that listens everywhere and does nothing: its calls are counted like any receiver's."""


def install() -> None:
    """Count receiver calls of the signals the panel tracks (its own list, so both stay in step)."""
    global _installed
    if _installed:
        return
    _installed = True
    from django.dispatch import Signal

    from dt_signals_panel.signals import BUILTIN

    tracked = {signal: name for name, signal in BUILTIN.items()}
    original = Signal._live_receivers

    def _live_receivers(self: Signal, sender: Any) -> Any:
        found = original(self, sender)
        name = tracked.get(self)
        if name is not None:
            counts = _receivers.get(_current)
            if counts is None:
                counts = _receivers[_current] = Counter()
            sender_label = _label(sender)
            for group in found:
                for receiver in group:
                    counts[f"{name} | {_label(receiver)} | {sender_label}"] += 1
        return found

    Signal._live_receivers = _live_receivers  # type: ignore[method-assign]
    for signal, name in tracked.items():
        if name not in CHANGES_DJANGO:
            signal.connect(every_send, weak=False, dispatch_uid="compat.probe.every_send")


@contextmanager
def capturing() -> Iterator[None]:
    """A ``dt_signals_panel.capture()`` around the block in the captured run; nothing in the plain one."""
    global _captures, _recorded
    if not captured():
        yield
        return
    from dt_signals_panel import capture

    opened = capture()
    try:
        with opened:
            yield
    finally:
        _captures += 1
        _recorded += opened.recording.total


def begin(test_id: str) -> None:
    global _current
    _current = test_id


def end() -> None:
    global _current
    _current = OUTSIDE


def outcome(test_id: str, kind: str) -> None:
    _outcomes.setdefault(test_id, []).append(kind)


def write(suite: str) -> None:
    import django
    from django.db import connection

    data = {
        "database": connection.vendor,
        "suite": suite,
        "mode": MODE,
        "django": django.get_version(),
        "python": sys.version.split()[0],
        "captures": _captures,
        "recorded": _recorded,
        "outcomes": {test_id: "+".join(kinds) for test_id, kinds in _outcomes.items()},
        "receivers": {test_id: dict(counts) for test_id, counts in _receivers.items()},
    }
    if OUT:
        with open(OUT, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=0, sort_keys=True)
