"""The finding "queries in a receiver per send": a receiver that ran SQL on each of many sends of one signal
from one sender in one request, the N+1 that no view's code shows (a ``post_save`` receiver that reads or
writes a row per save turns a loop of 200 saves into 400 queries).

Reads the JSON-ready events (each receiver call's ``queries`` and ``sql``, see ``queries.py``) and the exact
send counts; registered in ``kinds.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from dt_signals_panel.formatting import site_text_or_unknown
from dt_signals_panel.shapes import Event, ReceiverRow

#: Query shapes named in a finding's message (all of them, up to ``MAX_SHAPES``, are in its ``shapes``).
SHAPES_IN_MESSAGE = 2
MAX_SHAPES = 10
MAX_SEQS = 200


def queries_per_send(
    events: Sequence[Event], counts: dict[tuple[str, str], int], threshold: int
) -> list[dict[str, Any]]:
    """One finding per (receiver, signal, sender) whose receiver ran at least one query on ``threshold`` or
    more sends; ``threshold`` 0 finds nothing."""
    if threshold <= 0:
        return []
    calls: dict[tuple[str, str, str], list[tuple[Event, ReceiverRow]]] = {}
    for event in events:
        for receiver in event.get("receivers") or ():
            if receiver.get("queries"):
                calls.setdefault((receiver["name"], event["signal"], event["sender"]), []).append((event, receiver))
    found = []
    for (name, signal, sender), made in calls.items():
        if len(made) < threshold:
            continue
        shapes: dict[tuple[str, str], int] = {}
        for _event, receiver in made:
            for shape in receiver.get("sql") or ():
                key = (shape["alias"], shape["sql"])
                shapes[key] = shapes.get(key, 0) + shape["count"]
        ordered = sorted(shapes.items(), key=lambda item: -item[1])[:MAX_SHAPES]
        sites = Counter(tuple(e["site"]) for e, _r in made if e.get("site"))
        site = list(sites.most_common(1)[0][0]) if sites else None
        queries = sum(r["queries"] for _e, r in made)
        finding: dict[str, Any] = {
            "kind": "receiver_queries_per_send",
            "receiver": name,
            "where": made[0][1].get("where", ""),
            "signal": signal,
            "sender": sender,
            "sends": len(made),
            "of_sends": counts.get((signal, sender), len(made)),
            "queries": queries,
            "shapes": [{"alias": alias, "sql": sql, "count": n} for (alias, sql), n in ordered],
            "site": site,
            "seqs": [e["seq"] for e, _r in made[:MAX_SEQS]],
        }
        finding["message"] = _message(finding)
        found.append(finding)
    found.sort(key=lambda f: (-f["queries"], f["receiver"]))
    return found


def shape_text(shape: dict[str, Any]) -> str:
    """``SELECT … \u00d7 200`` (with the alias when it is not ``default``)."""
    alias = "" if shape["alias"] == "default" else f"[{shape['alias']}] "
    return f"{alias}{shape['sql']} \u00d7 {shape['count']}"


def _message(finding: dict[str, Any]) -> str:
    shown = "; ".join(shape_text(s) for s in finding["shapes"][:SHAPES_IN_MESSAGE])
    more = len(finding["shapes"]) - SHAPES_IN_MESSAGE
    if more > 0:
        shown += "; " + _("%(n)d more query shapes") % {"n": more}
    return _(
        "queries in a receiver per send: %(receiver)s ran %(queries)d queries on %(sends)d of %(of)d %(signal)s "
        "sends from %(sender)s (%(site)s): %(shapes)s. Batch the work after the loop, defer it with "
        "transaction.on_commit, load related rows with select_related, or write them with bulk_update"
    ) % {
        "receiver": finding["receiver"],
        "queries": finding["queries"],
        "sends": finding["sends"],
        "of": finding["of_sends"],
        "signal": finding["signal"],
        "sender": finding["sender"],
        "site": site_text_or_unknown(finding["site"]),
        "shapes": shown,
    }
