"""Receivers that run SQL, and views that make them run (issue 16: what each receiver's queries cost).

The receivers are connected by the tests (``connected()``), never at import, so the rest of the suite runs
with the models' usual receivers only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.signals import user_login_failed
from django.db import connection, connections, transaction
from django.db.models import Model
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext

from tests.testapp.models import ArchivedNote, Author, Bare, Book, Tag
from tests.testapp.views import page

#: What the receivers saw run by on_commit callbacks: the callbacks run when (and if) the transaction commits.
committed: list[str] = []


def count_tags(sender: Any, instance: Any, **kwargs: Any) -> None:
    """One query per save: the N+1 inside a receiver."""
    Tag.objects.filter(name=instance.name).exists()


def tag_lookup(sender: Any, instance: Any, **kwargs: Any) -> None:
    """One query per Tag saved (the isolation tests count it per request)."""
    Tag.objects.filter(name=instance.name).exists()


def audit_book(sender: Any, instance: Book, created: bool, **kwargs: Any) -> None:
    """Saves an Author (its own query), whose receiver (``count_tags`` on Author) runs its own."""
    if created:
        Author.objects.create(name=f"audit of {instance.title}")


def raw_and_other(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A raw cursor and a query on a database only this receiver uses. (No executemany here: djdt's SQL
    panel cannot record one on SQLite; tests/test_receiver_queries.py runs one under a capture.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", ["a parameter value that must never be shown"])
    ArchivedNote.objects.filter(text="x").count()


def in_a_savepoint(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A savepoint rolled back inside the receiver, and an on_commit callback."""
    try:
        with transaction.atomic():
            Tag.objects.create(name="in a rolled-back savepoint")
            raise ValueError("roll back")
    except ValueError:
        pass
    transaction.on_commit(lambda: committed.append(instance.name))


RECEIVERS: list[tuple[Callable[..., Any], type[Model]]] = [
    (count_tags, Author),
    (audit_book, Book),
    (raw_and_other, Book),
    (in_a_savepoint, Bare),
]


@contextmanager
def connected() -> Iterator[None]:
    for receiver, sender in RECEIVERS:
        post_save.connect(receiver, sender=sender, weak=False)
    try:
        yield
    finally:
        for receiver, sender in RECEIVERS:
            post_save.disconnect(receiver, sender=sender)


def work() -> dict[str, Any]:
    """What the view does: saves in a loop (each with a querying receiver), a save whose receiver saves,
    raw SQL and a second database inside a receiver, a savepoint and on_commit inside a receiver. Returns
    every query each database ran, in order."""
    with (
        CaptureQueriesContext(connection) as default,
        CaptureQueriesContext(connections["other"]) as other,
        transaction.atomic(),
    ):
        for i in range(3):
            Author.objects.create(name=f"loop {i}")
        author = Author.objects.first()
        assert author is not None
        Book.objects.create(title="Chained", author=author)
        Bare.objects.create(name="savepoint")
    return {
        "default": [q["sql"] for q in default.captured_queries],
        "other": [q["sql"] for q in other.captured_queries],
        "committed": list(committed),
    }


def view(request: HttpRequest) -> HttpResponse:
    committed.clear()
    return page(json.dumps(work()))


def groups(request: HttpRequest) -> HttpResponse:
    """Twelve saves in a loop, for the tests' receivers to query on each."""
    from django.contrib.auth.models import Group

    for i in range(12):
        Group.objects.create(name=f"group {i}")
    return page("12 groups")


# -- async receivers ------------------------------------------------------------------------------------
async def acount_tags(sender: Any, instance: Any, **kwargs: Any) -> None:
    """An async receiver of a save: one query through the async ORM (back in the saving thread)."""
    await Tag.objects.filter(name=instance.name).aexists()


async def atag_lookup(sender: Any, instance: Any, **kwargs: Any) -> None:
    """One query per Tag saved, async (the uvicorn isolation test counts it per request)."""
    await Tag.objects.filter(name=instance.name).aexists()


def _raw_select() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", ["a parameter value that must never be shown"])


async def afailed_lookup(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    """An async receiver of a failed login sent with ``asend()``: two queries, in the request's sync thread."""
    await Tag.objects.filter(name=str(credentials.get("username"))).aexists()
    await sync_to_async(_raw_select)()


@contextmanager
def async_connected() -> Iterator[None]:
    post_save.connect(acount_tags, sender=Author, weak=False)
    user_login_failed.connect(afailed_lookup, weak=False)
    try:
        yield
    finally:
        post_save.disconnect(acount_tags, sender=Author)
        user_login_failed.disconnect(afailed_lookup)


def _begin() -> CaptureQueriesContext:
    captured = CaptureQueriesContext(connection)
    captured.__enter__()
    return captured


def _end(captured: CaptureQueriesContext) -> list[str]:
    captured.__exit__(None, None, None)
    return [q["sql"] for q in captured.captured_queries]


async def aview(request: HttpRequest) -> HttpResponse:
    """An async view whose saves and ``asend()`` reach async receivers that query. Returns every query the
    request's sync thread ran (the view's, the saves' and the receivers'), in order."""
    captured = await sync_to_async(_begin)()
    for i in range(3):
        await Author.objects.acreate(name=f"async loop {i}")
    await user_login_failed.asend(sender="aview", credentials={"username": "nobody"})
    await Tag.objects.acount()
    return page(json.dumps({"default": await sync_to_async(_end)(captured)}))
