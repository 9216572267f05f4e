"""Shape stored stats for the template. Runs when the panel is opened, possibly in a later request."""

from __future__ import annotations

import os
from typing import Any

from debug_toolbar.utils import render_stacktrace

from dt_signals_panel.findings import STATS_VERSION


def show(value: Any) -> str:
    """One argument value as text; the template escapes it."""
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def short_path(path: str) -> str:
    parts = path.replace(os.sep, "/").rsplit("/", 2)
    return "/".join(parts[-2:])


def site_text(site: list[Any] | None) -> tuple[str, str]:
    if not site:
        return "", ""
    path, line, func = site
    return f"{short_path(path)}:{line} in {func}", f"{path}:{line}"


def view_model(stats: dict[str, Any]) -> dict[str, Any]:
    if stats.get("version") != STATS_VERSION:
        return {"stale": True}
    stacks = stats.get("stacks", [])
    groups = []
    for group in stats["groups"]:
        rows = []
        for event in group["events"]:
            site, site_title = site_text(event.get("site"))
            stack = event.get("stack")
            rows.append(
                {
                    **event,
                    "arguments": [(k, show(v)) for k, v in event["args"].items()],
                    "site_text": site,
                    "site_title": site_title,
                    "stack_html": render_stacktrace(stacks[stack]) if stack is not None and stack < len(stacks) else "",
                }
            )
        groups.append({**group, "events": rows, "anchor": f"djdt-sig-{group['signal']}"})
    return {
        "summary": stats["summary"],
        "groups": groups,
        "inits": stats["inits"],
        "duration_ms": stats.get("duration_ms"),
    }
