"""The panel's stats: a recording turned, once, into JSON primitives (groups per signal, the summary, the
findings of every registered kind, receivers by time and the stacks the listed events point at).

Built after the request from the recording's JSON-ready events; djdt stores the result and may render the
panel from it later, with no request at hand. ``Recording.stats()`` and ``dt_signals_panel.testing`` read
the same stats, so a test and the toolbar always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps

from dt_signals_panel import kinds, masking, signals
from dt_signals_panel.shapes import Event, ReceiverRow, Recorded

#: Bumped when the shape of the stats changes, so a stored toolbar from an older version is recognised.
STATS_VERSION = 4


def receiver_times(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Time per receiver across the request, slowest first, so the receiver that made a page slow is the
    first line."""
    rows: dict[str, dict[str, Any]] = {}
    shapes: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in events:
        for receiver in event.get("receivers") or ():
            row = rows.get(receiver["name"])
            if row is None:
                row = rows[receiver["name"]] = {
                    "name": receiver["name"],
                    "where": receiver.get("where", ""),
                    "calls": 0,
                    "ms": 0.0,
                    "max_ms": 0.0,
                    "errors": 0,
                    "signals": [],
                    "queries": 0,
                    "query_ms": 0.0,
                    "sql": [],
                }
            if receiver.get("queries"):
                _add_queries(row, receiver, shapes)
            if receiver.get("queries_not_measured"):  # an async receiver not observed (queries.covered): never a 0
                row["queries_not_measured"] = True
            ms = receiver.get("ms", 0.0)
            row["calls"] += 1
            row["ms"] = round(row["ms"] + ms, 3)
            row["max_ms"] = max(row["max_ms"], ms)
            row["errors"] += 1 if receiver.get("error") else 0
            if event["signal"] not in row["signals"]:
                row["signals"].append(event["signal"])
    for row in rows.values():
        row["sql"] = sorted(row["sql"], key=lambda shape: (-shape["count"], -shape["ms"]))[:MAX_SHAPES]
    return sorted(rows.values(), key=lambda r: (-r["ms"], r["name"]))


#: Groups of similar sends kept per signal; the sends of the groups past it are counted in one line.
MAX_GROUPS = 50

#: The arguments whose values make two sends "alike" when they agree (with the sender and the call site):
#: what a loop repeats. Identities (instance, pk_set, user, origin, request) differ from send to send and
#: are not part of the shape. Only arguments a light event also carries are used, so the first sends of a
#: loop (listed row by row) and the rest (only counted) land in one group.
SHAPE_ARGUMENTS = ("raw", "using", "update_fields", "action")

#: Query shapes listed per receiver in "Receivers by time".
MAX_SHAPES = 20


def _add_queries(
    row: dict[str, Any], receiver: ReceiverRow, shapes: dict[tuple[str, str, str], dict[str, Any]]
) -> None:
    """One call's queries (issue 16) added to its receiver's row: count, time and each shape's count."""
    row["queries"] += receiver["queries"]
    row["query_ms"] = round(row["query_ms"] + receiver.get("query_ms", 0.0), 3)
    for shape in receiver.get("sql") or ():
        key = (row["name"], shape["alias"], shape["sql"])
        known = shapes.get(key)
        if known is None:
            shapes[key] = dict(shape)
            row["sql"].append(shapes[key])
        else:
            known["count"] += shape["count"]
            known["ms"] = round(known["ms"] + shape["ms"], 3)


#: Argument values that key a group as they are (hashable, and equal only to themselves among JSON values).
_AS_THEY_ARE = frozenset({type(None), bool, str})


def _shape(args: dict[str, Any]) -> tuple[Any, ...]:
    shape: list[Any] = []
    for key in SHAPE_ARGUMENTS:
        if key in args:
            value = args[key]
            # A list (update_fields) by its text; a number too, so that 1 and True stay apart.
            shape.append((key, value) if type(value) in _AS_THEY_ARE else (key, "", repr(value)))
    return tuple(shape)


def similar(events: Sequence[Event], listed: set[int]) -> dict[str, Any]:
    """Every kept event of one signal grouped, as djdt's SQL panel groups similar queries: one group per
    sender, call site and argument shape, in the order the groups first sent. Each group says how many sends
    it holds, how many distinct rows they touched, their total dispatch time and which of them are listed
    row by row (``seqs``); the panel shows one line per group and the listed rows on demand."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    touched: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    sites: dict[int, tuple[Any, ...]] = {}  # events of one line share their site list (recorder._locate)
    for event in events:
        site = event.get("site")
        if site:
            site_key = sites.get(id(site))
            if site_key is None:
                site_key = sites[id(site)] = tuple(site)
        else:
            site_key = None
        args = event.get("args") or {}
        key = (event["sender"], site_key, _shape(args))
        group = rows.get(key)
        if group is None:
            group = rows[key] = {
                "sender": event["sender"],
                "site": site,
                "shape": {k: args[k] for k in SHAPE_ARGUMENTS if k in args},
                "count": 0,
                "ms": 0.0,
                "seqs": [],
            }
            touched[key] = set()
        group["count"] += 1
        group["ms"] += event.get("ms", 0.0)
        row = event.get("row")
        if row:
            touched[key].add((row["model"], row["pk"], row.get("using")))
        if event["seq"] in listed:
            group["seqs"].append(event["seq"])
    ordered = list(rows.items())
    for key, group in ordered:
        group["ms"] = round(group["ms"], 3)
        group["rows"] = len(touched[key])
    kept = [group for _key, group in ordered[:MAX_GROUPS]]
    rest = [group for _key, group in ordered[MAX_GROUPS:]]
    return {
        "groups": kept,
        "more_groups": len(rest),
        "more_events": sum(group["count"] for group in rest),
    }


def _renumber_stacks(groups: list[dict[str, Any]], stacks: Sequence[Any]) -> list[Any]:
    """Keep the stacks the listed events point at, and only those; each group's events are replaced by copies
    that point at the new numbers (the recording's own events are left as they are)."""
    kept: dict[int, int] = {}
    result: list[Any] = []
    for group in groups:
        listed = group["events"]
        for i, event in enumerate(listed):
            old = event.get("stack")
            if old is None:
                continue
            if old not in kept:
                kept[old] = len(result)
                result.append(stacks[old])
            listed[i] = {**event, "stack": kept[old]}
    return result


def _with_field_names(row: dict[str, Any]) -> dict[str, Any]:
    """The first ``pre_init`` example with the names of the fields its positional values were for (Django
    passes them in ``concrete_fields`` order): "id, name, sku, price…" says more than "6 values"."""
    example: dict[str, Any] | None = row.get("example")
    n = example.get("positional") if example else None
    if not n or example is None:
        return row
    try:
        model = apps.get_model(row["sender"])
    except (LookupError, ValueError):
        return row
    fields = [field.attname for field in model._meta.concrete_fields][:n]
    return {**row, "example": {**example, "fields": fields}}


def findings_of(recording: Recorded) -> dict[str, list[dict[str, Any]]]:
    """``build_stats(recording)["findings"]``, built alone: what the assertions and strict mode judge. Strict
    mode judges every test of a suite, and the groups, receiver times and the scrub of everything the panel
    shows cost more than the findings themselves. Scrubbed of the masked values as the whole stats are (a
    scrub replaces each string by itself, wherever it sits)."""
    found: dict[str, list[dict[str, Any]]] = masking.scrub(
        kinds.find_all(recording), masking.scrubber(recording.masked_values)
    )
    return found


def build_stats(recording: Recorded) -> dict[str, Any]:
    """The panel's stats: JSON primitives only, never empty (djdt reads an empty dict as 'panel off')."""
    events = recording.events
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event["signal"], []).append(event)
    counts: dict[str, int] = {}
    for (name, _sender), n in recording.counts().items():
        counts[name] = counts.get(name, 0) + n
    names = sorted(set(counts) | set(grouped), key=lambda n: (signals.order(n), n))
    groups: list[dict[str, Any]] = []
    for name in names:
        kept = grouped.get(name, [])
        shown = [e for e in kept if not e.get("light")]
        alike = similar(kept, {e["seq"] for e in shown})
        groups.append(
            {
                "signal": name,
                "count": counts.get(name, 0),
                "kept": len(kept),
                "ms": round(sum(e.get("ms", 0.0) for e in kept), 3),
                "events": shown,
                "similar": alike["groups"],
                "more_groups": alike["more_groups"],
                "more_events": alike["more_events"],
            }
        )
    stacks = _renumber_stacks(groups, recording.stacks)
    inits = [_with_field_names(row) for row in recording.inits]
    found = kinds.find_all(recording)
    receivers = receiver_times(events)
    summary = {
        "signals": sum(counts.values()) + sum(row["pre_init"] + row["post_init"] for row in inits),
        "saves": counts.get("post_save", 0),
        "deletes": counts.get("post_delete", 0),
        "failed_logins": counts.get("user_login_failed", 0),
        "rows_loaded": sum(row["post_init"] for row in inits),
        # Each family of findings counted under its own name ("redundant_saves", "receiver_errors", ...);
        # what framework code did (the admin, sessions) is counted apart, in no family's tile.
        **{family: sum(not kinds.is_framework(f) for f in items) for family, items in found.items()},
        "framework_findings": sum(kinds.is_framework(f) for items in found.values() for f in items),
        "slowest_receiver": receivers[0] if receivers and receivers[0]["ms"] > 0 else None,
        # Queries run by receivers (issue 16); the request's own total is added by the panel when djdt's SQL
        # panel knows it.
        "receiver_queries": sum(r["queries"] for r in receivers),
        "receiver_query_ms": round(sum(r["query_ms"] for r in receivers), 3),
        # Receivers whose queries are not in that count: async ones whose thread was not observed all along.
        "receivers_not_measured": sum(1 for r in receivers if r.get("queries_not_measured")),
        "kept": len(events),
        "shown": sum(len(group["events"]) for group in groups),
        "dropped": recording.dropped,
    }
    stats = {
        "version": STATS_VERSION,
        "summary": summary,
        "groups": groups,
        "inits": inits,
        "findings": found,
        "receivers": receivers,
        "stacks": stacks,
        "duration_ms": round(recording.duration_ms or 0.0, 3),
    }
    # A value masked in one event must not come back in another (a later receiver's error, a label).
    scrubbed: dict[str, Any] = masking.scrub(stats, masking.scrubber(recording.masked_values))
    return scrubbed
