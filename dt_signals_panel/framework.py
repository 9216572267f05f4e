"""Who can act on a finding: the developer's code, or the framework (the admin, sessions, a reusable app).

Runs after every finder, over their findings and the events they point at (``kinds.find_all``), so that no
rule has to know about it. Each event knows where it was sent from (``recorder._locate``): ``site_kind`` is
``"framework"`` when no frame of the user's code was on the stack, and ``via`` names the module of the
nearest framework frame the send went through (``django.contrib.sessions.backends.db`` when ``login()``
saved the session). A finding whose sends all come from framework code, or that matches a known-normal
framework pattern, is marked ``framework``, given advice about what the developer controls, and lowered to
a severity that no problem tile, sidebar subtitle or ``assert_no_problems`` counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from dt_signals_panel.shapes import Event

Finding = dict[str, Any]

_REDUNDANT = frozenset({"saved_again", "nothing_changed", "update_fields_would_do"})


@dataclass(frozen=True)
class Pattern:
    """A framework behaviour a finding may be about, and what to tell the developer about it."""

    id: str
    #: Module prefixes every send went through (the events' ``via``).
    component: tuple[str, ...]
    #: Finding kinds it covers.
    kinds: frozenset[str]
    #: Known-normal: Django always does this; listed for information only.
    normal: bool
    advice: Any
    #: The concrete model the finding is about (``None``: any).
    model: str | None = None
    #: Only when every send came from framework code (no frame of the user's code on the stack).
    framework_only: bool = True


PATTERNS: list[Pattern] = [
    Pattern(
        id="session_saved_by_django",
        component=("django.contrib.sessions",),
        kinds=_REDUNDANT,
        model="sessions.Session",
        normal=True,
        framework_only=False,
        advice=_(
            "Django's sessions save the session row themselves: login() cycles the key and creates the row, "
            "then SessionMiddleware saves it again at the end of the request. This is how Django works; "
            "nothing in your code to change."
        ),
    ),
    Pattern(
        id="admin_always_saves",
        component=("django.contrib.admin",),
        kinds=frozenset({"nothing_changed"}),
        normal=True,
        advice=_(
            "Django's admin saves the object on every “Save”, whether or not a field changed: normal, listed "
            "for information. To skip it, override ModelAdmin.save_model() and save only when form.has_changed()."
        ),
    ),
    Pattern(
        id="admin_save",
        component=("django.contrib.admin",),
        kinds=_REDUNDANT,
        normal=False,
        advice=_(
            "Django's admin made this save, not your code: ModelAdmin.save_model() saves every field of the "
            "form. You control it through ModelAdmin.save_model() (e.g. obj.save(update_fields=form.changed_data) "
            "when change is true), fields / readonly_fields (what the form edits) and save_as."
        ),
    ),
    Pattern(
        id="admin_changelist_select_related",
        component=("django.contrib.admin",),
        kinds=frozenset({"duplicate_rows"}),
        normal=False,
        advice=_(
            "Django's admin changelist follows list_display's foreign keys with select_related(): one instance "
            "per row listed. You control it through ModelAdmin.list_select_related, or get_queryset() with "
            "prefetch_related() when few distinct rows are shared by many."
        ),
    ),
]

_GENERIC = _(
    "Sent from framework code (%(module)s), not from your code: what you control is how you configure or "
    "call that component, not the save itself."
)

#: Severities from gravest, to lower a finding's and never raise it.
_ORDER = ("problem", "notice", "info")


def _lower(severity: str, to: str) -> str:
    return max(severity, to, key=_ORDER.index)


def _starts(module: Any, prefixes: tuple[str, ...]) -> bool:
    return type(module) is str and any(module == p or module.startswith(p + ".") for p in prefixes)


def _sends(finding: Finding, by_seq: dict[int, Event]) -> list[Any]:
    """The events a finding is about; a finding about no event (a per-model hint) stands for its own send."""
    seqs = finding.get("seqs") or ()
    if seqs:
        return [by_seq[seq] for seq in seqs if seq in by_seq]
    if finding.get("site") is not None:
        return [finding]
    return []


def _pattern(finding: Finding, sends: Sequence[Any], framework_only: bool) -> Pattern | None:
    model = finding.get("model") or finding.get("sender")
    for pattern in PATTERNS:
        if finding["kind"] not in pattern.kinds or (pattern.model is not None and model != pattern.model):
            continue
        if pattern.framework_only and not framework_only:
            continue
        if all(_starts(send.get("via"), pattern.component) for send in sends):
            return pattern
    return None


def classify(
    found: dict[str, list[Finding]],
    events: Iterable[Event],
    severity_of: Callable[[Finding], str],
    sender_acts: Callable[[Finding], bool],
) -> None:
    """Mark, in place, every finding the framework is answerable for: ``framework`` (True), ``pattern`` (the
    known pattern's id, or ``None``), ``normal``, ``severity`` (lowered: ``notice``, or ``info`` for a
    known-normal pattern) and ``advice``, which is also appended to the message. ``kinds.py`` passes in
    ``severity_of(finding)`` (the kind's severity) and ``sender_acts(finding)`` (whether the finding is about
    what the sending code did: only then can the framework be answerable); this module knows no kind."""
    by_seq = {event["seq"]: event for event in events if "seq" in event}
    for items in found.values():
        for finding in items:
            if not sender_acts(finding):
                continue
            sends = _sends(finding, by_seq)
            if not sends:
                continue
            framework_only = all(send.get("site_kind") == "framework" for send in sends)
            pattern = _pattern(finding, sends, framework_only)
            if pattern is None and not framework_only:
                continue
            if pattern is not None:
                advice = str(pattern.advice)
            else:
                module = sends[0].get("via") or "?"
                advice = str(_GENERIC) % {"module": module}
            normal = pattern is not None and pattern.normal
            finding["framework"] = True
            finding["pattern"] = pattern.id if pattern is not None else None
            finding["normal"] = normal
            finding["severity"] = _lower(severity_of(finding), "info" if normal else "notice")
            finding["advice"] = advice
            finding["message"] = f"{finding['message']}. {advice}"
