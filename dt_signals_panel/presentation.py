"""The panel's view model: stored stats shaped for the template (rows, notes, stacks, tiles, columns).

Runs when the panel is opened, possibly in a later request, from the stats alone. Formatting of single
values lives in ``formatting.py``; what each kind of finding looks like lives in ``kinds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from debug_toolbar.utils import render_stacktrace
from django.utils.translation import gettext_lazy as _

from dt_signals_panel import kinds
from dt_signals_panel.formatting import show, site_cells
from dt_signals_panel.stats import STATS_VERSION

#: Values longer than this are shown on one line, cut with an ellipsis, and open in full on demand.
LONG_VALUE = 60


@dataclass(frozen=True)
class Column:
    """One column of a table: its heading and the class its cells share (numbers align right)."""

    label: Any
    css: str = ""


NUM = "djdt-sig-num"

#: Each table's columns, declared once: the headings, and the width of a row that spans the table.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "inits": (
        Column(_("Model")),
        Column("pre_init", NUM),
        Column("post_init", NUM),
        Column(_("Distinct rows"), NUM),
        Column(_("First pre_init arguments")),
    ),
    "events": (
        Column("#", NUM),
        Column(_("At (ms)"), NUM),
        Column(_("Sender")),
        Column(_("Arguments"), "djdt-sig-arguments"),
        Column(_("Receivers")),
        Column(_("Dispatch (ms)"), NUM),
        Column(_("Sent from")),
    ),
    "credentials": (
        Column(_("Credential")),
        Column(_("Value received")),
        Column(_("Masking")),
    ),
    "sites": (
        Column(_("Sender")),
        Column(_("Sent from")),
        Column(_("Events"), NUM),
        Column(_("Dispatch (ms)"), NUM),
    ),
    "receivers": (
        Column(_("Receiver")),
        Column(_("Signals")),
        Column(_("Calls"), NUM),
        Column(_("Total (ms)"), NUM),
        Column(_("Slowest (ms)"), NUM),
        Column(_("Raised"), NUM),
    ),
}


def argument(key: str, value: Any) -> tuple[str, str, bool]:
    """``(name, text, long)`` for the template: a long text is folded to one line until the reader opens it."""
    text = show(value)
    return key, text, len(text) > LONG_VALUE


def init_example(example: dict[str, Any] | None) -> str:
    if not example or not example.get("args"):
        return ""
    kwargs = example.get("kwargs") or {}
    return show(example["args"]) + "".join(f", {k}={show(v)}" for k, v in kwargs.items())


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
    """One summary tile per family of findings that has one (``Kind.tile``), in registry order."""
    tiles = []
    for family, members in kinds.families().items():
        kind = members[0]
        n = summary.get(family, 0)
        if kind.tile == "never" or (kind.tile == "when_found" and not n):
            continue
        before, after = count_parts(kind, n)
        tiles.append({"family": family, "n": n, "before": before, "after": after, "alert": bool(n)})
    return tiles


def finding_rows(findings: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every finding in registry order, with what the template needs from its kind."""
    rows = []
    for family in kinds.families():
        for finding in findings.get(family, ()):
            kind = kinds.get(finding["kind"])
            severity = kinds.severity_of(finding)
            rows.append(
                {
                    "kind": finding["kind"],
                    "message": finding["message"],
                    "seqs": finding.get("seqs") or [],
                    "severity": severity,
                    # Rows it marks carry the highlight; a finding without rows is highlighted itself.
                    "alert": kind is not None and severity == "problem" and not kind.notes_rows,
                    "framework": kinds.is_framework(finding),
                }
            )
    return rows


def view_model(stats: dict[str, Any]) -> dict[str, Any]:
    if stats.get("version") != STATS_VERSION:
        return {"stale": True}
    stacks = stats.get("stacks", [])
    findings = stats["findings"]
    notes: dict[int, list[str]] = {}
    for family in kinds.families():
        for finding in findings.get(family, ()):
            kind = kinds.get(finding["kind"])
            # Only what the developer's code did marks its rows as redundant; the framework's is listed apart.
            if kind is not None and kind.notes_rows and not kinds.is_framework(finding):
                for seq in finding.get("seqs") or ():
                    notes.setdefault(seq, []).append(finding["message"])
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
        rows = []
        for event in group["events"]:
            site, site_title = site_cells(event.get("site"))
            stack = event.get("stack")
            first = first_with.get(stack) if stack is not None else None
            row = {
                **event,
                "arguments": [argument(k, v) for k, v in event["args"].items()],
                "site_text": site,
                "site_title": site_title,
                "notes": notes.get(event["seq"], []),
                "stack_html": render_stacktrace(stacks[stack]) if first == event["seq"] else "",
                "stack_as": first if first is not None and first != event["seq"] else None,
            }
            rows.append(row)
            every.append(row)
        sites = [{**site, "site_text": site_cells(site.get("site"))[0]} for site in group.get("sites", [])]
        groups.append(
            {
                **group,
                "events": rows,
                "not_shown": group["count"] - len(rows),
                "sites": sites,
                "anchor": f"djdt-sig-{group['signal']}",
            }
        )
    nesting = depths(every)
    chronological = sorted(every, key=lambda e: e["seq"])
    for row in chronological:
        row["depth"] = min(nesting.get(row["seq"], 0), 8)
    inits = [{**row, "example_text": init_example(row.get("example"))} for row in stats["inits"]]
    return {
        "summary": stats["summary"],
        "tiles": finding_tiles(stats["summary"]),
        "groups": groups,
        "chronological": chronological,
        "nested": any(row["depth"] for row in chronological),
        "not_shown": sum(group["not_shown"] for group in groups),
        "inits": inits,
        "senders": sorted({row["sender"] for row in every} | {row["sender"] for row in inits}),
        "findings": [row for row in finding_rows(findings) if not row["framework"]],
        "framework_findings": [row for row in finding_rows(findings) if row["framework"]],
        "receivers": stats["receivers"][:20],
        "duration_ms": stats.get("duration_ms"),
        "columns": COLUMNS,
        "event_width": len(COLUMNS["events"]),
    }
