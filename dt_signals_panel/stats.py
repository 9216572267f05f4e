"""The panel's stats: a recording turned, once, into JSON primitives (groups per signal, the summary, the
findings of every registered kind, receivers by time and the stacks the listed events point at).

Built after the request from the recording's JSON-ready events; djdt stores the result and may render the
panel from it later, with no request at hand. ``Recording.stats()`` and ``dt_signals_panel.testing`` read
the same stats, so a test and the toolbar always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dt_signals_panel import kinds, masking, signals
from dt_signals_panel.shapes import Event, Recorded

#: Bumped when the shape of the stats changes, so a stored toolbar from an older version is recognised.
STATS_VERSION = 3


def receiver_times(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Time per receiver across the request, slowest first, so the receiver that made a page slow is the
    first line."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        for receiver in event.get("receivers") or ():
            row = rows.setdefault(
                receiver["name"],
                {
                    "name": receiver["name"],
                    "where": receiver.get("where", ""),
                    "calls": 0,
                    "ms": 0.0,
                    "max_ms": 0.0,
                    "errors": 0,
                    "signals": [],
                },
            )
            ms = receiver.get("ms", 0.0)
            row["calls"] += 1
            row["ms"] = round(row["ms"] + ms, 3)
            row["max_ms"] = max(row["max_ms"], ms)
            row["errors"] += 1 if receiver.get("error") else 0
            if event["signal"] not in row["signals"]:
                row["signals"].append(event["signal"])
    return sorted(rows.values(), key=lambda r: (-r["ms"], r["name"]))


#: Call sites listed per signal when not every event of it is shown row by row.
MAX_SITES = 20


def call_sites(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Every kept event of one signal summed up by sender and call site, busiest first: what a page that
    saves thousands of rows needs to see, in a few lines."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for event in events:
        site = event.get("site")
        key = (event["sender"], tuple(site) if site else None)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"sender": event["sender"], "site": site, "count": 0, "ms": 0.0}
        row["count"] += 1
        row["ms"] += event.get("ms", 0.0)
    ordered = sorted(rows.values(), key=lambda r: (-r["count"], r["sender"]))[:MAX_SITES]
    for row in ordered:
        row["ms"] = round(row["ms"], 3)
    return ordered


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
        group: dict[str, Any] = {
            "signal": name,
            "count": counts.get(name, 0),
            "kept": len(kept),
            "ms": round(sum(e.get("ms", 0.0) for e in kept), 3),
            "events": shown,
        }
        if len(shown) < counts.get(name, 0):
            group["sites"] = call_sites(kept)
        groups.append(group)
    stacks = _renumber_stacks(groups, recording.stacks)
    inits = recording.inits
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
