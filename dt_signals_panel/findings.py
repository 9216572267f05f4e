"""What the panel states about a recording: the groups, the summary line, and (later) the findings.

Built once, after the request, from the recording's JSON-ready events; the result is the panel's stats.
"""

from __future__ import annotations

from typing import Any

from dt_signals_panel import signals
from dt_signals_panel.recorder import Recording

#: Bumped when the shape of the stats changes, so a stored toolbar from an older version is recognised.
STATS_VERSION = 1


def build_stats(recording: Recording) -> dict[str, Any]:
    """The panel's stats: JSON primitives only, never empty (djdt reads an empty dict as 'panel off')."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in recording.events:
        grouped.setdefault(event["signal"], []).append(event)
    counts: dict[str, int] = {}
    for (name, _sender), n in recording.counts().items():
        counts[name] = counts.get(name, 0) + n
    names = sorted(set(counts) | set(grouped), key=lambda n: (signals.order(n), n))
    groups = [
        {"signal": name, "count": counts.get(name, 0), "events": grouped.get(name, [])}
        for name in names
    ]
    inits = recording.inits
    init_total = sum(row["pre_init"] + row["post_init"] for row in inits)
    summary = {
        "signals": sum(counts.values()) + init_total,
        "saves": counts.get("post_save", 0),
        "deletes": counts.get("post_delete", 0),
        "failed_logins": counts.get("user_login_failed", 0),
        "rows_loaded": sum(row["post_init"] for row in inits),
        "kept": len(recording.events),
        "dropped": recording.dropped,
    }
    return {
        "version": STATS_VERSION,
        "summary": summary,
        "groups": groups,
        "inits": inits,
        "stacks": recording.stacks,
        "duration_ms": round(recording.duration_ms or 0.0, 3),
    }
