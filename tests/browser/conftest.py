"""A real Chromium (Debian's ``chromium``, driven by Playwright) against the demo shop on a live server.

Every test here is marked ``browser``: ``make test-browser`` runs them, ``make test`` leaves them out. One
demo database and one Chromium serve the whole session; the demo runs twice, with the toolbar's shadow DOM
on and off, and each test gets a fresh browser context (so a fresh ``localStorage`` and cookies).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.demo_server import DemoServer, prepare_database

if importlib.util.find_spec("playwright") is None:
    # `make test` installs no browser group and deselects these tests anyway. With `-m browser` and no
    # Playwright, pytest then collects nothing and exits with status 5, so the run still fails.
    collect_ignore_glob = ["test_*.py"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no chromium on PATH: `make test-browser` installs Debian's chromium package")
    return found


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_dir = tmp_path_factory.mktemp("demo-db")
    prepare_database(db_dir)
    return db_dir


@pytest.fixture(scope="session")
def shadow_server(demo_db: Path) -> Iterator[DemoServer]:
    server = DemoServer(demo_db, shadow_dom=True, log=demo_db / "server-shadow.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def flat_server(demo_db: Path) -> Iterator[DemoServer]:
    server = DemoServer(demo_db, shadow_dom=False, log=demo_db / "server-flat.log")
    yield server
    server.stop()


@pytest.fixture(params=["shadow", "flat"])
def demo(request: pytest.FixtureRequest) -> DemoServer:
    """The demo with the toolbar in a shadow root (djdt 7+'s default) and without one."""
    name = "shadow_server" if request.param == "shadow" else "flat_server"
    server: DemoServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def shadow_demo(shadow_server: DemoServer) -> DemoServer:
    """Only the default set-up, for checks that do not depend on where the toolbar lives."""
    return shadow_server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=VIEWPORT, color_scheme="light", locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        # The demo has no favicon; Chromium asks for one anyway.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert not errors, f"errors in the browser console: {errors}"
