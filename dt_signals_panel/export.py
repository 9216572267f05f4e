"""The panel's export: the request's signal activity as the text table or as versioned JSON, served from the
toolbar's store by a view of the toolbar's own URLs (shown only to whom the toolbar is shown).

Both come from the stored stats, the same the panel renders: the text is ``Recording.as_table()``'s table,
and the JSON is the stats in a documented shape (README, "Export"). Neither can carry a secret the panel
does not show: credentials and sensitive arguments were masked when they were recorded.
"""

from __future__ import annotations

import json
from typing import Any

from debug_toolbar.decorators import require_show_toolbar
from debug_toolbar.toolbar import DebugToolbar
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse

from dt_signals_panel import kinds
from dt_signals_panel.stats import STATS_VERSION
from dt_signals_panel.text import format_stats

#: What a consumer checks before reading the JSON: ``format`` names it, ``version`` is bumped whenever a
#: documented key changes meaning or goes away (new keys may appear without a bump).
EXPORT_FORMAT = "dt_signals_panel.activity"
EXPORT_VERSION = 1
PANEL_ID = "SignalActivityPanel"


def as_json(stats: dict[str, Any], request_id: str = "") -> dict[str, Any]:
    """The stats in the exported shape: one entry per signal with its groups of alike sends and its listed
    events, every finding with its family and severity, the per-model init counts and receiver times.
    Stack traces stay out (they name local files and source lines, and a stack index means nothing alone)."""
    findings = []
    for family, members in kinds.families().items():
        severity = members[0].severity
        for finding in stats["findings"].get(family, ()):
            kind = kinds.get(finding["kind"])
            findings.append({"family": family, "severity": kind.severity if kind is not None else severity, **finding})
    signals = [
        {
            "signal": group["signal"],
            "count": group["count"],
            "kept": group["kept"],
            "ms": group["ms"],
            "groups": group.get("similar", []),
            "events": [{k: v for k, v in event.items() if k != "stack"} for event in group["events"]],
        }
        for group in stats["groups"]
    ]
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "request_id": request_id,
        "duration_ms": stats.get("duration_ms"),
        "summary": stats["summary"],
        "signals": signals,
        "findings": findings,
        "inits": stats["inits"],
        "receivers": stats["receivers"],
    }


@login_not_required
@require_show_toolbar  # type: ignore[untyped-decorator]
def export_view(request: HttpRequest) -> HttpResponse:
    """``?request_id=...&format=json|text``: the stored signal activity of one request, as a download."""
    request_id = request.GET.get("request_id", "")
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID) if request_id else None
    if toolbar is None:
        raise Http404("No such request in the toolbar's store.")
    panel: Any = toolbar.get_panel_by_id(PANEL_ID)
    stats: dict[str, Any] = panel.get_stats()
    if stats.get("version") != STATS_VERSION:
        raise Http404("These signals were recorded by another version of the panel.")
    if request.GET.get("format") == "text":
        return HttpResponse(format_stats(stats), content_type="text/plain; charset=utf-8")
    body = json.dumps(as_json(stats, request_id), indent=1, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="signal-activity-{request_id[:32]}.json"'
    return response
