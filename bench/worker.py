"""One side of the not-recording comparison, in its own process: ``python -m bench.worker``.

It reads the database the main process seeded (``DT_BENCH_DB``), so both sides load the very same rows.

Reads commands on stdin, answers each with the seconds one request took:
``run`` requests the init-heavy page with the toolbar off (nothing records);
``run-other-thread`` does the same while another thread holds a capture open (installed variant only).
"""

from __future__ import annotations

import sys
import threading

from bench import harness


def main() -> None:
    harness.setup(migrate=False)
    from django.conf import settings
    from django.test import Client

    client = Client()
    installed = "dt_signals_panel" in settings.INSTALLED_APPS
    if not installed and "dt_signals_panel" in sys.modules:
        raise SystemExit("the 'absent' variant imported dt_signals_panel")
    # Both sides make one request with the toolbar on first; the installed side records it, so what a
    # recording installs must be gone once it ends.
    with harness.panels(["dt_signals_panel.panel.SignalActivityPanel"] if installed else []):
        harness.timed_get(client, "/init-heavy/")
    harness.SHOW = False
    harness.timed_get(client, "/init-heavy/")
    for line in sys.stdin:
        command = line.strip()
        if command == "ping":
            elapsed = 0.0
        elif command == "run":
            elapsed = harness.timed_get(client, "/init-heavy/")
        elif command == "run-other-thread" and installed:
            elapsed = _with_capture_elsewhere(client)
        else:
            raise SystemExit(f"unknown command {command!r}")
        print(repr(elapsed), flush=True)


def _with_capture_elsewhere(client: object) -> float:
    from dt_signals_panel import capture

    opened, done = threading.Event(), threading.Event()

    def hold() -> None:
        with capture():
            opened.set()
            done.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    opened.wait()
    try:
        return harness.timed_get(client, "/init-heavy/")
    finally:
        done.set()
        thread.join()


if __name__ == "__main__":
    main()
