"""Isolation: concurrent requests never see each other's signals, under a real threaded WSGI server and a
real ASGI server (uvicorn), and concurrent ``capture()`` blocks each see only their own sends."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from debug_toolbar.toolbar import DebugToolbar
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.test import override_settings

import dt_signals_panel
from dt_signals_panel import wrappers
from tests.conftest import PANEL_ID, wrapped_signals
from tests.testapp import trust_views
from tests.testapp.models import Tag

WSGI_THREADS = 24
WSGI_REQUESTS_PER_THREAD = 4
ASGI_REQUESTS = 24
#: Room in djdt's MemoryStore for every request of a test.
BIG_STORE = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": False, "RESULTS_CACHE_SIZE": 1000}


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:  # loopback only
        assert response.status == 200
        return str(response.read().decode())


def expected(token: str, n: int) -> dict[str, Any]:
    # One query per post_save, by query_receivers.tag_lookup: never the save's own, never another request's.
    return {"tags": {f"{token}-{i}" for i in range(n)}, "sender": f"iso.{token}", "inits": n, "receiver_queries": n}


def seen(request_id: str) -> dict[str, Any]:
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID)
    assert toolbar is not None
    stats = toolbar.get_panel_by_id(PANEL_ID).get_stats()
    events = {g["signal"]: g["events"] for g in stats["groups"]}
    tags = set()
    for event in events.get("post_save", []) + events.get("pre_save", []):
        match = re.search(r"“(.*)”", event["args"]["instance"])
        assert match, event
        tags.add(match.group(1))
    (failed,) = events["user_login_failed"]
    inits = sum(r["pre_init"] for r in stats["inits"] if r["sender"] == "testapp.Tag")
    assert len(events.get("post_save", [])) == len(events.get("pre_save", [])) == len(tags)
    lookups = [r for e in events.get("post_save", []) for r in e["receivers"] if r["name"].endswith("tag_lookup")]
    assert all(r["sql"][0]["count"] == r["queries"] for r in lookups)
    return {
        "tags": tags,
        "sender": failed["sender"],
        "inits": inits,
        "receiver_queries": sum(r.get("queries", 0) for r in lookups),
    }


def request_id_in(html: str) -> str:
    match = re.search(r'data-request-id="([0-9a-f]+)"', html)
    assert match, html[:300]
    return match.group(1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(DEBUG_TOOLBAR_CONFIG=BIG_STORE)
def test_concurrent_requests_on_a_threaded_wsgi_server_each_see_only_their_own_signals(live_server, tag_lookup):
    trust_views.peak_concurrency(reset=True)
    barrier = threading.Barrier(WSGI_THREADS)

    def client(thread: int) -> list[tuple[str, int, str]]:
        barrier.wait()
        done = []
        for j in range(WSGI_REQUESTS_PER_THREAD):
            token, n = f"w{thread}r{j}", 1 + (thread + j) % 4
            done.append((token, n, request_id_in(fetch(f"{live_server.url}/trust/iso/{token}/{n}/?db=0"))))
        return done

    with ThreadPoolExecutor(WSGI_THREADS) as pool:
        results = [r for batch in pool.map(client, range(WSGI_THREADS)) for r in batch]
    assert len(results) == WSGI_THREADS * WSGI_REQUESTS_PER_THREAD
    assert trust_views.peak_concurrency() > 1, "the requests never overlapped"
    for token, n, request_id in results:
        assert seen(request_id) == expected(token, n), token
    assert not wrapped_signals(), "a wrapper was left on a signal after every request ended"


@pytest.fixture
def tag_lookup() -> Any:
    """A post_save receiver of Tag that runs one query per save (issue 16: each request counts its own)."""
    from tests.testapp.query_receivers import tag_lookup

    post_save.connect(tag_lookup, sender=Tag, weak=False)
    yield
    post_save.disconnect(tag_lookup, sender=Tag)


@pytest.fixture
def uvicorn_server() -> Any:
    import uvicorn
    from django.core.asgi import get_asgi_application

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(get_asgi_application(), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(DEBUG_TOOLBAR_CONFIG=BIG_STORE)
def test_concurrent_requests_on_a_real_asgi_server_each_see_only_their_own_signals(uvicorn_server, tag_lookup):
    trust_views.peak_concurrency(reset=True)
    barrier = threading.Barrier(ASGI_REQUESTS)

    def client(i: int) -> tuple[str, int, str]:
        token, n = f"a{i}", 1 + i % 4
        barrier.wait()
        return token, n, request_id_in(fetch(f"{uvicorn_server}/trust/aiso/{token}/{n}/"))

    with ThreadPoolExecutor(ASGI_REQUESTS) as pool:
        results = list(pool.map(client, range(ASGI_REQUESTS)))
    assert trust_views.peak_concurrency() > 1, "the requests never overlapped"
    for token, n, request_id in results:
        assert seen(request_id) == expected(token, n), token
    assert not wrapped_signals(), "a wrapper was left on a signal after every request ended"
    assert Tag.objects.count() == sum(n for _, n, _ in results)


@pytest.fixture
def async_lookups() -> Any:
    """Async receivers that query (issue 16): one query per Tag saved, two per failed login (sent with asend)."""
    from django.contrib.auth.signals import user_login_failed

    from tests.testapp.query_receivers import afailed_lookup, atag_lookup

    post_save.connect(atag_lookup, sender=Tag, weak=False)
    user_login_failed.connect(afailed_lookup, weak=False)
    yield
    post_save.disconnect(atag_lookup, sender=Tag)
    user_login_failed.disconnect(afailed_lookup)


def async_receivers_seen(request_id: str) -> dict[str, Any]:
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID)
    assert toolbar is not None
    stats = toolbar.get_panel_by_id(PANEL_ID).get_stats()
    found: dict[str, Any] = {"not_measured": stats["summary"]["receivers_not_measured"]}
    for row in stats["receivers"]:
        name = row["name"].rpartition(".")[2]
        if name in ("atag_lookup", "afailed_lookup"):
            found[name] = (row["calls"], row["queries"])
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(DEBUG_TOOLBAR_CONFIG=BIG_STORE)
def test_concurrent_requests_on_a_real_asgi_server_each_count_their_own_async_receivers_queries(
    uvicorn_server, async_lookups
):
    trust_views.peak_concurrency(reset=True)
    barrier = threading.Barrier(ASGI_REQUESTS)

    def client(i: int) -> tuple[int, str]:
        n = 1 + i % 4
        barrier.wait()
        return n, request_id_in(fetch(f"{uvicorn_server}/trust/aiso/q{i}/{n}/"))

    with ThreadPoolExecutor(ASGI_REQUESTS) as pool:
        results = list(pool.map(client, range(ASGI_REQUESTS)))
    assert trust_views.peak_concurrency() > 1, "the requests never overlapped"
    for n, request_id in results:
        # Each save's async receiver ran one query, the failed login's two: never another request's.
        assert async_receivers_seen(request_id) == {"not_measured": 0, "atag_lookup": (n, n), "afailed_lookup": (1, 2)}


async def test_concurrent_async_captures_each_see_only_their_own_sends():
    async def task(i: int) -> tuple[int, list[str]]:
        async with dt_signals_panel.capture() as recording:
            for k in range(5):
                await asyncio.sleep(0)
                if k % 2:
                    await user_login_failed.asend(sender=f"task.{i}", credentials={"username": str(k)})
                else:
                    user_login_failed.send(sender=f"task.{i}", credentials={"username": str(k)})
        return i, [e["sender"] for e in recording.events]

    results = await asyncio.gather(*(task(i) for i in range(40)))
    for i, senders in results:
        assert senders == [f"task.{i}"] * 5
    assert not wrappers.is_installed(user_login_failed)


def test_concurrent_captures_in_threads_each_see_only_their_own_sends():
    barrier = threading.Barrier(16)

    def work(i: int) -> list[str]:
        with dt_signals_panel.capture() as recording:
            barrier.wait()
            for _ in range(50):
                user_login_failed.send(sender=f"thread.{i}", credentials={})
        return [e["sender"] for e in recording.events]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(16)))
    for i, senders in enumerate(results):
        assert senders == [f"thread.{i}"] * 50
    assert not wrappers.is_installed(user_login_failed)


# -- threads a view starts ------------------------------------------------------------------------------
def _tag_saves(visit: Any, how: str) -> list[str]:
    opened = visit(f"/trust/thread/{how}/")
    return [e["args"]["instance"] for e in opened.events("post_save")]


@pytest.mark.django_db(transaction=True)
def test_a_thread_the_view_starts_is_not_recorded(visit):
    # A new thread starts with an empty context (Python before 3.14, and 3.14 unless free-threaded).
    assert _tag_saves(visit, "plain") == []
    assert Tag.objects.filter(name="thread-plain").exists()


@pytest.mark.django_db(transaction=True)
def test_a_thread_that_carries_the_request_context_is_recorded_into_that_request(visit):
    # What Python 3.14 free-threaded builds do by default (sys.flags.thread_inherit_context).
    (saved,) = _tag_saves(visit, "inherit")
    assert saved.endswith("“thread-inherit”")


@pytest.mark.django_db(transaction=True)
def test_a_thread_that_outlives_the_request_is_not_recorded_anywhere(client):
    from tests.conftest import open_panel, request_id_of

    trust_views.late_go.clear()
    trust_views.late_done.clear()
    # A capture open in another thread keeps the wrappers installed, so the late send really goes through
    # them and finds only the request's recording, closed.
    opened, release = threading.Event(), threading.Event()
    other: list[Any] = []

    def keep_installed() -> None:
        with dt_signals_panel.capture() as recording:
            other.append(recording)
            opened.set()
            release.wait(10)

    keeper = threading.Thread(target=keep_installed)
    keeper.start()
    assert opened.wait(10)
    try:
        response = client.get("/trust/thread/late/")
        before, _ = open_panel(client, request_id_of(response))
        assert wrappers.is_installed(post_save)
        trust_views.late_go.set()
        assert trust_views.late_done.wait(10)
    finally:
        release.set()
        keeper.join()
    after, _ = open_panel(client, request_id_of(response))
    assert Tag.objects.filter(name="thread-late").exists()
    assert after == before
    assert other[0].events == []
