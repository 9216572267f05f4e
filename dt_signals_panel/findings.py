"""What the panel states about a recording: groups, a summary, and the findings a developer came for.

Built once, after the request, from the recording's JSON-ready events; the result is the panel's stats.
The same functions serve ``dt_signals_panel.testing``, so a test and the panel always agree.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dt_signals_panel import signals
from dt_signals_panel.recorder import Recording

#: Bumped when the shape of the stats changes, so a stored toolbar from an older version is recognised.
STATS_VERSION = 2
#: Instances initialised per request past which the panel suggests loading less.
MANY_INSTANCES = 1000

Event = dict[str, Any]


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


def _site_text(site: Sequence[Any] | None) -> str:
    return site_text(site) or _("an unknown place")


def redundant_saves(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Saves a developer could drop or narrow: the same row saved again, a save that changed nothing, and a
    full save where ``update_fields`` would do. Keyed on the concrete model, so a proxy and its base are one
    row, and on the database alias, so the same pk in two databases is two rows."""
    found: list[dict[str, Any]] = []
    by_row: dict[tuple[str, str, Any], list[Event]] = {}
    for event in events:
        row = event.get("row")
        if event["signal"] == "post_save" and row:
            by_row.setdefault((row["model"], row["pk"], row.get("using")), []).append(event)
    for (model, pk, using), saves in by_row.items():
        if len(saves) < 2:
            continue
        found.append(
            {
                "kind": "saved_again",
                "model": model,
                "pk": pk,
                "using": using,
                "seqs": [e["seq"] for e in saves],
                "sites": [e.get("site") for e in saves],
                "fields": [],
            }
        )
    for event in events:
        if event["signal"] != "pre_save":
            continue
        changed = event.get("changed")
        row = event.get("row")
        if changed is None or not row or event["args"].get("raw"):
            continue
        if not _updated_in_place(event, by_row.get((row["model"], row["pk"], row.get("using")), [])):
            continue
        if changed:
            if event["args"].get("update_fields") is not None or len(changed) >= event.get("field_count", 0):
                continue
            kind = "update_fields_would_do"
        else:
            kind = "nothing_changed"
        found.append(
            {
                "kind": kind,
                "model": row["model"],
                "pk": row["pk"],
                "using": row.get("using"),
                "seqs": [event["seq"]],
                "sites": [event.get("site")],
                "fields": changed,
            }
        )
    found.sort(key=lambda f: f["seqs"][0])
    merged = _merge_alike(found)
    for item in merged:
        item["message"] = _message(item) if item["rows"] == 1 else _merged_message(item)
    return merged


def _updated_in_place(pre_save: Event, post_saves: list[Event]) -> bool:
    """Whether the save that sent ``pre_save`` completed as an update of the row it was judged against: its
    ``post_save`` (the next one of the same row under the same parent) was kept and says ``created=False``.
    A save that inserted the row again (deleted meanwhile by a query that sends no signal) changed the row;
    one that raised or whose ``post_save`` was not kept is not judged."""
    seqs = [event["seq"] for event in post_saves]
    for post_save in post_saves[bisect.bisect_right(seqs, pre_save["seq"]) :]:
        if post_save.get("parent") == pre_save.get("parent"):
            return post_save["args"].get("created") is False
    return False


def _message(item: dict[str, Any]) -> str:
    model, pk, sites = item["model"], item["pk"], item["sites"]
    if item["kind"] == "saved_again":
        return (
            ngettext(
                "redundant save: %(model)s #%(pk)s was saved %(n)d time in this request",
                "redundant save: %(model)s #%(pk)s was saved %(n)d times in this request",
                len(sites),
            )
            % {"model": model, "pk": pk, "n": len(sites)}
            + " ("
            + ", ".join(_site_text(site) for site in sites)
            + ")"
        )
    if item["kind"] == "nothing_changed":
        return _(
            "redundant save: %(model)s #%(pk)s was saved but no field changed since it was "
            "loaded or last saved (%(site)s)"
        ) % {"model": model, "pk": pk, "site": _site_text(sites[0])}
    return _(
        "partly redundant save: %(model)s #%(pk)s was saved in full but only %(fields)s "
        "changed; save(update_fields=%(list)s) would do (%(site)s)"
    ) % {
        "model": model,
        "pk": pk,
        "fields": ", ".join(item["fields"]),
        "list": repr(sorted(item["fields"])),
        "site": _site_text(sites[0]),
    }


#: Sequence numbers kept per merged finding (enough to highlight every row the panel shows).
MAX_SEQS = 200
#: Primary keys named per merged finding.
MAX_PKS = 20


def _merge_alike(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding per kind, model, database, call sites and fields: a loop that saves 10,000 rows the same
    way is one thing to fix, not 10,000 lines. A finding about one row keeps its own message."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for item in found:
        sites = tuple(tuple(site) if site else None for site in item["sites"])
        key = (item["kind"], item["model"], item["using"], sites, tuple(item["fields"]), len(item["seqs"]))
        into = merged.get(key)
        if into is None:
            merged[key] = {**item, "rows": 1, "pks": [item["pk"]], "seqs": list(item["seqs"])}
            continue
        into["rows"] += 1
        if len(into["pks"]) < MAX_PKS:
            into["pks"].append(item["pk"])
        if len(into["seqs"]) < MAX_SEQS:
            into["seqs"].extend(item["seqs"][: MAX_SEQS - len(into["seqs"])])
    return list(merged.values())


def _merged_message(item: dict[str, Any]) -> str:
    n, model = item["rows"], item["model"]
    sites = ", ".join(_site_text(site) for site in item["sites"])
    if item["kind"] == "saved_again":
        text = _("redundant save: %(n)d %(model)s rows were each saved %(times)d times in this request") % {
            "n": n,
            "model": model,
            "times": len(item["sites"]),
        }
    elif item["kind"] == "nothing_changed":
        text = _(
            "redundant save: %(n)d %(model)s rows were saved but no field changed since they were loaded or last saved"
        ) % {"n": n, "model": model}
    else:
        text = _(
            "partly redundant save: %(n)d %(model)s rows were saved in full but only %(fields)s changed; "
            "save(update_fields=%(list)s) would do"
        ) % {"n": n, "model": model, "fields": ", ".join(item["fields"]), "list": repr(sorted(item["fields"]))}
    return f"{text} ({sites})"


def credentials_in_clear(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Every credential that looked sensitive and still reached the receivers of ``user_login_failed`` in
    clear. The values were masked before they were recorded; only the key names are here."""
    found = []
    for event in events:
        for row in event.get("credentials") or ():
            if row["status"] != "sensitive_in_clear":
                continue
            via = row.get("via_authenticate", False)
            found.append(
                {
                    "seq": event["seq"],
                    "sender": event["sender"],
                    "key": row["key"],
                    "site": event.get("site"),
                    "via_authenticate": via,
                    "message": (
                        _(
                            "credential %(key)r reached user_login_failed receivers in clear (sent through authenticate(), whose masking does not cover it)"
                        )
                        if via
                        else _(
                            "credential %(key)r reached user_login_failed receivers in clear (sent by %(sender)s, bypassing authenticate(): Django masked nothing)"
                        )
                    )
                    % {"key": row["key"], "sender": event["sender"]},
                }
            )
    return found


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


def init_hints(inits: Sequence[dict[str, Any]], saves_by_model: dict[str, int]) -> list[dict[str, Any]]:
    hints = []
    for row in inits:
        made = row["post_init"]
        if made < MANY_INSTANCES:
            continue
        hints.append(
            {
                "sender": row["sender"],
                "count": made,
                "message": _(
                    "%(n)d %(model)s instances were built in this request and %(saved)d saved: if the page "
                    "does not need them all, load fewer (pagination, .only(), .values(), .iterator())"
                )
                % {"n": made, "model": row["sender"], "saved": saves_by_model.get(row["sender"], 0)},
            }
        )
    return hints


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


def build_stats(recording: Recording) -> dict[str, Any]:
    """The panel's stats: JSON primitives only, never empty (djdt reads an empty dict as 'panel off')."""
    events = recording.events
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event["signal"], []).append(event)
    counts: dict[str, int] = {}
    saves_by_model: dict[str, int] = {}
    for (name, sender), n in recording.counts().items():
        counts[name] = counts.get(name, 0) + n
        if name == "post_save":
            saves_by_model[sender] = saves_by_model.get(sender, 0) + n
    names = sorted(set(counts) | set(grouped), key=lambda n: (signals.order(n), n))
    groups = []
    for name in names:
        kept = grouped.get(name, [])
        shown = [e for e in kept if not e.get("light")]
        group = {
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
    redundant = redundant_saves(events)
    in_clear = credentials_in_clear(events)
    receivers = receiver_times(events)
    summary = {
        "signals": sum(counts.values()) + sum(row["pre_init"] + row["post_init"] for row in inits),
        "saves": counts.get("post_save", 0),
        "deletes": counts.get("post_delete", 0),
        "failed_logins": counts.get("user_login_failed", 0),
        "rows_loaded": sum(row["post_init"] for row in inits),
        "redundant_saves": len(redundant),
        "credentials_in_clear": len(in_clear),
        "slowest_receiver": receivers[0] if receivers and receivers[0]["ms"] > 0 else None,
        "kept": len(events),
        "shown": sum(len(group["events"]) for group in groups),
        "dropped": recording.dropped,
    }
    return {
        "version": STATS_VERSION,
        "summary": summary,
        "groups": groups,
        "inits": inits,
        "findings": {
            "redundant_saves": redundant,
            "credentials_in_clear": in_clear,
            "init_hints": init_hints(inits, saves_by_model),
        },
        "receivers": receivers,
        "stacks": stacks,
        "duration_ms": round(recording.duration_ms or 0.0, 3),
    }
