"""The demo shop on a live server: its own settings, a throwaway database, a free port on 127.0.0.1.

The demo is started the way a person starts it (``manage.py migrate``, ``seed_demo``, ``runserver``), in a
subprocess, because it has settings of its own that the test settings must not mix with.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent.parent / "demo"


def demo_env(db_dir: Path, *, shadow_dom: bool = True) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",
        "DEMO_DB_DIR": str(db_dir),
        "DEMO_SHADOW_DOM": "1" if shadow_dom else "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTHONPATH", None)
    return env


def prepare_database(db_dir: Path) -> None:
    """Migrate both of the demo's databases and seed them, as ``make demo`` does."""
    env = demo_env(db_dir)
    for args in (["migrate", "--noinput"], ["migrate", "--database", "archive", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *args, "-v", "0"],
            cwd=DEMO,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DemoServer:
    """``manage.py runserver`` on a free port; ``url(path)`` gives a page's address."""

    def __init__(self, db_dir: Path, *, shadow_dom: bool, log: Path) -> None:
        self.shadow_dom = shadow_dom
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=DEMO,
            env=demo_env(db_dir, shadow_dom=shadow_dom),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log = log
        self._wait()

    def url(self, path: str = "/") -> str:
        return self.base + path

    def _wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo server exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url("/"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the demo server did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
