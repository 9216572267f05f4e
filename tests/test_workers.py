"""Several worker processes, one shared store: the test app served by gunicorn with 4 workers on PostgreSQL,
the toolbar's data in djdt's CacheStore on a real Redis (Django's own RedisCache) or in djdt's DatabaseStore.

Pages and AJAX requests run concurrently; then each one's Signal activity panel, its History sidebar and the
History panel are fetched by requests that land on other workers than the one that recorded it. Every panel
must show its own request's signals, no more, no fewer, and nothing sensitive may reach the store.

Every server here is started by a fixture and stopped by it, even when the test fails: gunicorn and Redis in
process groups of their own, PostgreSQL by the session's ``postgres`` fixture (tests/conftest.py). Nothing
listens on a fixed port: gunicorn is handed a socket bound to a free loopback port, the others use Unix
sockets in their own temporary directories.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import debug_toolbar
import debug_toolbar.store
import pytest

from tests import services
from tests.conftest import PANEL_ID
from tests.test_escaping_and_secrets import REQUEST_SECRETS, SECRETS
from tests.testapp.deploy import WORKER_HEADER

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
CLIENTS = 8
#: Jobs (token, number of tags, kind): every fourth is an AJAX request (JSON, no toolbar in the body).
JOBS = [(f"tk{i:02d}q", 1 + i % 4, "ajax" if i % 4 == 3 else "page") for i in range(32)]
TOKEN = re.compile(r"tk\d\dq")
STORE_CLASSES = {"cache": "CacheStore", "database": "DatabaseStore"}


@dataclass
class Response:
    status: int
    headers: Any
    body: bytes

    @property
    def worker(self) -> int:
        return int(self.headers[WORKER_HEADER])

    def text(self) -> str:
        return self.body.decode()


def get(url: str, headers: dict[str, str] | None = None) -> Response:
    """One request on a new connection (a sync gunicorn worker closes it anyway), so the next request may be
    accepted by any worker."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # loopback only
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


#: DatabaseStore's set() trims the store in each new request: it reads the ids to keep, then deletes every row
#: not among them. A row that another worker inserts between the two is deleted though it is brand new, and
#: that request's later save_panel calls insert it again with only the panels saved after the delete. This
#: trigger (test scaffolding, not the app's) notes every deleted id, so the test can tell that djdt race from
#: a panel that failed to save.
DELETIONS_LOG = """
CREATE TABLE djdt_deleted (request_id uuid NOT NULL);
CREATE FUNCTION djdt_note_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO djdt_deleted VALUES (OLD.request_id); RETURN OLD; END $$;
CREATE TRIGGER djdt_note_delete AFTER DELETE ON debug_toolbar_historyentry
FOR EACH ROW EXECUTE FUNCTION djdt_note_delete();
"""


@dataclass
class Served:
    url: str
    store: str
    cluster: services.Postgres
    database: str
    redis: services.Redis | None

    def from_another_worker(self, path: str, params: dict[str, str], recorded_by: int) -> Response:
        """GET ``path`` from a worker other than ``recorded_by``. That worker is stopped (SIGSTOP) meanwhile, so it
        cannot accept the connection: the kernel hands it to another worker. Retrying until another worker
        happened to accept failed about once in 20 runs on a loaded machine, when one worker won every accept."""
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        os.kill(recorded_by, signal.SIGSTOP)
        try:
            response = get(url)
        finally:
            os.kill(recorded_by, signal.SIGCONT)
        assert response.status == 200, response.body[:500]
        assert response.worker != recorded_by
        return response

    def stored_values(self) -> dict[str, bytes]:
        """Everything in the store, raw: every Redis key's value, or every row of djdt's HistoryEntry."""
        if self.redis is not None:
            import redis

            client = redis.Redis(unix_socket_path=self.redis.socket_path)
            try:
                values: dict[str, Any] = {}
                for key in client.scan_iter(count=1000):
                    kind = client.type(key)
                    values[key.decode()] = client.get(key) if kind == b"string" else client.dump(key)
                return values
            finally:
                client.close()
        rows = self.cluster.psql(
            "SELECT replace(request_id::text, '-', '') || ' ' || data::text FROM debug_toolbar_historyentry",
            database=self.database,
        )
        return {line.split(" ", 1)[0]: line.encode() for line in rows.splitlines() if line}

    def cache_index(self) -> list[str]:
        """CacheStore's list of request ids, the one key that every worker reads, changes and writes back."""
        (value,) = [v for k, v in self.stored_values().items() if k.endswith("djdt:request_ids")]
        return list(pickle.loads(value))  # our own Redis, written by djdt

    def deleted_by_djdt(self) -> set[str]:
        """The request ids whose DatabaseStore row was deleted at some point (see :data:`DELETIONS_LOG`)."""
        rows = self.cluster.psql("SELECT replace(request_id::text, '-', '') FROM djdt_deleted", database=self.database)
        return set(rows.split())

    def our_panel(self, request_id: str) -> str | None:
        """Our panel's entry in the store for one request, as stored (djdt's serialized JSON); ``None`` when
        djdt's DatabaseStore deleted the request's row while it was being saved, and so lost the panels saved
        before the delete (the row holds only those saved after it, or is gone)."""
        for key, value in self.stored_values().items():
            if request_id not in key:
                continue
            if self.redis is not None:
                return str(pickle.loads(value)[PANEL_ID])  # our own Redis, written by djdt
            data = json.loads(value.decode().split(" ", 1)[1])
            if PANEL_ID not in data and request_id in self.deleted_by_djdt():
                return None
            assert PANEL_ID in data, f"{request_id}: the row holds {sorted(data)} but not {PANEL_ID}"
            return str(data[PANEL_ID])
        if self.redis is None and request_id in self.deleted_by_djdt():
            return None
        raise AssertionError(f"{request_id} is not in the store")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers: SIGINT is its quick shutdown (SIGTERM would wait for graceful-timeout)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module", params=sorted(STORE_CLASSES))
def served(request: Any, postgres: services.Postgres, tmp_path_factory: Any) -> Iterator[Served]:
    """One server per store for this module's tests (they only add requests to it)."""
    store = request.param
    tmp_path = tmp_path_factory.mktemp(f"workers_{store}")
    if not hasattr(debug_toolbar.store, STORE_CLASSES[store]):
        pytest.skip(f"django-debug-toolbar {debug_toolbar.VERSION} has no {STORE_CLASSES[store]}")
    with contextlib.ExitStack() as cleanup:
        redis = None
        if store == "cache":
            try:
                redis = services.start_redis()
            except services.ServiceUnavailable as error:
                pytest.fail(str(error), pytrace=False)
            cleanup.callback(redis.stop)
        database = f"workers_{store}_{uuid.uuid4().hex[:8]}"
        postgres.create_database(database)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings_workers",
            "DT_SIGNALS_STORE": store,
            "DT_SIGNALS_PG_HOST": postgres.host,
            "DT_SIGNALS_PG_PORT": str(postgres.port),
            "DT_SIGNALS_PG_NAME": database,
            "DT_SIGNALS_TEST_DB_DIR": str(tmp_path),
            "DT_SIGNALS_REDIS_URL": redis.url if redis else "",
            "PYTHONPATH": str(ROOT),
        }
        for alias in ("default", "other"):
            migrated = subprocess.run(
                [sys.executable, "-m", "django", "migrate", "--noinput", "--database", alias],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert migrated.returncode == 0, migrated.stderr[-3000:]
        if store == "database":
            postgres.psql(DELETIONS_LOG, database=database)
        listener = socket.socket()
        cleanup.callback(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.set_inheritable(True)
        log = (tmp_path / "gunicorn.log").open("wb")
        cleanup.callback(log.close)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--bind",
            f"fd://{listener.fileno()}",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "django.core.wsgi:get_wsgi_application()",
        ]
        server = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            pass_fds=[listener.fileno()],
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        cleanup.callback(_stop_group, server)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            with contextlib.suppress(OSError):
                if get(f"{url}/").status == 200:
                    break
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.1)
        yield Served(url, store, postgres, database, redis)
        assert server.poll() is None, "gunicorn died during the test"


@dataclass
class Job:
    token: str
    n: int
    kind: str
    request_id: str
    worker: int


def run_concurrently(served: Served) -> list[Job]:
    barrier = threading.Barrier(CLIENTS)

    def client(k: int) -> list[Job]:
        barrier.wait()
        done = []
        for token, n, kind in JOBS[k::CLIENTS]:
            response = get(f"{served.url}/deploy/{kind}/{token}/{n}/")
            assert response.status == 200, response.body[:500]
            if kind == "ajax":
                request_id = response.headers["djdt-request-id"]
                assert b"djDebug" not in response.body
            else:
                match = re.search(r'data-request-id="([0-9a-f]+)"', response.text())
                assert match, response.text()[:300]
                request_id = match.group(1)
            done.append(Job(token, n, kind, request_id, response.worker))
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [job for batch in pool.map(client, range(CLIENTS)) for job in batch]


def shown(content: str) -> tuple[set[str], set[str]]:
    """The tokens a panel mentions anywhere, and the tag names it shows."""
    return set(TOKEN.findall(content)), set(re.findall(r"tk\d\dq-\d+", content))


def saves_in(button: str) -> int:
    match = re.search(r"(\d+) saves?\b", button)
    assert match, button
    return int(match.group(1))


#: What djdt's render_panel answers for a request id its store does not list.
GONE = "available anymore"


def test_every_panel_fetched_from_another_worker_shows_its_own_requests_signals(served):
    jobs = run_concurrently(served)
    assert len(jobs) == len(JOBS)
    assert len({job.worker for job in jobs}) > 1, "every request reached the same worker"
    lost = []
    for job in jobs:
        expected = ({job.token}, {f"{job.token}-{i}" for i in range(job.n)})
        # What the store holds for the request, read straight from Redis or PostgreSQL.
        stored = served.our_panel(job.request_id)
        if stored is None:
            # djdt's DatabaseStore deleted the row mid-save (DELETIONS_LOG): a djdt race, not the panel's.
            lost.append(job)
            continue
        assert shown(stored) == expected, job
        params = {"request_id": job.request_id}
        panel = served.from_another_worker(
            "/__debug__/render_panel/", {**params, "panel_id": PANEL_ID}, recorded_by=job.worker
        )
        content = json.loads(panel.body)["content"]
        if GONE in content and served.store == "cache":
            # djdt's CacheStore keeps its index of request ids in one cache key that each request reads,
            # changes and writes back: two workers writing at once drop one's id. The request's data is
            # still in Redis (checked above), but djdt no longer finds it. A djdt limitation, not the panel's;
            # the README says to prefer DatabaseStore with several workers.
            assert job.request_id not in served.cache_index(), content
            lost.append(job)
            continue
        assert shown(content) == ({job.token}, {f"{job.token}-{i}" for i in range(job.n)}), (job, content[:2000])
        assert f"iso.{job.token}" in content
        # What the toolbar asks after an AJAX request (and the History panel's "Switch"): the request's
        # buttons and panels, from yet another worker.
        sidebar = served.from_another_worker("/__debug__/history_sidebar/", params, recorded_by=job.worker)
        ours = json.loads(sidebar.body)[PANEL_ID]
        assert saves_in(ours["button"]) == job.n, job
        assert shown(ours["button"] + ours["content"])[0] <= {job.token}
    # The History panel of the last request lists every request, whichever worker recorded it.
    last = jobs[-1]
    history = served.from_another_worker(
        "/__debug__/render_panel/", {"request_id": last.request_id, "panel_id": "HistoryPanel"}, last.worker
    )
    # DatabaseStore keeps the ids as UUIDs: its History rows show them with hyphens.
    listed = {
        found.replace("-", "")
        for found in re.findall(r'data-request-id="([0-9a-f-]+)"', json.loads(history.body)["content"])
    }
    assert {job.request_id for job in jobs if job not in lost} <= listed
    if served.store == "database":
        recreated = {job.request_id for job in jobs} & served.deleted_by_djdt()
        print(f"[workers] djdt's DatabaseStore deleted {len(recreated)} fresh rows; {len(lost)} lost a panel")
    if lost:
        print(f"[workers] djdt's {STORE_CLASSES[served.store]} lost {len(lost)} of {len(jobs)} concurrent requests")
    assert len(lost) < len(jobs) / 2, "most requests lost: not the index race any more"


def test_nothing_sensitive_reaches_the_shared_store(served):
    headers = {"Authorization": REQUEST_SECRETS["HTTP_AUTHORIZATION"]}
    recorded = []
    for path in ("/failed-login/", "/direct-failed-login/"):
        response = get(f"{served.url}{path}?{REQUEST_SECRETS['QUERY_STRING']}", headers)
        assert response.status == 200
        match = re.search(r'data-request-id="([0-9a-f]+)"', response.text())
        assert match
        recorded.append((match.group(1), response.worker))
    stored = served.stored_values()
    assert stored, "the store is empty"
    everything = b"\n".join(key.encode() + b" " + value for key, value in stored.items()).decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in everything, secret
    for request_id, worker in recorded:
        ours = served.our_panel(request_id)
        assert ours is not None, "a row deleted by djdt: these requests ran one at a time, with nothing to race"
        assert "sensitive_in_clear" in ours, "the failed login was not recorded"
        for secret in ("hdr-0tp-998877", "qs-556677"):
            assert secret not in ours, secret
        panel = served.from_another_worker(
            "/__debug__/render_panel/", {"request_id": request_id, "panel_id": PANEL_ID}, worker
        )
        content = json.loads(panel.body)["content"]
        for secret in (*SECRETS, "hdr-0tp-998877", "qs-556677"):
            assert secret not in content, secret
