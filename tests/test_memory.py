"""Memory: nothing of a request is kept once it ends, detailed events are capped with exact counts, and a
request that builds a very large number of instances keeps memory bounded."""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from typing import Any

import pytest
from django.test import Client, override_settings

from dt_signals_panel.conf import DEFAULTS
from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.testapp import trust_views

pytestmark = pytest.mark.django_db


def serve(path: str, cookie: str = "") -> tuple[int, bytes]:
    """One request through Django's own WSGI handler, as a server makes it: the test client keeps the
    request, the templates' contexts and with them the toolbar alive after the response."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import RequestFactory

    environ = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET", HTTP_COOKIE=cookie)  # type: ignore[attr-defined]
    status: list[str] = []
    # As the test client does: the test's transaction must survive the request's end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda s, h, *a: status.append(s))  # type: ignore[arg-type]
        body = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), body


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies")
@pytest.mark.parametrize("panel", ["on", "off"])
def test_no_instance_request_or_user_is_alive_once_the_request_has_ended(client, panel):
    trust_views.make_user()
    trust_views.weak.clear()
    # Keep the panel's recording alive past the request, as a store or a later render might: it must hold
    # nothing of the request, not even through a frame.
    from debug_toolbar.toolbar import DebugToolbar

    toolbars: list[Any] = []

    def created(sender: Any, toolbar: Any, **kwargs: Any) -> None:
        toolbars.append(toolbar.get_panel_by_id(PANEL_ID))

    DebugToolbar._created.connect(created)
    try:
        status, body = serve("/trust/weak/", f"djdt{PANEL_ID}={panel}")
    finally:
        DebugToolbar._created.disconnect(created)
    assert status == 200
    assert len(trust_views.weak) >= 7
    recordings = [p.recording for p in toolbars if p.recording is not None]
    assert len(recordings) == (1 if panel == "on" else 0)
    toolbars.clear()
    gc.collect()
    assert [ref() for ref in trust_views.weak if ref() is not None] == []
    assert all(r.closed for r in recordings)
    if panel == "on":
        import re

        request_id = re.search(rb'data-request-id="([0-9a-f]+)"', body).group(1).decode()  # type: ignore[union-attr]
        stats, _ = open_panel(client, request_id)
        assert stats["summary"]["saves"] >= 4  # it was recorded, and nothing recorded holds on to the objects


def test_a_recording_still_open_to_reading_holds_no_instance_even_without_the_garbage_collector():
    # Reference counting alone frees the objects: nothing the recording keeps points at them, not even
    # through a cycle, while the recording itself is still alive and readable.
    import weakref

    import dt_signals_panel
    from tests.testapp.models import Author, Book, Tag

    gc.collect()
    gc.disable()
    try:
        with dt_signals_panel.capture() as recording:
            author = Author.objects.create(name="held?")
            author.name = "held again?"
            author.save()
            book = Book.objects.create(title="b", author=author)
            tag = Tag.objects.create(name="t")
            book.tags.add(tag)
            loaded = list(Author.objects.all())
            refs = [weakref.ref(o) for o in (author, book, tag, *loaded)]
            del author, book, tag, loaded
        assert recording.count("post_save") == 4
        assert [ref() for ref in refs if ref() is not None] == []
    finally:
        gc.enable()


def test_the_default_cap_keeps_a_thousand_events_and_counts_every_one(visit):
    assert DEFAULTS["MAX_EVENTS"] == 1000
    opened = visit("/trust/save-many/600/")
    kept = sum(g["kept"] for g in opened.stats["groups"])
    assert kept == opened.stats["summary"]["kept"] == 1000
    assert opened.stats["summary"]["dropped"] == 200
    assert opened.stats["summary"]["saves"] == 600
    assert {g["signal"]: g["count"] for g in opened.stats["groups"]} == {"pre_save": 600, "post_save": 600}
    assert "200 more events not kept (MAX_EVENTS reached)" in opened.content


@override_settings(DT_SIGNALS_PANEL={"MAX_EVENTS": 5})
def test_past_the_cap_counts_stay_exact_and_the_panel_says_how_many_were_not_kept(visit):
    opened = visit("/trust/save-many/10/")
    kept = [e for g in opened.stats["groups"] for e in g["events"]]
    assert len(kept) == 5
    assert sorted(e["seq"] for e in kept) == [1, 2, 3, 4, 5]
    assert {g["signal"]: g["count"] for g in opened.stats["groups"]} == {"pre_save": 10, "post_save": 10}
    assert opened.stats["summary"]["dropped"] == 15
    assert "15 more events not kept (MAX_EVENTS reached)" in opened.content


@override_settings(DT_SIGNALS_PANEL={"MAX_EVENTS": 0})
def test_a_cap_of_zero_keeps_no_event_but_every_count(visit):
    opened = visit("/trust/save-many/3/")
    assert opened.stats["summary"]["dropped"] == 6
    assert opened.stats["summary"]["saves"] == 3
    assert "6 more events not kept" in opened.content


def measure(client: Client, n: int, recording: bool, url: str = "/trust/instantiate/{n}/") -> tuple[int, float, str]:
    """Peak Python memory allocated while the request runs, its duration, and its request id."""
    client.cookies[f"djdt{PANEL_ID}"] = "on" if recording else "off"
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        response = client.get(url.format(n=n))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    return peak, time.perf_counter() - started, request_id_of(response)


#: Instances built by one request in the memory test; DT_SIGNALS_MEMORY_ROWS=1000000 for the full figure.
ROWS = int(os.environ.get("DT_SIGNALS_MEMORY_ROWS", "20000"))


@pytest.mark.slow
def test_building_many_instances_keeps_memory_bounded(client, capsys):
    measure(client, 10, recording=True)  # the process's first request compiles templates: not ours to count
    small_on, _, _ = measure(client, 1_000, recording=True)
    off, off_s, _ = measure(client, ROWS, recording=False)
    on, on_s, request_id = measure(client, ROWS, recording=True)
    stats, _ = open_panel(client, request_id)
    (row,) = [r for r in stats["inits"] if r["sender"] == "testapp.Author"]
    assert row["pre_init"] == row["post_init"] == ROWS  # every row counted...
    # ...in memory that does not grow with the number of rows: what recording adds over the same request
    # without it stays under 1 MB, and recording ROWS rows peaks within 1 MB of recording 1,000.
    assert on - off < 1_000_000, (on, off)
    assert on - small_on < 1_000_000, (on, small_on)
    with capsys.disabled():
        print(
            f"\n[memory] {ROWS} instances: peak {off / 1e6:.2f} MB without recording, {on / 1e6:.2f} MB with "
            f"({(on - off) / 1e3:+.0f} kB); {off_s:.2f}s vs {on_s:.2f}s; 1,000 instances recorded: "
            f"{small_on / 1e6:.2f} MB"
        )


#: Rows loaded from the database by one request; DT_SIGNALS_MEMORY_DB_ROWS=1000000 for the full figure.
DB_ROWS = int(os.environ.get("DT_SIGNALS_MEMORY_DB_ROWS", "5000"))


@pytest.mark.slow
def test_loading_many_rows_from_the_database_keeps_memory_bounded(client, capsys):
    from tests.testapp.models import Author

    for start in range(0, DB_ROWS, 50_000):
        Author.objects.bulk_create(Author(name=f"row {i}") for i in range(start, min(start + 50_000, DB_ROWS)))
    measure(client, DB_ROWS, recording=True, url="/trust/iterate/")  # warm: the first run compiles and caches
    off, off_s, _ = measure(client, DB_ROWS, recording=False, url="/trust/iterate/")
    on, on_s, request_id = measure(client, DB_ROWS, recording=True, url="/trust/iterate/")
    stats, _ = open_panel(client, request_id)
    (row,) = [r for r in stats["inits"] if r["sender"] == "testapp.Author"]
    assert row["pre_init"] == row["post_init"] == DB_ROWS
    assert on - off < 1_000_000, (on, off)
    with capsys.disabled():
        print(
            f"\n[memory] {DB_ROWS} rows loaded: peak {off / 1e6:.2f} MB without recording, {on / 1e6:.2f} MB with "
            f"({(on - off) / 1e3:+.0f} kB); {off_s:.2f}s vs {on_s:.2f}s"
        )
