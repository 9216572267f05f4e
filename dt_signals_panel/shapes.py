"""The shapes that travel through the package: one send's event, and a recording as its readers see it.

An event is built at send time (``events.build``), kept by the recording, read by the findings and the
stats, stored by djdt as JSON and read back by the presentation, the text table and the test helpers. It is
a plain dict at run time (what JSON gives back), typed here so that every module names the same keys.

The readers (``kinds``, ``stats``, ``text``) depend on :class:`Recorded`, never on ``recorder``: the recorder
is the bottom of the recording side, and nothing it builds on imports it back.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict


class RowKey(TypedDict, total=False):
    """The row a save or delete touches, as the redundant-save findings key it."""

    model: str
    pk: str
    using: Any


class CredentialRow(TypedDict, total=False):
    """One key of ``user_login_failed``'s ``credentials``: its status and a value safe to show."""

    key: str
    status: str
    value: Any
    via_authenticate: bool


class ReceiverRow(TypedDict, total=False):
    """One receiver that ran for a send."""

    name: str
    where: str
    ms: float
    error: str
    #: The SQL the call ran (issue 16, see queries.py), absent when it ran none.
    queries: int
    query_ms: float
    #: Per database alias: ``{"queries": n, "ms": t}``.
    db: dict[str, dict[str, Any]]
    #: Its distinct query shapes: ``{"alias", "sql", "count", "ms"}``, SQL with placeholders only.
    sql: list[dict[str, Any]]
    #: An async receiver whose calls ran in a thread not observed all along (``queries.covered``): its queries
    #: are not measured (never shown as 0).
    queries_not_measured: bool


class Event(TypedDict, total=False):
    """One send. ``signal``, ``sender`` and ``args`` are always there; a *light* event (``light``: past the
    rows shown per signal) has only what the findings, the call-site summary and the receiver times read."""

    signal: str
    sender: str
    #: The arguments as shown, in the order Django sent them (a light event: the few the findings read).
    args: dict[str, Any]
    light: bool
    row: RowKey
    credentials: list[CredentialRow]
    #: At ``pre_save``: the fields this save may change (absent when the panel cannot know).
    changed: list[str]
    field_count: int
    seq: int
    #: Milliseconds since the capture opened (a shown event only).
    t: float
    #: ``seq`` of the event whose receivers made this send, in the same recording.
    parent: int | None
    #: ``send_robust``, ``asend``, ``asend_robust``; absent for ``send``.
    mode: str
    #: ``[path, line, function]`` of the first frame of the user's code, or of the nearest framework frame when
    #: the request has none (then ``site_kind`` is ``"framework"``).
    site: list[Any]
    site_kind: str
    #: The module of the nearest framework frame the send went through (``django.contrib.admin.options``).
    via: str
    #: Index into the recording's stacks (renumbered in the stats).
    stack: int
    #: Dispatch time.
    ms: float
    error: str
    receivers: list[ReceiverRow]


class Recorded(Protocol):
    """A recording as the finders, the stats and the text table read it (``recorder.Recording`` is one)."""

    @property
    def events(self) -> list[Event]: ...

    @property
    def inits(self) -> list[dict[str, Any]]: ...

    @property
    def stacks(self) -> list[list[list[Any]]]: ...

    @property
    def dropped(self) -> int: ...

    @property
    def duration_ms(self) -> float | None: ...

    @property
    def masked_values(self) -> frozenset[str]: ...

    def counts(self) -> dict[tuple[str, str], int]: ...

    def stats(self) -> dict[str, Any]: ...
