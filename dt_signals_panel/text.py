"""A recording as plain text: the panel's grouping, for a terminal and a failing test's output.

Everything comes from ``Recording.stats()``, the panel's own stats, so the table and the toolbar never
disagree about what was sent or what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dt_signals_panel import kinds
from dt_signals_panel.formatting import clip, show, site_text
from dt_signals_panel.query_findings import shape_text
from dt_signals_panel.shapes import Event, Recorded

#: Widest an arguments or receivers cell grows before it is clipped.
MAX_CELL = 100


def _clip(text: str) -> str:
    return clip(text, MAX_CELL)


def event_arguments(event: Event) -> str:
    parts = [f"{key}={show(value)}" for key, value in event["args"].items()]
    if event.get("credentials"):
        shown = ", ".join(f"{row['key']}: {row['value']} ({row['status']})" for row in event["credentials"])
        parts.append(f"credentials={{{shown}}}")
    if "changed" in event:
        parts.append(f"changed={show(event['changed'])}")
    return ", ".join(parts)


def _receivers(event: Event) -> str:
    names = []
    for receiver in event.get("receivers") or ():
        name = receiver["name"]
        if receiver.get("queries"):
            name += " · " + ngettext("%(n)d query", "%(n)d queries", receiver["queries"]) % {"n": receiver["queries"]}
        elif receiver.get("queries_not_measured"):
            name += " · " + _("queries not measured")
        if "error" in receiver:
            name += f" ({receiver['error']})"
        names.append(name)
    return ", ".join(names) or "-"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def format_recording(recording: Recorded) -> str:
    """Summary, findings, one table per signal (in the panel's order), the per-model ``pre_init`` /
    ``post_init`` counts and the receivers by time."""
    return format_stats(recording.stats())


def format_stats(stats: dict[str, Any]) -> str:
    """:func:`format_recording` from stats alone: what the panel's "copy as text" gives for a stored
    request."""
    summary = stats["summary"]
    lines = [
        _("%(signals)d signals: %(saves)d saves, %(deletes)d deletes, %(rows)d rows loaded")
        % {
            "signals": summary["signals"],
            "saves": summary["saves"],
            "deletes": summary["deletes"],
            "rows": summary["rows_loaded"],
        }
    ]
    if summary.get("receiver_queries"):
        lines.append(
            ngettext(
                "%(n)d query run by receivers (%(ms).3f ms)",
                "%(n)d queries run by receivers (%(ms).3f ms)",
                summary["receiver_queries"],
            )
            % {"n": summary["receiver_queries"], "ms": summary["receiver_query_ms"]}
        )
    if summary["dropped"]:
        lines.append(
            ngettext(
                "%(n)d event not kept (MAX_EVENTS); counts are exact",
                "%(n)d events not kept (MAX_EVENTS); counts are exact",
                summary["dropped"],
            )
            % {"n": summary["dropped"]}
        )
    findings = stats["findings"]
    # "!" for what the project's code did, "-" for what framework code did on its own (listed apart in the panel).
    messages = [
        ("-" if kinds.is_framework(f) else "!", f["message"])
        for family in kinds.families()
        for f in findings.get(family, ())
    ]
    if messages:
        lines += ["", _("Findings")] + [f"  {mark} {message}" for mark, message in messages]
    for group in stats["groups"]:
        lines += ["", f"{group['signal']} ({group['count']})"]
        rows = [
            [
                str(event["seq"]) + (f" (in #{event['parent']})" if event.get("parent") else ""),
                event["sender"],
                _clip(event_arguments(event)),
                _clip(_receivers(event)),
                site_text(event.get("site")),
            ]
            for event in group["events"]
        ]
        if rows:
            lines += _table(["#", _("sender"), _("arguments"), _("receivers"), _("sent from")], rows)
    if stats["inits"]:
        lines += ["", "pre_init / post_init"]
        rows = [[row["sender"], str(row["pre_init"]), str(row["post_init"])] for row in stats["inits"]]
        lines += _table([_("sender"), "pre_init", "post_init"], rows)
    if stats["receivers"]:
        lines += ["", _("Receivers by time")]
        rows = [
            [
                r["name"],
                str(r["calls"]),
                f"{r['ms']:.3f}",
                "-" if r.get("queries_not_measured") else str(r.get("queries", 0)),
                "-" if r.get("queries_not_measured") else f"{r.get('query_ms', 0.0):.3f}",
                ", ".join(r["signals"]),
            ]
            for r in stats["receivers"]
        ]
        lines += _table([_("receiver"), _("calls"), "ms", _("queries"), _("query ms"), _("signals")], rows)
        for r in stats["receivers"]:
            if r.get("sql"):
                lines += ["", _("Queries run by %(receiver)s") % {"receiver": r["name"]}]
                lines += [f"  {shape_text(shape)}" for shape in r["sql"]]
    return "\n".join(lines)
