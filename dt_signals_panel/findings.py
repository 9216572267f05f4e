"""The rules: what in a recording is worth telling a developer (redundant saves, credentials in clear, a
receiver that raised, many instances built).

Each finder reads JSON-ready events and returns findings, dicts that carry their ``kind`` (declared in
``kinds.py``, which also says how each kind is shown and counted), a ``message`` and the ``seqs`` of the
events they are about. ``stats.py`` runs them once per recording.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dt_signals_panel.formatting import site_text_or_unknown
from dt_signals_panel.shapes import Event

#: Instances initialised per request past which the panel suggests loading less.
MANY_INSTANCES = 1000

_site_text = site_text_or_unknown


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
                    "kind": "credential_in_clear",
                    "seq": event["seq"],
                    "seqs": [event["seq"]],
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


def receiver_errors(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Every receiver that raised under ``send_robust()``: Django returned the exception to the sender
    instead of raising it, so unless the caller looks, the receiver's work silently did not happen. (Under
    ``send()`` the exception reached the caller, and the request shows it.)"""
    found = []
    for event in events:
        # Only the robust sends keep a receiver's exception in their results (``send_robust`` or ``asend_robust``).
        mode = event.get("mode", "send_robust")
        for receiver in event.get("receivers") or ():
            error = receiver.get("error")
            if not error:
                continue
            found.append(
                {
                    "kind": "receiver_error",
                    "seqs": [event["seq"]],
                    "signal": event["signal"],
                    "sender": event["sender"],
                    "receiver": receiver["name"],
                    "error": error,
                    # The class alone, for an allow entry that expects one failure of a receiver and no other.
                    "error_type": error.split(":", 1)[0],
                    "mode": mode,
                    "site": event.get("site"),
                    "message": _(
                        "receiver error: %(receiver)s raised %(error)s on %(signal)s from %(sender)s, and "
                        "%(mode)s() returned it instead of raising (%(site)s)"
                    )
                    % {
                        "receiver": receiver["name"],
                        "error": error,
                        "signal": event["signal"],
                        "sender": event["sender"],
                        "mode": mode,
                        "site": _site_text(event.get("site")),
                    },
                }
            )
    return found


def init_hints(inits: Sequence[dict[str, Any]], saves_by_model: dict[str, int]) -> list[dict[str, Any]]:
    hints = []
    for row in inits:
        made = row["post_init"]
        if made < MANY_INSTANCES:
            continue
        hints.append(
            {
                "kind": "many_instances",
                "seqs": [],
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


#: Instances built for rows already built in the request past which the panel flags a model.
MANY_COPIES = 10


def duplicate_rows(inits: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows built again and again in one request: ``select_related()`` builds one instance of the
    joined model per row it returns (105 ``Category`` instances for 5 categories), and a loop that runs the
    same query builds them anew. Named with the call site of the query that built the first copy."""
    found = []
    for row in inits:
        copies = row.get("copies") or 0
        if copies < MANY_COPIES:
            continue
        rows = row.get("rows") or 0
        found.append(
            {
                "kind": "duplicate_rows",
                "seqs": [],
                "sender": row["sender"],
                "rows": rows,
                "copies": copies,
                "site": row.get("site"),
                "site_kind": row.get("site_kind"),
                "via": row.get("via"),
                "message": _(
                    "duplicate rows: %(instances)d %(model)s instances were built from %(rows)d rows in this "
                    "request, %(copies)d of them copies of a row already built: select_related() builds one "
                    "instance per joined row (prefetch_related() builds one per distinct row), and a repeated "
                    "query builds them anew (%(site)s)"
                )
                % {
                    "instances": rows + copies,
                    "model": row["sender"],
                    "rows": rows,
                    "copies": copies,
                    "site": _site_text(row.get("site")),
                },
            }
        )
    return found
