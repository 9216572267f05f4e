"""Views for issue #4: the panel must not change what a view does, mix requests up, leak or keep objects."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
import weakref
from decimal import Decimal
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.signals import user_login_failed
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from dt_signals_panel import wrappers
from tests.testapp.models import (
    Author,
    Bare,
    Book,
    Hostile,
    LegacyAuthor,
    Novelist,
    ProxyAuthor,
    Quiet,
    Tag,
)
from tests.testapp.views import page

#: A custom signal sent with every kind of awkward argument value (listed in EXTRA_SIGNALS by the tests).
odd_values = Signal()


def _sql(run: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        result = run()
    return result, [q["sql"] for q in queries.captured_queries]


def observe(request: HttpRequest) -> HttpResponse:
    """Every write operation a view commonly makes, each with its return value and the SQL it ran."""
    steps: dict[str, Any] = {}

    def step(name: str, run: Any, show: Any = repr) -> Any:
        result, sql = _sql(run)
        steps[name] = {"returned": show(result), "sql": sql}
        return result

    author = Author(name="Observed")
    step("save", author.save)
    author.name = "Observed again"
    step("save_update_fields", lambda: author.save(update_fields=["name"]))
    book = step("create", lambda: Book.objects.create(title="Seen", author=author))
    red, blue = step("bulk_create", lambda: Tag.objects.bulk_create([Tag(name="red"), Tag(name="blue")]))
    step("m2m_add", lambda: book.tags.add(red, blue))
    step("m2m_remove", lambda: book.tags.remove(red))
    step("m2m_clear", book.tags.clear)
    step("update", lambda: Author.objects.filter(pk=author.pk).update(name="Updated"))
    step("delete_cascade", author.delete)
    # A model nobody listens to: Django's fast paths must stay fast with the panel recording.
    quiet = step("quiet_create", lambda: Quiet.objects.create(name="q"))
    step("quiet_m2m_add", lambda: quiet.tags.add(blue))
    bare = step("bare_create", lambda: Bare.objects.create(name="b"))
    step("bare_delete", bare.delete)
    step("queryset_delete", lambda: Quiet.objects.filter(pk=quiet.pk).delete())
    step(
        "update_or_create_new", lambda: Author.objects.update_or_create(name="Upserted", defaults={"name": "Upserted"})
    )
    step("update_or_create_existing", lambda: Author.objects.update_or_create(name="Upserted", defaults={"name": "Up"}))
    step("select_for_update", _locked_authors)
    step("savepoints_and_on_commit", _savepoints_and_on_commit)
    user = step("authenticate", lambda: authenticate(request, username="alice", password="wonderland"))
    step("login", lambda: login(request, user))
    step("failed_authenticate", lambda: authenticate(request, username="alice", password="wrong"))
    step("logout", lambda: logout(request))
    return page(json.dumps(steps))


def _locked_authors() -> list[str]:
    with transaction.atomic():
        return [a.name for a in Author.objects.select_for_update().order_by("pk")]


class _RolledBack(Exception):
    pass


def _savepoints_and_on_commit() -> tuple[bool, int, list[str]]:
    """A savepoint rolled back inside a transaction, with on_commit callbacks on both levels: what stays
    (the inner row and callback do not), and which callbacks ran or wait for the outermost commit."""
    ran: list[str] = []
    pending_before = len(connection.run_on_commit)
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("outer"))
        try:
            with transaction.atomic():
                Tag.objects.create(name="rolled-back")
                transaction.on_commit(lambda: ran.append("inner"))
                raise _RolledBack
        except _RolledBack:
            pass
        kept = Tag.objects.filter(name="rolled-back").exists()
    return kept, len(connection.run_on_commit) - pending_before, ran


# -- isolation ------------------------------------------------------------------------------------------
_running = 0
_peak = 0
_running_lock = threading.Lock()


def _enter() -> None:
    global _running, _peak
    with _running_lock:
        _running += 1
        _peak = max(_peak, _running)


def _leave() -> None:
    global _running
    with _running_lock:
        _running -= 1


def peak_concurrency(reset: bool = False) -> int:
    global _peak
    with _running_lock:
        value = _peak
        if reset:
            _peak = 0
    return value


def isolation(request: HttpRequest, token: str, n: int) -> HttpResponse:
    """Saves ``n`` tags named ``token-i`` and sends one failed login for ``token``: a set no other request has.
    With ``?db=0`` the saves' signals are sent by hand for unsaved tags: two dozen threads writing to one
    SQLite file would wait on its lock, which is not what is under test."""
    _enter()
    try:
        for i in range(n):
            if request.GET.get("db") == "0":
                tag = Tag(name=f"{token}-{i}")
                pre_save.send(sender=Tag, instance=tag, raw=False, using="default", update_fields=None)
                time.sleep(0.002)
                post_save.send(sender=Tag, instance=tag, created=True, update_fields=None, raw=False, using="default")
            else:
                Tag.objects.create(name=f"{token}-{i}")
        user_login_failed.send(sender=f"iso.{token}", credentials={"username": token}, request=request)
    finally:
        _leave()
    return page(token)


async def aisolation(request: HttpRequest, token: str, n: int) -> HttpResponse:
    _enter()
    try:
        for i in range(n):
            await Tag.objects.acreate(name=f"{token}-{i}")
            await asyncio.sleep(0.001)  # hand the loop to the other requests between saves
        await user_login_failed.asend(sender=f"iso.{token}", credentials={"username": token}, request=request)
    finally:
        _leave()
    return page(token)


#: Set by the test once the request has ended; a thread the view left running then sends.
late_go = threading.Event()
late_done = threading.Event()


def thread_view(request: HttpRequest, how: str) -> HttpResponse:
    """A view that starts a thread which saves a tag, either as plain ``threading.Thread`` does (an empty
    context) or carrying the request's context (what Python 3.14 free-threaded builds do by default)."""

    def work(name: str) -> None:
        Tag.objects.create(name=name)

    def late() -> None:
        late_go.wait(10)
        try:
            Tag.objects.create(name="thread-late")
        finally:
            late_done.set()

    if how == "plain":
        thread = threading.Thread(target=work, args=("thread-plain",))
    elif how == "inherit":
        thread = threading.Thread(target=contextvars.copy_context().run, args=(work, "thread-inherit"))
    else:
        thread = threading.Thread(target=contextvars.copy_context().run, args=(late,), daemon=True)
    thread.start()
    if how != "late":
        thread.join()
    return page(how)


# -- bad input ------------------------------------------------------------------------------------------
class Custom:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class BadStr:
    def __str__(self) -> str:
        raise KeyError("str broke")

    def __repr__(self) -> str:
        raise KeyError("repr broke")


class QueryingStr:
    def __str__(self) -> str:
        return f"{Author.objects.count()} authors"


class BadMapping(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("no items")


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


def _odd_values() -> dict[str, Any]:
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    cyclic_dict: dict[str, Any] = {"a": 1}
    cyclic_dict["self"] = cyclic_dict
    return {
        "blob": b"\x00\xff" * 10,
        "tags": {3, 1, 2},
        "frozen": frozenset({"b", "a"}),
        "price": Decimal("1.10"),
        "lazy": gettext_lazy("Hello"),
        "cyclic": cyclic,
        "cyclic_dict": cyclic_dict,
        "custom": Custom("custom value"),
        "bad_str": BadStr(),
        "querying": QueryingStr(),
        "huge": "x" * 1_000_000,
        "html": "<script>alert('arg')</script>",
        "generator": (i for i in range(3)),
        "broken_dict": BadMapping(a=1),
        "unhashable": Unhashable(),
        "nested": {"deep": {"deeper": {"deepest": {"bottom": 1}}}},
        "long_list": list(range(10_000)),
    }


def zoo(request: HttpRequest, case: str) -> HttpResponse:
    """One awkward input per case; the page says what the view saw, which must not depend on the panel."""
    seen: list[Any] = []
    if case.startswith("hostile-"):
        obj = Hostile.objects.create(mode=case.removeprefix("hostile-"))
        obj.mode = obj.mode  # a second save, for redundant-save findings with a hostile label
        obj.save()
        seen.append(obj.pk)
    elif case == "unsaved":
        seen.append(post_save.send(sender=Author, instance=Author(name="never saved"), created=False))
    elif case == "deleted":
        author = Author.objects.create(name="gone")
        seen.append(author.delete())
        seen.append(pre_save.send(sender=Author, instance=author, raw=False, using="default", update_fields=None))
    elif case == "proxy":
        seen.append(ProxyAuthor.objects.create(name="proxied").pk)
    elif case == "multi-table":
        novelist = Novelist.objects.create(name="Novel", genre="sf")
        seen.append((novelist.pk, novelist.author_ptr_id))
        seen.append(novelist.delete())
    elif case == "deferred":
        book = Book.objects.create(title="Deferred", author=Author.objects.create(name="D"))
        loaded = Book.objects.only("title").get(pk=book.pk)
        loaded.title = "Deferred 2"
        loaded.save()
        seen.append(sorted(loaded.get_deferred_fields()))
    elif case == "unmanaged":
        legacy = LegacyAuthor.objects.create(name="old")
        legacy.name = "older"
        legacy.save()
        seen.append(legacy.pk)
    elif case == "odd-values":
        seen.append(len(odd_values.send(sender=None, **_odd_values())))
        seen.append(len(odd_values.send_robust(sender=Author, **_odd_values())))
    elif case == "unexpected-kwargs":
        seen.append(pre_save.send(sender=Author, instance="not a model", update_fields=5, surprise=object()))
        seen.append(post_save.send(sender=None))
        seen.append(user_login_failed.send(sender=None, credentials="not a dict"))
        seen.append(user_login_failed.send(sender=None, credentials={BadStr(): "x", "pin": "1234"}))
        seen.append(m2m_changed.send(sender=None, action="pre_add", pk_set=set(range(5000))))
        seen.append(post_save.send(sender=BadStr(), instance=Hostile(mode="raise")))
    elif case == "receiver-raises":
        try:
            Bare.objects.create(name="boom")
        except Exception as error:
            seen.append(
                f"{type(error).__name__}: {error} from {error.__traceback__ is not None and error.__traceback__.tb_next is not None}"
            )
        seen.append(Bare.objects.count())
    elif case == "receiver-raises-uncaught":
        Bare.objects.create(name="boom")
    else:
        raise ValueError(case)
    return page(repr(seen))


# -- memory ---------------------------------------------------------------------------------------------
#: Weak references the memory test reads after the request.
weak: list[weakref.ref[Any]] = []


def keep_weak(request: HttpRequest) -> HttpResponse:
    user = authenticate(request, username="alice", password="wonderland")
    login(request, user)
    author = Author.objects.create(name="weakly held")
    author.name = "weakly held again"
    author.save()
    loaded = list(Author.objects.all())
    book = Book.objects.create(title="weak", author=author)
    tag = Tag.objects.create(name="weak")
    book.tags.add(tag)
    user_login_failed.send(sender="tests.weak", credentials={"username": "x"}, request=request)
    weak.extend(weakref.ref(o) for o in (request, user, request.user, author, book, tag, *loaded))
    return page(len(weak))


def instantiate(request: HttpRequest, n: int) -> HttpResponse:
    """Build ``n`` instances (one ``pre_init`` and one ``post_init`` each), keeping none."""
    for i in range(n):
        Author(name=f"row {i}")
    return page(n)


def save_many(request: HttpRequest, n: int) -> HttpResponse:
    for i in range(n):
        Bare.objects.create(name=f"b{i}")
    return page(n)


def installed(request: HttpRequest) -> HttpResponse:
    """Whether our wrappers are on Django's signals while this view runs."""
    Author.objects.create(name="installed?")
    return page(f"installed={wrappers.is_installed(post_save)}")


def make_user() -> None:
    get_user_model().objects.create_user("alice", password="wonderland")


# -- escaping -------------------------------------------------------------------------------------------
def html_receiver(sender: Any, **kwargs: Any) -> None:
    raise ValueError("<script>receiverError()</script>")


html_receiver.__qualname__ = "<script>receiverName()</script>"


def escape_everything(request: HttpRequest) -> HttpResponse:
    """HTML wherever a value can come from: a model's str(), a string sender, a credential key and value,
    an argument, a receiver's name and exception, a source line in the stack."""
    Author.objects.create(name="<script>alert('x')</script>")  # <script>sourceLine()</script>
    user_login_failed.send(
        sender="<script>senderName()</script>",
        credentials={"<script>credentialKey()</script>": "<script>credentialValue()</script>"},
        request=request,
    )
    odd_values.send_robust(sender=Author, html="<script>argument()</script>", **{"<b>key</b>": 1})
    return page("escaped")


def ajax(request: HttpRequest) -> JsonResponse:
    """What a page's fetch() calls: no HTML, so the toolbar is not inserted; History lists it."""
    tag = Tag.objects.create(name="from ajax")
    return JsonResponse({"tag": tag.pk})


def iterate(request: HttpRequest) -> HttpResponse:
    """Load every author row, a chunk at a time, keeping none."""
    count = sum(1 for _ in Author.objects.iterator(chunk_size=2000))
    return page(count)


async def aobserve(request: HttpRequest) -> HttpResponse:
    """The async ORM and auth calls, each with what it returned."""
    from django.contrib.auth import aauthenticate, alogin, alogout

    steps: dict[str, Any] = {}
    author = await Author.objects.acreate(name="Async observed")
    steps["acreate"] = author.pk is not None
    author.name = "Async observed again"
    steps["asave"] = repr(await author.asave())  # type: ignore[func-returns-value]
    steps["aupdate"] = await Author.objects.filter(pk=author.pk).aupdate(name="Async updated")
    bare = await Bare.objects.acreate(name="b")
    steps["bare_adelete"] = repr(await bare.adelete())
    steps["adelete"] = repr(await author.adelete())
    user = await aauthenticate(request, username="alice", password="wonderland")
    steps["aauthenticate"] = repr(user)
    steps["alogin"] = repr(await alogin(request, user))  # type: ignore[func-returns-value]
    steps["failed_aauthenticate"] = repr(await aauthenticate(request, username="alice", password="wrong"))
    steps["alogout"] = repr(await alogout(request))  # type: ignore[func-returns-value]
    return page(json.dumps(steps))
