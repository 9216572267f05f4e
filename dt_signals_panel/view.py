"""Shape stored stats for the template. Runs when the panel is opened, possibly in a later request."""

from __future__ import annotations

import os
from typing import Any

from debug_toolbar.utils import render_stacktrace

from dt_signals_panel.findings import STATS_VERSION

#: Values longer than this are shown on one line, cut with an ellipsis, and open in full on demand.
LONG_VALUE = 60


def show(value: Any) -> str:
    """One argument value as text; the template escapes it."""
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def argument(key: str, value: Any) -> tuple[str, str, bool]:
    """``(name, text, long)`` for the template: a long text is folded to one line until the reader opens it."""
    text = show(value)
    return key, text, len(text) > LONG_VALUE


def init_example(example: dict[str, Any] | None) -> str:
    if not example or not example.get("args"):
        return ""
    kwargs = example.get("kwargs") or {}
    return show(example["args"]) + "".join(f", {k}={show(v)}" for k, v in kwargs.items())


def short_path(path: str) -> str:
    parts = path.replace(os.sep, "/").rsplit("/", 2)
    return "/".join(parts[-2:])


def site_cells(site: list[Any] | None) -> tuple[str, str]:
    """The call site as the table shows it (the last two path parts) and its full ``path:line`` for the
    tooltip."""
    if not site:
        return "", ""
    path, line, func = site
    return f"{short_path(path)}:{line} in {func}", f"{path}:{line}"


def depths(events: list[dict[str, Any]]) -> dict[int, int]:
    """Nesting depth of each event: how many of its ancestors were kept."""
    parent_of = {e["seq"]: e.get("parent") for e in events}
    found: dict[int, int] = {}
    for seq in sorted(parent_of):
        parent = parent_of[seq]
        found[seq] = found[parent] + 1 if parent in found else 0
    return found


def view_model(stats: dict[str, Any]) -> dict[str, Any]:
    if stats.get("version") != STATS_VERSION:
        return {"stale": True}
    stacks = stats.get("stacks", [])
    findings = stats["findings"]
    notes: dict[int, list[str]] = {}
    for finding in findings["redundant_saves"]:
        for seq in finding["seqs"]:
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
        "groups": groups,
        "chronological": chronological,
        "nested": any(row["depth"] for row in chronological),
        "not_shown": sum(group["not_shown"] for group in groups),
        "inits": inits,
        "senders": sorted({row["sender"] for row in every} | {row["sender"] for row in inits}),
        "findings": findings,
        "receivers": stats["receivers"][:20],
        "duration_ms": stats.get("duration_ms"),
    }
