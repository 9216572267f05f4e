"""Views that do what real projects do, for tests/test_application_code.py: each page says what the
application's own code saw (its receivers' counts, its lazy loaders, its cached text), which must not
depend on the panel."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_init, post_save, pre_init
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from tests.testapp.models import Badge, HistoricalLedger, Ledger, Note
from tests.testapp.views import page

#: What the application's receivers saw during the current request.
seen: dict[str, Any] = {}


def reset() -> None:
    seen.clear()
    seen.update(pre_init=0, post_init=0, tracked=0, loaded=0)


def count_pre_init(sender: Any, **kwargs: Any) -> None:
    seen["pre_init"] += 1


def count_post_init(sender: Any, **kwargs: Any) -> None:
    seen["post_init"] += 1


class Tracker:
    """Per-instance state taken at ``post_init``, as django-model-utils' ``FieldTracker`` keeps it."""

    def __init__(self, instance: Ledger) -> None:
        self.instance = instance
        self.saved = {"name": instance.name, "balance": instance.balance}

    def changed(self) -> list[str]:
        return sorted(k for k, v in self.saved.items() if getattr(self.instance, k) != v)


def initialize_tracker(sender: Any, instance: Ledger, **kwargs: Any) -> None:
    seen["tracked"] += 1
    instance._tracker = Tracker(instance)  # type: ignore[attr-defined]


def create_historical_record(sender: Any, instance: Ledger, **kwargs: Any) -> None:
    """django-simple-history's ``post_save`` receiver: a historical copy of every saved row."""
    HistoricalLedger.objects.create(
        id=instance.id, name=instance.name, balance=instance.balance, history_date=timezone.now()
    )


RECEIVERS = [
    (pre_init, count_pre_init, Ledger),
    (post_init, count_post_init, Ledger),
    (post_init, initialize_tracker, Ledger),
    (post_save, create_historical_record, Ledger),
]


def connect() -> None:
    for signal, receiver, sender in RECEIVERS:
        signal.connect(receiver, sender=sender, weak=False)  # type: ignore[arg-type]


def disconnect() -> None:
    for signal, receiver, sender in RECEIVERS:
        signal.disconnect(receiver, sender=sender)  # type: ignore[arg-type]


def history_work() -> dict[str, Any]:
    """Save a tracked row twice and read its history back, as a view of a simple-history project would."""
    reset()
    ledger = Ledger.objects.create(name="cash", balance=1)
    ledger.balance = 2
    changed = ledger._tracker.changed()  # type: ignore[attr-defined]
    ledger.save()
    records = [str(record).split(" as of ")[0] for record in HistoricalLedger.objects.filter(id=ledger.id)]
    return {**seen, "changed": changed, "records": records}


def history(request: HttpRequest) -> HttpResponse:
    return page(json.dumps(history_work()))


def own_note(request: HttpRequest) -> HttpResponse:
    """The first thing this view does is create a row owned by the (lazy) ``request.user``."""
    note = Note.objects.create(owner=request.user, text="mine")  # type: ignore[misc]
    return page(json.dumps({"note": note.text, "owner": note.owner_id is not None}))


def cached_badge(request: HttpRequest) -> HttpResponse:
    badge = Badge.objects.create(name="gold")
    return page(json.dumps({"badge": str(badge)}))


def lazy_logout(request: HttpRequest) -> HttpResponse:
    """``user_logged_out`` sent by hand with a user that is loaded only if someone looks at it."""
    reset()

    def load() -> Any:
        seen["loaded"] += 1
        return get_user_model().objects.first()

    user_logged_out.send(sender=get_user_model(), request=request, user=SimpleLazyObject(load))
    return page(json.dumps({"loaded": seen["loaded"]}))
