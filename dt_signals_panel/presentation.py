"""The panel's view model: stored stats shaped for the template (rows, notes, stacks, tiles, columns).

Runs when the panel is opened, possibly in a later request, from the stats alone. Formatting of single
values lives in ``formatting.py``; what each kind of finding looks like lives in ``kinds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from debug_toolbar.utils import render_stacktrace
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dt_signals_panel import kinds
from dt_signals_panel.formatting import show, site_cells
from dt_signals_panel.stats import STATS_VERSION

#: Values longer than this fold to one line (cut at the column's width) and open in full on demand.
LONG_VALUE = 30


@dataclass(frozen=True)
class Column:
    """One column of a table: its heading, the class its cells share (numbers align right) and, for a
    signal's own arguments, the argument it shows."""

    label: Any
    css: str = ""
    key: str = ""


NUM = "djdt-sig-num"

#: The arguments each signal's table shows in columns of their own, in this order (the others are under
#: "More" in the row, shown when they say something: ``raw`` only when true, ``update_fields`` when given).
#: A signal not named here (a project's own) shows every argument under "More".
SIGNAL_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "pre_save": ("instance", "using"),
    "post_save": ("instance", "created", "using"),
    "pre_delete": ("instance", "origin", "using"),
    "post_delete": ("instance", "origin", "using"),
    "m2m_changed": ("action", "instance", "model", "pk_set"),
    "user_logged_in": ("user", "request"),
    "user_logged_out": ("user", "request"),
    "user_login_failed": ("credentials",),
}
#: Arguments not worth a word under "More" when they hold this value (the defaults of nearly every send).
QUIET_VALUES: dict[str, Any] = {"raw": False, "update_fields": None, "reverse": False, "using": "default"}
#: Where the argument columns go in a signal's table, between the columns before and after.
#: (The stylesheet sizes each column by its ``djdt-sig-c-*`` class; an argument's is named after it.)
EVENTS_BEFORE = (Column("#", f"{NUM} djdt-sig-c-seq"), Column(gettext_lazy("Sender"), "djdt-sig-c-sender"))
EVENTS_AFTER = (
    Column(gettext_lazy("More"), "djdt-sig-c-more"),
    Column(gettext_lazy("Receivers"), "djdt-sig-c-receivers"),
    Column(gettext_lazy("Dispatch (ms)"), f"{NUM} djdt-sig-c-ms"),
    Column(gettext_lazy("Sent from"), "djdt-sig-c-site"),
)

#: Each table's columns, declared once: the headings, and the width of a row that spans the table.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "inits": (
        Column(gettext_lazy("Model")),
        Column("pre_init", NUM),
        Column("post_init", NUM),
        Column(gettext_lazy("Distinct rows"), NUM),
        Column(gettext_lazy("First pre_init arguments")),
    ),
    "credentials": (
        Column(gettext_lazy("Credential")),
        Column(gettext_lazy("Value received")),
        Column(gettext_lazy("Masking")),
    ),
    "receivers": (
        Column(gettext_lazy("Receiver")),
        Column(gettext_lazy("Signals")),
        Column(gettext_lazy("Calls"), NUM),
        Column(gettext_lazy("Total (ms)"), NUM),
        Column(gettext_lazy("Slowest (ms)"), NUM),
        Column(gettext_lazy("Raised"), NUM),
        Column(gettext_lazy("Queries"), NUM),
        Column(gettext_lazy("Query time (ms)"), NUM),
    ),
}


def signal_columns(signal: str) -> tuple[Column, ...]:
    """The columns of one signal's table: its own arguments between the columns every signal has."""
    keys = SIGNAL_ARGUMENTS.get(signal)
    if keys is None:  # a signal of the project's own: its arguments are the widest column
        return (*EVENTS_BEFORE, Column(gettext_lazy("Arguments"), "djdt-sig-c-arguments"), *EVENTS_AFTER[1:])
    own = tuple(Column(key, f"djdt-sig-c-{key}", key) for key in keys)
    return EVENTS_BEFORE + own + EVENTS_AFTER


def argument(key: str, value: Any) -> tuple[str, str, bool]:
    """``(name, text, long)`` for the template: a long text is folded to one line until the reader opens it."""
    text = show(value)
    return key, text, len(text) > LONG_VALUE


def init_example(example: dict[str, Any] | None) -> str:
    """The first ``pre_init`` of a model in words: the fields its positional values were for (never the
    values: raw columns, password hashes among them), then its keyword arguments."""
    if not example or not example.get("args"):
        return ""
    kwargs = example.get("kwargs") or {}
    fields = example.get("fields")
    parts = [f"{k}={show(v)}" for k, v in kwargs.items()]
    if fields:
        n = example.get("positional", len(fields))
        shown = ", ".join(fields[:8]) + ("…" if n > 8 else "")
        parts.insert(0, ngettext("%(n)d value: %(fields)s", "%(n)d values: %(fields)s", n) % {"n": n, "fields": shown})
    elif example.get("positional", 1) or not parts:
        parts.insert(0, show(example["args"]))
    return ", ".join(parts)


def depths(events: list[dict[str, Any]]) -> dict[int, int]:
    """Nesting depth of each event: how many of its ancestors were kept."""
    parent_of = {e["seq"]: e.get("parent") for e in events}
    found: dict[int, int] = {}
    for seq in sorted(parent_of):
        parent = parent_of[seq]
        found[seq] = found[parent] + 1 if parent in found else 0
    return found


def count_parts(kind: kinds.Kind, n: int) -> tuple[str, str]:
    """The kind's count as words, split around the number, so the tile can set the number apart in any
    language's word order."""
    text, number = kind.count_text(n), str(n)
    before, found, after = text.partition(number)
    return (before, after) if found else ("", f" {text}")


def finding_tiles(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One summary tile per family of findings that has one (``Kind.tile``), in registry order. A family
    whose tile is ``always`` still has none on a page that sent nothing (no zero tiles on an empty page)."""
    tiles = []
    for family, members in kinds.families().items():
        kind = members[0]
        n = summary.get(family, 0)
        if kind.tile == "never" or (not n and (kind.tile == "when_found" or not summary.get("signals"))):
            continue
        before, after = count_parts(kind, n)
        tiles.append(
            {"family": family, "n": n, "before": before, "after": after, "alert": bool(n), "severity": kind.severity}
        )
    return tiles


def finding_rows(findings: dict[str, list[dict[str, Any]]], listed: set[int]) -> list[dict[str, Any]]:
    """Every finding in registry order, with what the template needs from its kind and the listed rows it
    links to (``targets``: a finding about sends only counted links to none)."""
    rows: list[dict[str, Any]] = []
    for family in kinds.families():
        for finding in findings.get(family, ()):
            kind = kinds.get(finding["kind"])
            seqs = finding.get("seqs") or []
            severity = kinds.severity_of(finding)
            rows.append(
                {
                    "kind": finding["kind"],
                    "message": finding["message"],
                    "seqs": seqs,
                    "targets": [seq for seq in seqs if seq in listed],
                    "severity": severity,
                    "words": kind.words if kind is not None else finding["kind"],
                    "anchor": f"djdt-sig-finding-{len(rows)}",
                    "alert": severity == "problem",
                    # Made by framework code on its own: listed apart, marks no row (framework.py).
                    "framework": kinds.is_framework(finding),
                }
            )
    return rows


def _marks(found: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Per listed row, the findings about it: a short mark (the kind's words, a link to the finding) rather
    than the finding's whole message on every row it covers."""
    marks: dict[int, list[dict[str, Any]]] = {}
    for finding in found:
        mark = {"words": finding["words"], "anchor": finding["anchor"], "severity": finding["severity"]}
        for seq in finding["targets"]:
            # One mark per kind of finding on a row; it links to the first finding of that kind.
            if all(other["words"] != mark["words"] for other in marks.setdefault(seq, [])):
                marks[seq].append(mark)
    return marks


def _meaningful(key: str, value: Any) -> bool:
    return key not in QUIET_VALUES or value != QUIET_VALUES[key]


def event_row(
    event: dict[str, Any], columns: tuple[Column, ...], marks: list[dict[str, Any]], stack_html: str, stack_as: Any
) -> dict[str, Any]:
    """One listed send as one line: its own columns, what else it carried when that says something
    (``raw`` when true, ``update_fields`` when given, the changed fields), everything on demand."""
    args = event["args"]
    own = {column.key for column in columns if column.key}
    cells = []
    for column in columns:
        if column.key:
            if column.key in args:
                cells.append(argument(column.key, args[column.key]))
            else:
                cells.append((column.key, "", False))
    rest = [argument(k, v) for k, v in args.items() if k not in own]
    brief = [f"{key}={text}" for key, text, _long in rest if _meaningful(key, args[key])]
    changed = event.get("changed")
    if changed is not None:
        brief.append(_("changed: %(fields)s") % {"fields": ", ".join(changed)} if changed else _("changed: nothing"))
    site, site_title = site_cells(event.get("site"))
    receivers = event.get("receivers") or []
    return {
        **event,
        "cells": cells,
        "brief": " · ".join(brief),
        "rest": rest,
        "receiver_text": ", ".join(r["name"] for r in receivers),
        "receiver_errors": sum(1 for r in receivers if r.get("error")),
        "site_text": site,
        "site_title": site_title,
        "marks": marks,
        "severity": "problem" if any(m["severity"] == "problem" for m in marks) or event.get("error") else "",
        "stack_html": stack_html,
        "stack_as": stack_as,
        # What the chronological list shows of its arguments.
        "headline": next((show(args[k]) for k in ("instance", "action", "user") if k in args), ""),
    }


def _group_line(signal: str, index: int, alike: dict[str, Any], columns: tuple[Column, ...]) -> dict[str, Any]:
    shape = alike.get("shape") or {}
    cells = []
    for column in columns:
        if not column.key:
            continue
        if column.key in shape:
            cells.append(show(shape[column.key]))
        elif column.key == "instance" and alike.get("rows"):
            cells.append(ngettext("%(n)d row", "%(n)d rows", alike["rows"]) % {"n": alike["rows"]})
        else:
            cells.append("")
    own = {column.key for column in columns if column.key}
    brief = [f"{k}={show(v)}" for k, v in shape.items() if k not in own and _meaningful(k, v)]
    site, site_title = site_cells(alike.get("site"))
    return {
        "id": f"djdt-sig-g-{signal}-{index}",
        "sender": alike["sender"],
        "count": alike["count"],
        "listed": len(alike.get("seqs") or ()),
        "ms": alike["ms"],
        "cells": cells,
        "brief": " · ".join(brief),
        "site_text": site,
        "site_title": site_title,
    }


def view_model(stats: dict[str, Any]) -> dict[str, Any]:
    if stats.get("version") != STATS_VERSION:
        return {"stale": True}
    stacks = stats.get("stacks", [])
    listed = {event["seq"] for group in stats["groups"] for event in group["events"]}
    found = finding_rows(stats["findings"], listed)
    marks = _marks([row for row in found if not row["framework"]])
    groups = []
    every: list[dict[str, Any]] = []
    # A stack is rendered once, under the first row that has it; the other rows link to that row. A loop
    # that saves a hundred rows has one stack, and repeating it a hundred times would be most of the page.
    first_with: dict[int, int] = {}
    for group in stats["groups"]:
        for event in group["events"]:
            stack = event.get("stack")
            if stack is not None and stack < len(stacks):
                first_with[stack] = min(first_with.get(stack, event["seq"]), event["seq"])
    for group in stats["groups"]:
        columns = signal_columns(group["signal"])
        by_seq = {}
        for event in group["events"]:
            stack = event.get("stack")
            first = first_with.get(stack) if stack is not None else None
            row = event_row(
                event,
                columns,
                marks.get(event["seq"], []),
                render_stacktrace(stacks[stack]) if first == event["seq"] else "",
                first if first is not None and first != event["seq"] else None,
            )
            by_seq[event["seq"]] = row
            every.append(row)
        bundles = []
        placed: set[int] = set()
        for i, alike in enumerate(group.get("similar", ())):
            members = [by_seq[seq] for seq in alike.get("seqs") or () if seq in by_seq]
            placed.update(row["seq"] for row in members)
            line = (
                None if alike["count"] == 1 and len(members) == 1 else _group_line(group["signal"], i, alike, columns)
            )
            if line is not None:
                line["marks"] = [m for row in members for m in row["marks"]][:3]
                line["severity"] = "problem" if any(row["severity"] for row in members) else ""
            bundles.append({"line": line, "rows": members})
        # A listed row whose group is past MAX_GROUPS still has a line of its own.
        bundles += [{"line": None, "rows": [row]} for seq, row in by_seq.items() if seq not in placed]
        alike_count = len(group.get("similar", ())) + group.get("more_groups", 0)
        groups.append(
            {
                **group,
                "columns": columns,
                "width": len(columns),
                "bundles": bundles,
                "alike": alike_count,
                "listed": len(by_seq),
                "not_listed": group["count"] - len(by_seq),
                "anchor": f"djdt-sig-{group['signal']}",
            }
        )
    nesting = depths(every)
    chronological = sorted(every, key=lambda e: e["seq"])
    for row in chronological:
        row["depth"] = min(nesting.get(row["seq"], 0), 8)
    inits = [{**row, "example_text": init_example(row.get("example"))} for row in stats["inits"]]
    summary = stats["summary"]
    return {
        "summary": summary,
        "tiles": finding_tiles(summary),
        "groups": groups,
        "chronological": chronological,
        "chronological_folded": len(chronological) > CHRONOLOGICAL_OPEN,
        "nested": any(row["depth"] for row in chronological),
        "not_shown": sum(group["not_listed"] for group in groups),
        "inits": inits,
        "senders": sorted({row["sender"] for row in every} | {row["sender"] for row in inits}),
        "findings": [row for row in found if not row["framework"]],
        "framework_findings": [row for row in found if row["framework"]],
        "receivers": stats["receivers"][:20],
        "duration_ms": stats.get("duration_ms"),
        "columns": COLUMNS,
    }


#: The "in order sent" list opens folded past this many rows: a loop's hundreds of lines are in its groups.
CHRONOLOGICAL_OPEN = 30
