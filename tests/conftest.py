"""Helpers that go through the real toolbar: request a page, find its toolbar, open our panel."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar
from django.test import Client

if TYPE_CHECKING:
    from tests.services import Postgres

PANEL_ID = "SignalActivityPanel"


def wrapped_signals() -> list[str]:
    """The names of the tracked signals that still carry the panel's send wrappers (public API only)."""
    from dt_signals_panel import wrappers
    from dt_signals_panel.conf import get_config
    from dt_signals_panel.signals import tracked_signals

    return [name for signal, name in tracked_signals(get_config()).items() if wrappers.is_installed(signal)]


pytest_plugins = ["pytester"]
# Users' projects, run in subprocesses of their own by test_user_project.py, test_strict.py and test_signal_snapshot.py.
collect_ignore = ["user_project", "strict_project", "snapshot_project"]


@dataclass
class Opened:
    """A request as the user sees it in the toolbar: the response, the stored stats, the panel's HTML."""

    response: Any
    request_id: str
    stats: dict[str, Any]
    content: str

    def group(self, signal: str) -> dict[str, Any]:
        for group in self.stats["groups"]:
            if group["signal"] == signal:
                return dict(group)
        raise AssertionError(f"no {signal} group in {[g['signal'] for g in self.stats['groups']]}")

    def events(self, signal: str) -> list[dict[str, Any]]:
        try:
            return list(self.group(signal)["events"])
        except AssertionError:
            return []

    def signals(self) -> list[str]:
        return [g["signal"] for g in self.stats["groups"]]


def request_id_of(response: Any) -> str:
    match = re.search(rb'data-request-id="([0-9a-f]+)"', response.content)
    assert match, "the toolbar is not in the page"
    return match.group(1).decode()


def open_panel(client: Client, request_id: str) -> tuple[dict[str, Any], str]:
    """Stats after djdt's JSON round trip, and the content the browser gets from render_panel."""
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID)
    assert toolbar is not None
    stats = toolbar.get_panel_by_id(PANEL_ID).get_stats()
    # What the store holds is what a later request renders from: it must survive JSON exactly.
    assert json.loads(json.dumps(stats)) == stats
    rendered = client.get("/__debug__/render_panel/", {"request_id": request_id, "panel_id": PANEL_ID})
    assert rendered.status_code == 200, rendered.content[:500]
    return stats, rendered.json()["content"]


@pytest.fixture
def visit(client: Client) -> Any:
    def visit(url: str, method: str = "get", **kwargs: Any) -> Opened:
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == 200, response.content[:500]
        request_id = request_id_of(response)
        stats, content = open_panel(client, request_id)
        return Opened(response, request_id, stats, content)

    return visit


@pytest.fixture
def avisit(async_client: Any, client: Client) -> Any:
    async def visit(url: str) -> Opened:
        response = await async_client.get(url)
        assert response.status_code == 200, response.content[:500]
        request_id = request_id_of(response)
        from asgiref.sync import sync_to_async

        stats, content = await sync_to_async(open_panel)(client, request_id)
        return Opened(response, request_id, stats, content)

    return visit


@pytest.fixture(autouse=True)
def _clear_store() -> None:
    get_store().clear()


# -- real database servers -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster for the whole session, stopped at its end even if tests failed.
    Without PostgreSQL installed the tests that need it fail with what to do, they are not skipped."""
    from tests import services

    try:
        cluster = services.start_postgres()
    except services.ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


def _default_engine() -> str:
    from django.conf import settings

    engine = str(settings.DATABASES["default"]["ENGINE"])
    return engine


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None, request: Any) -> None:
    """With tests.settings_postgres, point ``default`` at the session's cluster before the test databases are
    created (unless DT_SIGNALS_PG_HOST named one already)."""
    from django.conf import settings

    default = settings.DATABASES["default"]
    if str(default["ENGINE"]).endswith("postgresql") and not default.get("HOST"):
        cluster = request.getfixturevalue("postgres")
        default["HOST"], default["PORT"] = cluster.host, str(cluster.port)


@pytest.fixture(autouse=True, scope="session")
def _no_stray_postgres_sessions(request: Any) -> Iterator[None]:
    """Threads that views start keep their own connections open; PostgreSQL will not drop a test database that
    a connection still uses, so end those sessions before pytest-django drops it."""
    if not _default_engine().endswith("postgresql"):
        yield
        return
    request.getfixturevalue("django_db_setup")
    yield
    from django.db import connections

    with request.getfixturevalue("django_db_blocker").unblock(), connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    connections.close_all()


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup"}
#: Passed tests by the database they ran on, for the line ``make test`` prints per backend.
_passed_on: Counter[str] = Counter()
_backend_of: dict[str, str] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = _default_engine().endswith("postgresql")
    if on_postgres and not config.option.file_or_dir:
        from django.conf import settings

        suite = tuple(getattr(settings, "POSTGRES_SUITE", ()))
        if suite:
            kept = [item for item in items if item.nodeid.startswith(suite)]
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
    for item in items:
        # A browser test drives Chromium against a live server: slow too, so ``-m "not slow"`` skips it.
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
        fixtures = set(getattr(item, "fixturenames", ()))
        if on_postgres or "postgres" in fixtures:
            item.add_marker(pytest.mark.postgres)
            _backend_of[item.nodeid] = "PostgreSQL"
        elif item.get_closest_marker("django_db") or fixtures & _DB_FIXTURES:
            _backend_of[item.nodeid] = "SQLite"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _passed_on[_backend_of.get(report.nodeid, "no database")] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _passed_on:
        counts = ", ".join(f"{backend}: {n}" for backend, n in sorted(_passed_on.items()))
        terminalreporter.write_line(f"passed by database backend: {counts}")
