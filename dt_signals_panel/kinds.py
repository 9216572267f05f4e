"""Every kind of finding, declared once: what it is called, how grave it is, what the summary strip, the
sidebar subtitle, the panel, the text table and ``dt_signals_panel.testing`` do with it.

A finding is a JSON-ready dict a finder returns (``findings.py``) with at least ``kind`` (a :class:`Kind`
id), ``message`` (a sentence that contains the kind's ``words``) and ``seqs`` (the events it is about).
The rest of the package reads this registry rather than naming kinds, so adding one is an entry here, its
finder and its tests::

    kinds.register(Kind(id="...", family="...", severity="problem", words="...", label=..., finder=...))

Order matters: the panel lists families, tiles and subtitle parts in the order their kinds were registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.utils.translation import ngettext_lazy

from dt_signals_panel import findings, framework, query_findings
from dt_signals_panel.shapes import Event

#: ``problem``: something to fix (in the subtitle, fails ``testing.assert_no_problems``); ``notice``: worth
#: a look; ``info``: context. Mapped to the toolbar's error/warning colours by the stylesheet.
Severity = Literal["problem", "notice", "info"]
#: Whether the family has a tile in the summary strip: always, only when it found something, or never.
Tile = Literal["always", "when_found", "never"]

Finding = dict[str, Any]


class Source(Protocol):
    """What a finder reads: a ``Recording`` (its kept events, per-model init counts and exact counts)."""

    @property
    def events(self) -> list[Event]: ...

    @property
    def inits(self) -> list[dict[str, Any]]: ...

    def counts(self) -> dict[tuple[str, str], int]: ...


Finder = Callable[[Source], Sequence[Finding]]


@dataclass(frozen=True)
class AllowShape:
    """How an ``allow=`` entry of ``dt_signals_panel.testing`` names a finding of this kind: a lone string
    (or a model class, when ``classes``) is compared with the finding's ``one`` field, an ``(a, b)`` pair
    with its two ``pair`` fields (or, failing that, with those of one of ``other_pairs``); ``"*"`` matches
    anything and a callable receives the finding. ``pair`` is the entry a failure suggests."""

    one: str
    pair: tuple[str, str]
    classes: bool = True
    #: Further ways a pair may name a finding, for kinds whose fields can be narrowed two ways.
    other_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return (self.pair, *self.other_pairs)


@dataclass(frozen=True)
class Kind:
    """One kind of finding."""

    #: Stable id, stored in the stats and in each finding's ``kind``; ``data-kind`` in the panel.
    id: str
    #: The findings section it is listed in (``stats["findings"][family]``), and the summary's count of it.
    family: str
    severity: Severity
    #: Words every message of this kind contains: what a user reads, filters and searches for.
    words: str
    #: The count as words, ``ngettext_lazy(..., ..., "n")``: the summary tile and the sidebar subtitle.
    label: Any
    #: Runs once per recording (a finder shared by several kinds runs once for all of them).
    finder: Finder
    allow: AllowShape
    tile: Tile = "when_found"
    #: The rows a finding points at (its ``seqs``) carry its message as a note and are highlighted.
    notes_rows: bool = False
    #: The finding is about what the sending code did (a save, a query), so one that framework code made on its
    #: own is the framework's (``framework.classify``). Not so for a credential in clear or a receiver that
    #: raised: the receivers and backends at fault are the project's, whoever sent.
    sender_acts: bool = False

    def count_text(self, n: int) -> str:
        return str(self.label % {"n": n})


_registry: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` (after the ones already there). A second kind with the same id is a mistake."""
    if kind.id in _registry:
        raise ValueError(f"a finding kind {kind.id!r} is already registered")
    _registry[kind.id] = kind
    return kind


def unregister(kind_id: str) -> None:
    del _registry[kind_id]


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """``kind`` registered for the block only (tests, experiments)."""
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind.id)


def all_kinds() -> list[Kind]:
    return list(_registry.values())


def get(kind_id: str) -> Kind | None:
    return _registry.get(kind_id)


def families() -> dict[str, list[Kind]]:
    """Each family with its kinds, in registration order."""
    found: dict[str, list[Kind]] = {}
    for kind in _registry.values():
        found.setdefault(kind.family, []).append(kind)
    return found


def ids(family: str) -> frozenset[str]:
    return frozenset(kind.id for kind in _registry.values() if kind.family == family)


def severity_of(finding: Finding) -> Severity:
    """How grave this finding is: its kind's severity, unless the framework post-pass lowered it
    (``framework.classify``: a finding the developer's code did not cause)."""
    own = finding.get("severity")
    if own in ("problem", "notice", "info"):
        return own  # type: ignore[no-any-return]
    kind = _registry.get(finding["kind"])
    return kind.severity if kind is not None else "notice"


def _sender_acts(finding: Finding) -> bool:
    kind = _registry.get(finding["kind"])
    return kind is not None and kind.sender_acts


def counts_as_problem(finding: Finding, *, include_framework: bool = False) -> bool:
    """Whether a problem tile, the sidebar subtitle and ``testing.assert_no_problems`` count it."""
    if include_framework:
        kind = _registry.get(finding["kind"])
        return kind is not None and kind.severity == "problem"
    return severity_of(finding) == "problem"


def is_framework(finding: Finding) -> bool:
    """Made by framework code (the admin, sessions, a reusable app), not the developer's: listed apart."""
    return bool(finding.get("framework"))


def find_all(source: Source) -> dict[str, list[Finding]]:
    """Every family's findings in ``source``: each finder run once, each finding filed under its kind's
    family (a finding whose kind is not registered is a bug in its finder). Then one pass over them all says
    which ones framework code is answerable for (``framework.classify``), so that no finder has to."""
    by_family: dict[str, list[Finding]] = {family: [] for family in families()}
    done: set[int] = set()
    for kind in _registry.values():
        if id(kind.finder) in done:
            continue
        done.add(id(kind.finder))
        for finding in kind.finder(source):
            by_family[_registry[finding["kind"]].family].append(finding)
    framework.classify(by_family, source.events, severity_of, _sender_acts)
    return by_family


# -- the built-in kinds ---------------------------------------------------------------------------------
def _redundant_saves(source: Source) -> list[Finding]:
    return findings.redundant_saves(source.events)


def _credentials_in_clear(source: Source) -> list[Finding]:
    return findings.credentials_in_clear(source.events)


def _receiver_errors(source: Source) -> list[Finding]:
    return findings.receiver_errors(source.events)


def _many_instances(source: Source) -> list[Finding]:
    saves_by_model: dict[str, int] = {}
    for (name, sender), n in source.counts().items():
        if name == "post_save":
            saves_by_model[sender] = saves_by_model.get(sender, 0) + n
    return findings.init_hints(source.inits, saves_by_model)


def _receiver_queries(source: Source) -> list[Finding]:
    config = getattr(source, "config", None)
    threshold = config.receiver_query_sends if config is not None else 10
    return query_findings.queries_per_send(source.events, source.counts(), threshold)


def _duplicate_rows(source: Source) -> list[Finding]:
    return findings.duplicate_rows(source.inits)


_REDUNDANT_SAVE = ngettext_lazy("%(n)d redundant save", "%(n)d redundant saves", "n")


_CLEAR = ngettext_lazy("%(n)d credential in clear", "%(n)d credentials in clear", "n")
_ERRORS = ngettext_lazy("%(n)d receiver error", "%(n)d receiver errors", "n")
_PER_SEND = ngettext_lazy("%(n)d receiver querying on every send", "%(n)d receivers querying on every send", "n")
_MANY = ngettext_lazy("%(n)d model built many times", "%(n)d models built many times", "n")
_KEY = AllowShape(one="key", pair=("sender", "key"), classes=False)
# (signal, receiver), or (receiver, error type) to allow one known failure of a receiver only.
_RECEIVER = AllowShape(
    one="receiver", pair=("signal", "receiver"), classes=False, other_pairs=(("receiver", "error_type"),)
)
_SENDER = AllowShape(one="sender", pair=("sender", "kind"))


def _redundant(kind_id: str, words: str) -> Kind:
    """One of the three kinds of redundant save: they share a finder, a tile, a count and ``allow`` shape."""
    return Kind(
        id=kind_id,
        family="redundant_saves",
        severity="problem",
        words=words,
        label=_REDUNDANT_SAVE,
        finder=_redundant_saves,
        allow=AllowShape(one="model", pair=("model", "kind")),
        tile="always",
        notes_rows=True,
        sender_acts=True,
    )


for _kind in (
    _redundant("saved_again", "redundant save"),
    _redundant("nothing_changed", "redundant save"),
    _redundant("update_fields_would_do", "partly redundant save"),
    # Kind(id, family, severity, words, label, finder, allow, ...), in that order.
    Kind("credential_in_clear", "credentials_in_clear", "problem", "credential", _CLEAR, _credentials_in_clear, _KEY),
    Kind("receiver_error", "receiver_errors", "problem", "receiver error", _ERRORS, _receiver_errors, _RECEIVER),
    Kind(
        "receiver_queries_per_send",
        "queries_in_receivers",
        "problem",
        "queries in a receiver per send",
        _PER_SEND,
        _receiver_queries,
        AllowShape(one="receiver", pair=("signal", "receiver"), classes=False),
    ),
    Kind("many_instances", "init_hints", "notice", "instances were built", _MANY, _many_instances, _SENDER, "never"),
    Kind(
        "duplicate_rows",
        "init_hints",
        "notice",
        "duplicate rows",
        _MANY,
        _duplicate_rows,
        _SENDER,
        "never",
        sender_acts=True,
    ),
):
    register(_kind)
del _kind
