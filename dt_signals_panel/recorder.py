"""What one capture records, and ``capture()``, the public way to open one.

A recording knows nothing of the toolbar: the panel, the test helpers and users' own code all open a
``capture()``, and the send wrappers (``wrappers.py``) route each send to the captures open in its context,
through the recording's per-send API (:meth:`Recording.begin`, :meth:`Recording.finish`, and for the init
signals :attr:`Recording.pre_init_counters` / :attr:`Recording.post_init_counters` and
:meth:`Recording.init_counter`). The recorder is the bottom of its side: the stats, findings and text
table read a recording through ``shapes.Recorded`` and are imported only when asked for.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import Token
from types import FrameType
from typing import Any

from django.db.models import Model
from django.dispatch import Signal

from dt_signals_panel import callsite, events, labels, masking, queries, row_state, safe
from dt_signals_panel.conf import Config, get_config
from dt_signals_panel.shapes import Event
from dt_signals_panel.signals import INIT_SIGNALS, tracked_signals
from dt_signals_panel.wrappers import Sink, install, open_recordings, parent_events, uninstall


class Recording:
    """What one capture saw. Events are JSON-ready dicts built at send time; nothing here holds a model
    instance, request or user once the send returns."""

    def __init__(self, config: Config, signals: dict[Signal, str]) -> None:
        self.config = config
        self.signals = signals
        self.started = time.perf_counter()
        self.events: list[Event] = []
        self.dropped = 0
        self.closed = False
        self.duration_ms: float | None = None
        # (signal name, sender label) -> exact count of every send, kept or not, inits excluded.
        self._counts: dict[tuple[str, str], int] = {}
        # signal name -> events kept for it (the first SHOWN_PER_SIGNAL of them are detailed).
        self._kept: dict[str, int] = {}
        #: sender -> itertools.count per init signal: next() is atomic, so threads of one request never lose a
        #: count, and the init wrappers reach the dict of their own signal with one attribute read (a new
        #: sender's counter comes from :meth:`init_counter`).
        self.pre_init_counters: dict[Any, Iterator[int]] = {}
        self.post_init_counters: dict[Any, Iterator[int]] = {}
        self._init_examples: dict[tuple[str, Any], dict[str, Any]] = {}
        #: model -> what notes the distinct rows its loaded instances were built from (``_Distinct.adder``),
        #: called by the pre_init wrapper; None once MAX_DISTINCT rows were seen (then the hot path is one dict
        #: read). The _Distinct of every model, for the summary.
        self.distinct_rows: dict[Any, Callable[[Any], None] | None] = {}
        self._distinct_all: dict[Any, _Distinct] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        # One full stack per operation: the pre_ and post_ send of one save come from the same user frame.
        # What identifies it is kept, never the frame (see _locate).
        self._last_key: tuple[int, int, int] = (0, 0, -1)
        self._last_site: tuple[list[Any], list[int]] = ([], [])
        self._last_stack_id = 0
        self._last_site_row: list[Any] = ["", 0, ""]
        # module name -> what its frames are to a call site (``_site_class``): a handful of modules, asked about
        # on every send.
        self._hidden_modules: dict[str, int] = {}
        self.stacks: list[list[list[Any]]] = []
        self._final_inits: list[dict[str, Any]] | None = None
        # Raw values masked in any event of this recording, for the request-wide scrub of build_stats; in
        # memory only, never in an event.
        self._masked: set[str] = set()
        # What rows were loaded or saved with while this capture is open (the redundant-save findings).
        self.rows = row_state.Rows(config.max_events)

    # -- read API -------------------------------------------------------------------------------------
    def count(self, signal: str, sender: Any = None) -> int:
        """Exact number of sends of ``signal`` (its name, e.g. ``"post_save"``), from ``sender`` if given
        (a model class, or its label such as ``"auth.User"``, or the string sender itself)."""
        wanted = None if sender is None else labels.sender_label(sender)
        if signal in INIT_SIGNALS:
            return sum(row[signal] for row in self.inits if wanted is None or row["sender"] == wanted)
        total: int = sum(
            n for (name, label), n in self._counts.items() if name == signal and (wanted is None or label == wanted)
        )
        return total

    @property
    def total(self) -> int:
        return sum(self._counts.values()) + sum(int(r["pre_init"]) + int(r["post_init"]) for r in self.inits)

    @property
    def inits(self) -> list[dict[str, Any]]:
        """``pre_init``/``post_init`` counts per model, aggregated because a queryset sends two per row."""
        if self._final_inits is not None:
            return self._final_inits
        return self._summarise_inits(dict(self.pre_init_counters), dict(self.post_init_counters))

    def _summarise_inits(self, pre: dict[Any, Iterator[int]], post: dict[Any, Iterator[int]]) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        counters = [(("pre_init", sender), c) for sender, c in pre.items()]
        counters += [(("post_init", sender), c) for sender, c in post.items()]
        for (name, sender), counter in counters:
            label = labels.sender_label(sender)
            if labels.is_toolbar_label(label):
                continue
            # Reading an itertools.count consumes one value; read from a copy so the live one stays exact.
            value = int(repr(counter)[6:-1])
            row = rows.setdefault(label, {"sender": label, "pre_init": 0, "post_init": 0, "example": None})
            row[name] += value
            built = self._distinct_all.get(sender) if name == "pre_init" else None
            if built is not None:
                built.summarise(row)
            example = self._init_examples.get((name, sender))
            if example and (row["example"] is None or name == "pre_init"):
                row["example"] = example
        return sorted(rows.values(), key=lambda r: (-(r["pre_init"] + r["post_init"]), r["sender"]))

    @property
    def masked_values(self) -> frozenset[str]:
        """The raw values masked in any event of this recording, for the request-wide scrub of the stats.
        Held in memory while the recording lives, never written into an event or the store."""
        return frozenset(self._masked)

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def stats(self) -> dict[str, Any]:
        """What the panel would show for this recording: groups, summary and findings, built by the panel's
        own ``stats.build_stats``, so a test and the toolbar always agree. Imported here, not at the top:
        recording needs none of it, and ``stats`` reads a recording through ``shapes.Recorded`` alone."""
        from dt_signals_panel.stats import build_stats

        return build_stats(self)

    def as_table(self) -> str:
        """The recording as a plain-text table grouped like the panel, for a failing test's output."""
        from dt_signals_panel.text import format_recording

        return format_recording(self)

    # -- recording ------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._last_site = ([], [])
        self.duration_ms = (time.perf_counter() - self.started) * 1000
        self._final_inits = self._summarise_inits(self.pre_init_counters, self.post_init_counters)
        # A thread that inherited our context keeps counting into dicts nobody reads.
        self.pre_init_counters, self.post_init_counters = {}, {}
        self.rows.close()
        self.distinct_rows, self._distinct_all = {}, {}

    # -- the per-send API the wrappers call ----------------------------------------------------------------
    def init_counter(self, name: str, sender: Any, named: dict[str, Any]) -> Iterator[int]:
        """The counter of the first ``name`` send from ``sender``; its example is taken here, once."""
        counters = self.pre_init_counters if name == "pre_init" else self.post_init_counters
        # Built before taking the lock, never under it: a lock of ours held while we look at the application's
        # objects is how a view creating a row owned by ``request.user`` once hung for good. Two threads may
        # both build an example; the first one in keeps its own.
        example = events.init_example(name, named, self.config)
        with self._lock:
            counter = counters.get(sender)
            if counter is None:
                self._init_examples.setdefault((name, sender), example)
                if name == "pre_init" and sender not in self._distinct_all:
                    rows = _Distinct.of(sender, self)
                    if rows is not None:
                        self._distinct_all[sender] = rows
                        self.distinct_rows[sender] = rows.adder()
                counter = counters[sender] = itertools.count(0)
        return counter

    def begin(self, name: str, sender: Any, named: dict[str, Any], mode: str, sending: FrameType) -> Event | None:
        """Count the send and, below the cap, build its event (``None`` when none is kept). Runs before
        dispatch, so nested sends made by receivers land after their parent. ``sending`` is the frame that
        called the send wrapper, handed in by it: the call site is looked for from there outwards."""
        label = labels.sender_label(sender)
        if labels.is_toolbar_label(label):
            return None
        key = (name, label)
        config = self.config
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if len(self.events) >= config.max_events:
                self.dropped += 1
                return None
            kept = self._kept.get(name, 0)
            self._kept[name] = kept + 1
            seq = next(self._seq)
        # Only the first events of each signal are shown row by row; the others are summed up by call site,
        # so they skip what only a shown row needs: the instance's label, the other arguments' text, a stack.
        # Building runs none of the application's code (events.py, safe.py), so nothing can be sent from it.
        detailed = kept < config.shown_per_signal
        event = events.build(name, label, named, config, detailed=detailed)
        event["seq"] = seq
        if detailed:  # the time a shown row says it was sent at; a light event is only summed up
            event["t"] = round((time.perf_counter() - self.started) * 1000, 3)
        parent = None
        for recording, parent_seq in parent_events.get():
            if recording is self:
                parent = parent_seq
                break
        event["parent"] = parent
        if mode != "send":
            event["mode"] = mode
        if config.call_sites:
            self._locate(event, detailed, sending)
        self.events.append(event)  # list.append is atomic: no lock needed
        return event

    def _walk(self, sending: FrameType) -> tuple[FrameType | None, FrameType | None]:
        """The first frame of the user's code outwards from ``sending``, and the first framework frame that is
        not the sending machinery (see ``_site_class``) met on the way: the site when no user frame exists
        (the admin, the session middleware), and which part of the framework a user's call went through
        (``login()`` saving the session), for the framework findings."""
        known = self._hidden_modules
        frame: FrameType | None = sending
        user_frame = None
        nearest = None
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            kind = known.get(module)
            if kind is None:
                kind = known[module] = _site_class(module, self.config.hidden_modules)
            if kind == _USER:
                user_frame = frame
                break
            if kind == _HANDLER:
                # The request's entry point: whatever called it (a server, a test client, a test) is not the
                # application's code, so a send with no application frame inside it is framework-driven.
                break
            if kind == _FRAMEWORK and nearest is None:
                nearest = frame
            frame = frame.f_back
        return user_frame, nearest

    def _locate(self, event: Event, with_stack: bool, sending: FrameType) -> None:
        user_frame, nearest = self._walk(sending)
        if user_frame is None:  # under sync_to_async: the user's await line, in the event loop's task
            hidden = self.config.hidden_modules
            user_frame = callsite.awaiting_frame(
                sending, lambda f: _is_module_or_child(f.f_globals.get("__name__", ""), hidden)
            )
        if nearest is not None:
            event["via"] = nearest.f_globals.get("__name__", "")
        if user_frame is None:
            if nearest is None:
                return
            user_frame = nearest
            event["site_kind"] = "framework"
        code = user_frame.f_code
        line = user_frame.f_lineno
        # Sends from one line (a save's pre_ and post_ send, every turn of a loop) share one site list.
        site = self._last_site_row
        if site[1] != line or site[2] is not code.co_name or site[0] is not code.co_filename:
            site = self._last_site_row = [code.co_filename, line, code.co_name]
        event["site"] = site
        if not (with_stack and self.config.stacktraces):
            return
        # The same frame at the same instruction is the same operation (the pre_ and post_ send of one save,
        # every row of one cascade): one stack serves them all. Holding the frame would keep its locals alive
        # after it returns (a file CPython would have closed and flushed, a weakly connected receiver that
        # would have died), so we keep its id, code and instruction: a different key is a new operation at
        # once. The same key may be a new call whose frame took the address of a dead one, so it is confirmed
        # by the code and instruction of every frame outwards (the same, the stack reads the same). The code
        # objects are held so that their ids stay theirs; a code object holds no frame and no local.
        key = (id(user_frame), id(code), user_frame.f_lasti)
        if key != self._last_key or not _same_site(user_frame, *self._last_site):
            masked: list[str] = []
            self.stacks.append(events.stack_of(sending, self.config.stack_hidden, self.config, masked))
            self._masked.update(masked)
            self._last_key, self._last_site = key, _site_of(user_frame)
            self._last_stack_id = len(self.stacks) - 1
        event["stack"] = self._last_stack_id

    def _site_of_query(self, sending: FrameType, into: Event) -> None:
        """The call site, as ``_locate`` finds it, of the query building instances right now (no stack)."""
        if self.config.call_sites:
            self._locate(into, False, sending)

    def finish(
        self, event: Event, started: float, result: Any, error: BaseException | None, timings: list[Any]
    ) -> None:
        """After dispatch (or when it raised): the time, error and receivers of the send whose event
        :meth:`begin` kept, then the masked values' echoes scrubbed from what the receivers added."""
        event["ms"] = round((time.perf_counter() - started) * 1000, 3)
        if error is not None:
            event["error"] = events.describe_exception(error)
        # Receivers that ran, even when one raised: the ones before it and the one that raised have timings.
        ran = result if isinstance(result, list) else [(timing[0], None) for timing in timings]
        event["receivers"] = events.describe_receivers(ran, timings)
        if masking.PENDING in event:
            self._masked.update(masking.finish(event))


#: Row keys (pks) kept per model to tell distinct rows from copies: once a model has this many, its further
#: instances are only counted (the panel says "at least"), and cost one dict read each. A page that loads
#: more rows of one model than this is flagged for that already (``findings.MANY_INSTANCES``).
MAX_DISTINCT = 5_000
#: Primary key types hashed without running any of the application's code.
_PLAIN_KEYS = frozenset({int, str, uuid.UUID})


class _Distinct:
    """The distinct rows one model's instances were built from, told by the pk among the values a query
    hands ``pre_init`` (one per concrete field, in order: the pk's place is known per model). Instances
    built by keyword (``Model(name=...)``, ``create()``) are not rows yet and are not counted here."""

    __slots__ = ("copies", "found", "pks", "pos", "recording", "sender")

    def __init__(self, sender: Any, pos: int, recording: Recording) -> None:
        self.sender = sender
        self.pos = pos
        self.pks: set[Any] = set()
        #: Instances built for a row already built in this recording (an itertools.count: atomic).
        self.copies = itertools.count(0)
        #: Where the first copy was built (the query's call site), once one was.
        self.found: Event | None = None
        self.recording = recording

    @classmethod
    def of(cls, sender: Any, recording: Recording) -> _Distinct | None:
        try:
            if type not in safe.mro(type(sender)) or Model not in safe.mro(sender):
                return None
            meta = sender._meta
            # By identity: list.index() would compare fields with their (possibly custom) __eq__.
            pos = next(i for i, field in enumerate(meta.concrete_fields) if field is meta.pk)
            return cls(sender, pos, recording)
        except Exception:  # no pk among the concrete fields (an odd model): its rows are not told apart
            return None

    def adder(self) -> Callable[[Any], None]:
        """What the ``pre_init`` wrapper calls per instance built: a closure over what it needs, read from its
        cells rather than this object's slots (the hot path: a few C-level operations per row)."""
        pos, pks, copies, add = self.pos, self.pks, self.copies, self.pks.add
        plain, most = _PLAIN_KEYS, MAX_DISTINCT

        def seen(args: Any) -> None:
            if type(args) is not tuple or len(args) <= pos:  # built by keyword: no row yet
                return
            pk = args[pos]
            if type(pk) not in plain:
                return
            if pk in pks:
                next(copies)
                if self.found is None:
                    self.copied(sys._getframe(1))
                return
            add(pk)
            if len(pks) >= most:
                self.recording.distinct_rows[self.sender] = None

        return seen

    def copied(self, sending: FrameType) -> None:
        """The first copy of a row: where the query that built it was made."""
        found: Event = {}
        self.recording._site_of_query(sending, found)
        self.found = found

    def summarise(self, row: dict[str, Any]) -> None:
        """Distinct rows and copies into the model's ``inits`` row."""
        copies = int(repr(self.copies)[6:-1])
        if not self.pks and not copies:  # only instances built by keyword: no row to count
            return
        row["rows"] = len(self.pks)
        row["copies"] = copies
        if len(self.pks) >= MAX_DISTINCT:
            row["rows_capped"] = True
        if self.found:
            row.update({k: v for k, v in self.found.items() if k in ("site", "site_kind", "via")})


def _site_of(frame: FrameType | None) -> tuple[list[Any], list[int]]:
    codes: list[Any] = []
    lastis: list[int] = []
    while frame is not None:
        codes.append(frame.f_code)
        lastis.append(frame.f_lasti)
        frame = frame.f_back
    return codes, lastis


def _same_site(frame: FrameType | None, codes: list[Any], lastis: list[int]) -> bool:
    for code, lasti in zip(codes, lastis, strict=True):
        if frame is None or frame.f_code is not code or frame.f_lasti != lasti:
            return False
        frame = frame.f_back
    return frame is None


#: What a frame is to a call site: the user's code (the site), framework code (the site when no user frame
#: exists), or machinery that is never a site.
_USER, _FRAMEWORK, _MACHINERY, _HANDLER = 0, 1, 2, 3
#: Never a call site, even when no user frame exists: what sends (this package, the dispatcher, the ORM's
#: save/delete/iteration), and the plumbing every request passes through (handlers, servers, threads, the
#: template engine). ``django/db/models/base.py in save_base`` says nothing a developer can act on; the
#: framework code that called ``save()`` (``django/contrib/admin/options.py in save_model``) does.
MACHINERY_MODULES = (
    "dt_signals_panel",
    "django.dispatch",
    "django.db",
    "django.core.servers",
    "django.utils",
    "django.template",
    "django.test",
    "debug_toolbar",
    "asgiref",
    "contextlib",
    "asyncio",
    "concurrent",
    "threading",
    "socketserver",
    "wsgiref",
)


#: Where a request enters Django: the walk for a call site stops there.
HANDLER_MODULES = ("django.core.handlers",)


def _site_class(module: str, hidden: tuple[str, ...]) -> int:
    if not (module.startswith(hidden) and _is_module_or_child(module, hidden)):
        return _USER
    if module.startswith(HANDLER_MODULES) and _is_module_or_child(module, HANDLER_MODULES):
        return _HANDLER
    if module.startswith(MACHINERY_MODULES) and _is_module_or_child(module, MACHINERY_MODULES):
        return _MACHINERY
    return _FRAMEWORK


def _is_module_or_child(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


class capture:
    """Record every send of the tracked signals made in this context, in sync or async code.

    Captures nest: a send is recorded by every capture open around it. A plain thread started inside starts
    with an empty context, so its sends are not recorded; one that runs in a copy of this context (or inherits
    it, as threads do by default on free-threaded Python 3.14) is recorded until the capture closes, and
    nothing after.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or get_config()
        self.recording = Recording(self.config, tracked_signals(self.config))
        self._token: Token[tuple[Sink, ...]] | None = None

    def __enter__(self) -> Recording:
        install(self.recording.signals)
        queries.start()
        self._token = open_recordings.set((*open_recordings.get(), self.recording))
        self.recording.started = time.perf_counter()
        return self.recording

    def __exit__(self, *exc_info: object) -> None:
        self.recording.close()
        if self._token is not None:
            try:
                open_recordings.reset(self._token)
            except ValueError:
                # Closed from another context than it was opened in: drop just this capture from here.
                open_recordings.set(tuple(r for r in open_recordings.get() if r is not self.recording))
            self._token = None
        uninstall(self.recording.signals)
        queries.stop()

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)
