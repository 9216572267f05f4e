"""Helpers that go through the real toolbar: request a page, find its toolbar, open our panel."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar
from django.test import Client

PANEL_ID = "SignalActivityPanel"

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
                return group
        raise AssertionError(f"no {signal} group in {[g['signal'] for g in self.stats['groups']]}")

    def events(self, signal: str) -> list[dict[str, Any]]:
        try:
            return self.group(signal)["events"]
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
