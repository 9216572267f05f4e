"""Assertions about the signals your code sends, for pytest and for ``unittest`` / ``django.test``.

``assertNumQueries`` for signals: how many times a signal was sent, and none of the panel's findings
(redundant saves, credentials reaching receivers in clear). Every check reads ``Recording.stats()``, the
panel's own findings, and a failure lists each offending send with the ``path:line in function`` of your
code that made it.

Each assertion comes in two forms: a function that checks a recording you already have (from
``dt_signals_panel.capture()`` or the pytest fixture ``signal_capture``) and a context manager that records
its block and checks it on the way out, like ``assertNumQueries``. ``SignalAssertionsMixin`` gives a
``TestCase`` the context managers as methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db.models import Model
from django.dispatch import Signal
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dt_signals_panel import events, kinds, labels
from dt_signals_panel.formatting import site_text_or_unknown
from dt_signals_panel.query_findings import shape_text
from dt_signals_panel.recorder import Recording, capture
from dt_signals_panel.shapes import Event, ReceiverRow
from dt_signals_panel.signal_snapshot import SnapshotExpectation
from dt_signals_panel.signals import INIT_SIGNALS
from dt_signals_panel.stats import findings_of
from dt_signals_panel.text import event_arguments, format_recording

__all__ = [
    "Allow",
    "Expectation",
    "SignalAssertionsMixin",
    "allow_hint",
    "allowed",
    "assert_max_receiver_queries",
    "assert_no_credentials_in_clear",
    "assert_no_problems",
    "assert_no_queries_per_send_in_receivers",
    "assert_no_redundant_saves",
    "assert_signal_count",
    "expect_max_receiver_queries",
    "expect_no_credentials_in_clear",
    "expect_no_problems",
    "expect_no_queries_per_send_in_receivers",
    "expect_no_redundant_saves",
    "expect_signal_count",
    "expect_signal_snapshot",
    "format_recording",
    "problems",
    "signals_allow",
]

#: One allowlist entry. For redundant saves: a model (class or ``"app.Model"`` label), or a
#: ``(model, kind)`` pair; for credentials: a credential key (``"pin"``), or a ``(sender, key)`` pair; for
#: receiver errors: a receiver's dotted name, a ``(signal, receiver)`` or a ``(receiver, "ErrorType")`` pair
#: (the receiver as a function or its dotted name). Each kind's ``kinds.AllowShape`` says how its entries
#: read. ``"*"`` in a pair matches anything. A callable receives the finding (a dict) and returns True to
#: allow it.
Allow = str | type | tuple[Any, Any] | Callable[[dict[str, Any]], bool]

#: unittest leaves frames of modules that set this out of a failure's traceback, as it does for its own
#: assertion methods: the traceback ends at the test's line. (pytest reads ``__tracebackhide__`` instead.)
__unittest = True

#: The kinds of redundant save, as registered in ``kinds`` (read again at each check, so a kind registered
#: later is known too).
REDUNDANT_KINDS = kinds.ids("redundant_saves")


# -- counts ---------------------------------------------------------------------------------------------
def _signal_name(recording: Recording, signal: str | Signal) -> str:
    """The recorded name of ``signal``; a name or a Signal the capture does not track is a mistake in the
    test (a typo would otherwise pass ``expected=0`` forever)."""
    tracked = sorted(set(recording.signals.values()))
    if isinstance(signal, Signal):
        if signal not in recording.signals:
            raise ValueError(_("this signal is not recorded: add its dotted path to DT_SIGNALS_PANEL['EXTRA_SIGNALS']"))
        return recording.signals[signal]
    if signal not in tracked:
        raise ValueError(
            _("%(name)r is not a recorded signal; recorded: %(names)s") % {"name": signal, "names": ", ".join(tracked)}
        )
    return signal


def assert_signal_count(recording: Recording, signal: str | Signal, expected: int, *, sender: Any = None) -> None:
    """Fail unless ``signal`` (its name, ``"post_save"``, or the ``Signal``) was sent exactly ``expected``
    times, counting only sends from ``sender`` (a model class, its ``"app.Model"`` label, or a string
    sender) when given. The message lists every send with where your code made it."""
    __tracebackhide__ = True  # pytest shows the test's line, not ours
    name = _signal_name(recording, signal)
    actual = recording.count(name, sender)
    if actual == expected:
        return
    label = None if sender is None else labels.sender_label(sender)
    what = name if label is None else _("%(signal)s from %(sender)s") % {"signal": name, "sender": label}
    lines = [
        _("expected %(expected)d %(what)s, got %(actual)d") % {"expected": expected, "what": what, "actual": actual}
    ]
    if name in INIT_SIGNALS:
        lines += [
            f"  {row['sender']}: {row[name]}" for row in recording.inits if row[name] and label in (None, row["sender"])
        ]
    else:
        sends = [e for e in recording.events if e["signal"] == name and label in (None, e["sender"])]
        lines += [_describe_send(event) for event in sends]
        if len(sends) < actual:
            lines.append(_("  … and %(n)d more not kept (MAX_EVENTS)") % {"n": actual - len(sends)})
    raise AssertionError("\n".join(lines))


def _describe_send(event: Event) -> str:
    where = site_text_or_unknown(event.get("site"))
    return "  " + _("#%(seq)d %(sender)s at %(where)s: %(arguments)s") % {
        "seq": event["seq"],
        "sender": event["sender"],
        "where": where,
        "arguments": event_arguments(event),
    }


# -- findings -------------------------------------------------------------------------------------------
def _model_label(value: Any) -> str:
    """``"app.Model"`` of the concrete model, as findings key it: a proxy class names its base's rows."""
    if isinstance(value, type) and issubclass(value, Model):
        return str((value._meta.concrete_model or value)._meta.label)
    return str(value)


def _matches(pattern: str, value: Any) -> bool:
    return pattern == "*" or pattern == value


def _entries(allow: Allow | Iterable[Allow]) -> list[Allow]:
    """The allowlist as a list; a lone string or predicate is one entry, not a list of characters."""
    if isinstance(allow, str) or (callable(allow) and not isinstance(allow, type)):
        return [allow]
    return list(allow)  # type: ignore[arg-type]


def _redundant_entries(allow: Allow | Iterable[Allow]) -> list[Allow]:
    entries = _entries(allow)
    known = kinds.ids("redundant_saves")
    for entry in entries:
        # Checked up front, so a misspelt kind fails now rather than when the save it was meant for regresses.
        if isinstance(entry, tuple) and entry[1] != "*" and entry[1] not in known:
            raise ValueError(
                _("unknown redundant save kind %(kind)r; one of %(kinds)s")
                % {"kind": entry[1], "kinds": ", ".join(sorted(known))}
            )
    return entries


def _name(field: str, value: Any) -> Any:
    """An allowlist value as findings name it in ``field``."""
    if field == "model":
        return _model_label(value)
    if field == "sender":
        return labels.sender_label(value)
    if field == "receiver" and callable(value):
        return events.receiver_name(value)[0]
    return value


def allowed(finding: dict[str, Any], allow: Iterable[Allow]) -> bool:
    """Whether an entry of ``allow`` covers ``finding``, read the way its kind's ``AllowShape`` says (the
    matcher of every assertion here and of strict mode)."""
    kind = kinds.get(finding["kind"])
    if kind is None:
        return False
    shape = kind.allow
    for entry in allow:
        if isinstance(entry, tuple):
            for pair in shape.pairs:
                if all(_matches(_name(f, v), finding.get(f)) for f, v in zip(pair, entry, strict=True)):
                    return True
        elif isinstance(entry, str) or (isinstance(entry, type) and shape.classes):
            if _matches(_name(shape.one, entry), finding.get(shape.one)):
                return True
        elif not isinstance(entry, type) and entry(finding):
            return True
    return False


def allow_hint(finding: dict[str, Any]) -> tuple[Any, ...]:
    """The ``(a, b)`` entry that would allow ``finding`` and little else, as its kind's ``AllowShape.pair``
    names it: what a failure suggests."""
    kind = kinds.get(finding["kind"])
    fields = kind.allow.pair if kind is not None else ()
    return tuple(finding.get(field) for field in fields)


def _found(
    recording: Recording, family: str, allow: Iterable[Allow], include_framework: bool = True
) -> list[dict[str, Any]]:
    """The family's findings in the panel's stats that ``allow`` does not cover (and, unless
    ``include_framework``, that framework code rather than the project's made: ``kinds.is_framework``)."""
    return [
        f
        for f in findings_of(recording).get(family, ())
        if not allowed(f, allow) and (include_framework or not kinds.is_framework(f))
    ]


def problems(
    recording: Recording, allow: Iterable[Allow] = (), *, include_framework: bool = False
) -> list[dict[str, Any]]:
    """Every finding in ``recording`` of a kind registered with severity ``problem`` that ``allow`` does not
    cover, in the order the kinds were registered: what ``assert_no_problems`` and strict mode fail on. A
    finding framework code made on its own (``kinds.counts_as_problem``) only with ``include_framework``."""
    entries = list(allow)
    found = findings_of(recording)
    return [
        finding
        for family in kinds.families()
        for finding in found.get(family, ())
        if kinds.counts_as_problem(finding, include_framework=include_framework) and not allowed(finding, entries)
    ]


def assert_no_redundant_saves(
    recording: Recording, *, allow: Allow | Iterable[Allow] = (), include_framework: bool = False
) -> None:
    """Fail if the panel would report a redundant save (the same row saved again, a save that changed
    nothing, a full save where ``update_fields`` would do) that ``allow`` does not cover. Saves that
    framework code made on its own (the admin's save on "Save", the session saved twice on login) fail only
    with ``include_framework=True``."""
    __tracebackhide__ = True
    entries = _redundant_entries(allow)
    found = _found(recording, "redundant_saves", entries, include_framework)
    if not found:
        return
    lines = [ngettext("%(n)d redundant save:", "%(n)d redundant saves:", len(found)) % {"n": len(found)}]
    for finding in found:
        lines.append(f"  - {finding['message']}")
        lines.append("    " + _("known and wanted? allow=[(%(model)r, %(kind)r)]") % finding)
    raise AssertionError("\n".join(lines))


def assert_no_credentials_in_clear(recording: Recording, *, allow: Allow | Iterable[Allow] = ()) -> None:
    """Fail if a credential whose name looks sensitive reached ``user_login_failed`` receivers unmasked,
    unless ``allow`` covers it. Only key names are ever reported, never values."""
    __tracebackhide__ = True
    entries = _entries(allow)
    found = _found(recording, "credentials_in_clear", entries)
    if not found:
        return
    lines = [
        ngettext(
            "%(n)d credential reached receivers in clear:", "%(n)d credentials reached receivers in clear:", len(found)
        )
        % {"n": len(found)}
    ]
    for finding in found:
        where = site_text_or_unknown(finding.get("site"))
        lines.append(f"  - {finding['message']}")
        lines.append("    " + _("sent at %(where)s") % {"where": where})
    raise AssertionError("\n".join(lines))


def assert_no_problems(
    recording: Recording, *, allow: Allow | Iterable[Allow] = (), include_framework: bool = False
) -> None:
    """Fail on any finding of a kind whose severity is ``problem`` (redundant saves, credentials in clear,
    receivers that raised under ``send_robust``, and every kind registered later) that ``allow`` does not
    cover; each entry is read the way the finding's kind names things (``kinds.AllowShape``). Findings that
    framework code made on its own count only with ``include_framework=True``."""
    __tracebackhide__ = True
    found = problems(recording, _entries(allow), include_framework=include_framework)
    if not found:
        return
    lines = [ngettext("%(n)d problem:", "%(n)d problems:", len(found)) % {"n": len(found)}]
    for finding in found:
        lines.append(f"  - {finding['message']}")
        lines.append("    " + _("known and wanted? allow=[%(pair)r]") % {"pair": allow_hint(finding)})
    raise AssertionError("\n".join(lines))


# -- queries run by receivers (issue 16) -----------------------------------------------------------------
def _receiver_label(receiver: Any) -> str:
    return events.receiver_name(receiver)[0] if callable(receiver) and not isinstance(receiver, str) else receiver


def assert_max_receiver_queries(
    recording: Recording, n: int, *, receiver: Any = None, signal: str | Signal | None = None, sender: Any = None
) -> None:
    """Fail if the receivers ran more than ``n`` SQL queries in all, counting only ``receiver`` (a function or
    its dotted name), sends of ``signal`` and sends from ``sender`` when given. The message names each
    receiver with its queries, their shapes and where the sends were made. Counts come from the kept events
    (``MAX_EVENTS``)."""
    __tracebackhide__ = True
    name = None if signal is None else _signal_name(recording, signal)
    label = None if sender is None else labels.sender_label(sender)
    wanted = None if receiver is None else _receiver_label(receiver)
    calls: dict[str, list[tuple[Event, ReceiverRow]]] = {}
    unmeasured: dict[str, int] = {}
    for event in recording.events:
        if name not in (None, event["signal"]) or label not in (None, event["sender"]):
            continue
        for row in event.get("receivers") or ():
            if wanted not in (None, row["name"]):
                continue
            if row.get("queries"):
                calls.setdefault(row["name"], []).append((event, row))
            elif row.get("queries_not_measured"):
                unmeasured[row["name"]] = unmeasured.get(row["name"], 0) + 1
    total = sum(row["queries"] for made in calls.values() for _event, row in made)
    if total <= n and unmeasured:
        # An async receiver whose queries the panel could not see (README, "Async receivers' queries"): a
        # bound that cannot be checked fails, rather than pass on a count that may be short.
        calls_made = sum(unmeasured.values())
        raise AssertionError(
            ngettext(
                "cannot check at most %(n)d queries run by receivers: %(receivers)s ran %(calls)d call whose "
                "queries were not measured",
                "cannot check at most %(n)d queries run by receivers: %(receivers)s ran %(calls)d calls whose "
                "queries were not measured",
                calls_made,
            )
            % {"n": n, "receivers": ", ".join(sorted(unmeasured)), "calls": calls_made}
        )
    if total <= n:
        return
    lines = [
        ngettext(
            "expected at most %(n)d query run by receivers, got %(total)d:",
            "expected at most %(n)d queries run by receivers, got %(total)d:",
            n,
        )
        % {"n": n, "total": total}
    ]
    for receiver_name, made in sorted(calls.items(), key=lambda item: -sum(r["queries"] for _e, r in item[1])):
        queries = sum(row["queries"] for _event, row in made)
        lines.append(
            "  "
            + _("%(receiver)s: %(queries)d queries in %(calls)d calls")
            % {"receiver": receiver_name, "queries": queries, "calls": len(made)}
        )
        shapes: dict[tuple[str, str], int] = {}
        for _event, row in made:
            for shape in row.get("sql") or ():
                shapes[(shape["alias"], shape["sql"])] = shapes.get((shape["alias"], shape["sql"]), 0) + shape["count"]
        for (alias, sql), count in sorted(shapes.items(), key=lambda item: -item[1]):
            lines.append(f"    {shape_text({'alias': alias, 'sql': sql, 'count': count})}")
        sites = sorted({site_text_or_unknown(event.get("site")) for event, _row in made})
        lines.append("    " + _("sent at %(where)s") % {"where": ", ".join(sites)})
    raise AssertionError("\n".join(lines))


def assert_no_queries_per_send_in_receivers(recording: Recording, *, allow: Allow | Iterable[Allow] = ()) -> None:
    """Fail if a receiver ran queries on each of many sends of one signal from one sender (the panel's
    "queries in a receiver per send", ``RECEIVER_QUERY_SENDS`` sends or more), unless ``allow`` covers it: a
    receiver (function or dotted name), or a ``(signal, receiver)`` pair."""
    __tracebackhide__ = True
    found = _found(recording, "queries_in_receivers", _entries(allow))
    if not found:
        return
    lines = [
        ngettext("%(n)d receiver ran queries on every send:", "%(n)d receivers ran queries on every send:", len(found))
        % {"n": len(found)}
    ]
    for finding in found:
        lines.append(f"  - {finding['message']}")
        lines.append("    " + _("known and wanted? allow=[(%(signal)r, %(receiver)r)]") % finding)
    raise AssertionError("\n".join(lines))


# -- context managers -----------------------------------------------------------------------------------
class Expectation:
    """Records its block (``with`` or ``async with``, yielding the recording), then checks it unless the
    block raised. A class rather than ``@contextmanager`` so pytest can hide it and show the test's line."""

    def __init__(self, check: Callable[[Recording], None]) -> None:
        self._check = check
        self._capture = capture()

    def __enter__(self) -> Recording:
        return self._capture.__enter__()

    def __exit__(self, error_type: type[BaseException] | None, *rest: object) -> None:
        __tracebackhide__ = True
        self._capture.__exit__(error_type, *rest)
        if error_type is None:
            self._check(self._capture.recording)

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, error_type: type[BaseException] | None, *rest: object) -> None:
        __tracebackhide__ = True
        self.__exit__(error_type, *rest)


def expect_signal_count(signal: str | Signal, expected: int, *, sender: Any = None) -> Expectation:
    """Record the block (``with`` or ``async with``) and fail at its end unless ``signal`` was sent exactly
    ``expected`` times."""
    return Expectation(partial(assert_signal_count, signal=signal, expected=expected, sender=sender))


def expect_no_redundant_saves(*, allow: Allow | Iterable[Allow] = (), include_framework: bool = False) -> Expectation:
    """Record the block and fail at its end if it made a redundant save ``allow`` does not cover."""
    return Expectation(
        partial(assert_no_redundant_saves, allow=_redundant_entries(allow), include_framework=include_framework)
    )


def expect_no_credentials_in_clear(*, allow: Allow | Iterable[Allow] = ()) -> Expectation:
    """Record the block and fail at its end if a sensitive credential reached receivers in clear."""
    return Expectation(partial(assert_no_credentials_in_clear, allow=_entries(allow)))


def expect_signal_snapshot(name: str | None = None) -> SnapshotExpectation:
    """Record the block (``with`` / ``async with``) and compare what it sent with the test's record in the
    snapshot file beside the test module (``test_orders.signals.json``); a missing record is written once the
    test passes, a different one fails with a diff. ``name`` keys a second block of the same test."""
    return SnapshotExpectation(name)


def signals_allow(*entries: Allow) -> Callable[[Any], Any]:
    """Strict mode's allow list for one ``TestCase`` method or class; see ``dt_signals_panel.strict``."""
    from dt_signals_panel.strict import signals_allow

    return signals_allow(*entries)


def expect_no_problems(*, allow: Allow | Iterable[Allow] = (), include_framework: bool = False) -> Expectation:
    """Record the block and fail at its end if it shows a problem of any kind that ``allow`` does not cover."""
    return Expectation(partial(assert_no_problems, allow=_entries(allow), include_framework=include_framework))


def expect_max_receiver_queries(
    n: int, *, receiver: Any = None, signal: str | Signal | None = None, sender: Any = None
) -> Expectation:
    """Record the block and fail at its end if receivers ran more than ``n`` queries (see
    :func:`assert_max_receiver_queries`)."""
    return Expectation(partial(assert_max_receiver_queries, n=n, receiver=receiver, signal=signal, sender=sender))


def expect_no_queries_per_send_in_receivers(*, allow: Allow | Iterable[Allow] = ()) -> Expectation:
    """Record the block and fail at its end if a receiver ran queries on each of many sends."""
    return Expectation(partial(assert_no_queries_per_send_in_receivers, allow=_entries(allow)))


class SignalAssertionsMixin:
    """For ``unittest.TestCase`` / ``django.test.TestCase``: ``with self.assertSignalCount("post_save", 1):``
    in the manner of ``assertNumQueries``. Each yields the recording, for further checks."""

    def assertSignalCount(self, signal: str | Signal, expected: int, sender: Any = None) -> Expectation:
        return expect_signal_count(signal, expected, sender=sender)

    def assertNoRedundantSaves(
        self, allow: Allow | Iterable[Allow] = (), include_framework: bool = False
    ) -> Expectation:
        return expect_no_redundant_saves(allow=allow, include_framework=include_framework)

    def assertNoCredentialsInClear(self, allow: Allow | Iterable[Allow] = ()) -> Expectation:
        return expect_no_credentials_in_clear(allow=allow)

    def assertSignalSnapshot(self, name: str | None = None) -> SnapshotExpectation:
        return expect_signal_snapshot(name)

    def assertNoProblems(self, allow: Allow | Iterable[Allow] = (), include_framework: bool = False) -> Expectation:
        return expect_no_problems(allow=allow, include_framework=include_framework)

    def assertMaxReceiverQueries(
        self, n: int, receiver: Any = None, signal: str | Signal | None = None, sender: Any = None
    ) -> Expectation:
        return expect_max_receiver_queries(n, receiver=receiver, signal=signal, sender=sender)

    def assertNoQueriesPerSendInReceivers(self, allow: Allow | Iterable[Allow] = ()) -> Expectation:
        return expect_no_queries_per_send_in_receivers(allow=allow)
