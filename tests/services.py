"""Throwaway PostgreSQL clusters and Redis servers, for the tests, ``make demo DB=postgres`` and the benchmark.

Each server lives in a temporary directory of its own and listens only on a Unix socket in that directory, so
no test needs a port that another test or a developer's own PostgreSQL or Redis might hold. PostgreSQL
refuses to run as root: as root the cluster belongs to the ``postgres`` user that Debian's package creates,
otherwise to the current user. Stopping a server removes its directory; the fixtures in ``tests/conftest.py``
stop what they start even when a test fails, and an ``atexit`` hook catches anything left running.

``python -m tests.services [--database NAME ...] -- COMMAND ...`` runs a command with a cluster (and a
Redis) started for it, their addresses in ``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT`` and
``DT_SIGNALS_REDIS_URL``, and stops both when the command ends (``make demo DB=postgres``, ``make bench
DB=postgres``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where Debian puts each PostgreSQL version's programs (/usr/lib/postgresql/<version>/bin).
PG_ROOT = Path("/usr/lib/postgresql")
#: The port only names the socket file (.s.PGSQL.<port>) inside the cluster's own directory: TCP is off.
PG_PORT = 5432
PG_SUPERUSER = "postgres"
INSTALL_HINT = (
    "`make test` installs it (apt-get, through sudo unless root); or install Debian's `postgresql` and "
    "`redis-server` yourself. To run the suite without them: pytest -m 'not postgres' (SQLite only)."
)


class ServiceUnavailable(RuntimeError):
    """A server the tests need is not installed or did not start; the message says what to do."""


def _is_root() -> bool:
    return os.geteuid() == 0


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's ``bin`` directory (``DT_SIGNALS_PG_BIN`` overrides)."""
    if override := os.environ.get("DT_SIGNALS_PG_BIN"):
        return Path(override)
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    )
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceUnavailable(f"PostgreSQL is not installed (no initdb in {PG_ROOT}/*/bin nor on PATH). {INSTALL_HINT}")


def _as_owner(argv: Sequence[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (PostgreSQL refuses root), else as ourselves."""
    if not _is_root():
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", PG_SUPERUSER, "--", *argv]
    return ["su", PG_SUPERUSER, "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in argv)]


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


@dataclass
class Postgres:
    """A running throwaway cluster: its directory holds the data, the log and the socket."""

    directory: Path
    bin_dir: Path
    stopped: bool = field(default=False, repr=False)

    @property
    def host(self) -> str:
        """What libpq (and Django's HOST) takes for a Unix socket: the directory that holds it."""
        return str(self.directory)

    @property
    def port(self) -> int:
        return PG_PORT

    def database(self, name: str, **extra: Any) -> dict[str, Any]:
        """A Django ``DATABASES`` entry for database ``name`` in this cluster."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": PG_SUPERUSER,
            "HOST": self.host,
            "PORT": str(self.port),
            **extra,
        }

    def create_database(self, name: str) -> None:
        self.psql(f'CREATE DATABASE "{name}"')

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                PG_SUPERUSER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"psql {sql!r}: {result.stderr}")
        return result.stdout

    def stop(self) -> None:
        """Stop the server at once (the data is thrown away) and remove its directory. Safe to call twice."""
        if self.stopped:
            return
        self.stopped = True
        data = self.directory / "data"
        if (data / "postmaster.pid").exists():
            result = subprocess.run(
                _as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
            if result.returncode:
                _kill_postmaster(data)
        shutil.rmtree(self.directory, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)


def start_postgres(databases: Sequence[str] = ()) -> Postgres:
    """initdb a cluster into a new temporary directory, start it on a socket in that directory, create
    ``databases``. Raises ServiceUnavailable with the reason (and the server's log) if it cannot."""
    bin_dir = postgres_bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="dtsp_pg_"))
    if _is_root():
        try:
            shutil.chown(directory, PG_SUPERUSER, PG_SUPERUSER)
        except (LookupError, OSError) as error:
            shutil.rmtree(directory, ignore_errors=True)
            raise ServiceUnavailable(
                f"PostgreSQL cannot run as root and there is no usable {PG_SUPERUSER!r} user ({error}). {INSTALL_HINT}"
            ) from error
    cluster = Postgres(directory, bin_dir)
    atexit.register(cluster.stop)
    data, log = directory / "data", directory / "server.log"
    options = " ".join(
        [
            f"-k {directory}",
            "-c listen_addresses=''",
            f"-p {PG_PORT}",
            # Throwaway data: durability only costs time.
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=200",
        ]
    )
    steps = [
        [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"],
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
    ]
    for argv in steps:
        result = subprocess.run(_as_owner(argv), capture_output=True, text=True, timeout=120, check=False)
        if result.returncode:
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            cluster.stop()
            raise ServiceUnavailable(
                f"PostgreSQL could not be started: `{' '.join(argv)}` failed:\n{result.stdout}{result.stderr}{server_log}\n"
                "To run the SQLite tests only: pytest -m 'not postgres'."
            )
    for name in databases:
        cluster.create_database(name)
    return cluster


@dataclass
class Redis:
    """A running redis-server, on a Unix socket in its own temporary directory, saving nothing to disk."""

    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def socket_path(self) -> str:
        return str(self.directory / "redis.sock")

    @property
    def url(self) -> str:
        """The LOCATION of Django's RedisCache (redis-py's URL syntax for a Unix socket)."""
        return f"unix://{self.socket_path}?db=0"

    def stop(self) -> None:
        """Stop the server and its process group, then remove its directory. Safe to call twice."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def redis_server_path() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else "")
    if not found:
        raise ServiceUnavailable(f"redis-server is not installed. {INSTALL_HINT}")
    return found


def start_redis() -> Redis:
    directory = Path(tempfile.mkdtemp(prefix="dtsp_redis_"))
    argv = [
        redis_server_path(),
        "--port",
        "0",  # no TCP at all
        "--unixsocket",
        str(directory / "redis.sock"),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(directory / "redis.log"),
    ]
    process = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Redis(directory, process)
    atexit.register(server.stop)
    deadline = time.monotonic() + 20
    while True:
        if _redis_pings(server.socket_path):
            return server
        if process.poll() is not None or time.monotonic() > deadline:
            log = (
                (directory / "redis.log").read_text(errors="replace")[-2000:]
                if (directory / "redis.log").exists()
                else ""
            )
            server.stop()
            raise ServiceUnavailable(f"redis-server could not be started:\n{log}")
        time.sleep(0.05)


def _redis_pings(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(path)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running(databases: Sequence[str] = (), redis: bool = True) -> Iterator[dict[str, str]]:
    """Start a cluster (and a Redis), yield the environment variables that point at them, stop both."""
    cluster = start_postgres(databases)
    server = None
    try:
        server = start_redis() if redis else None
        env = {"DT_SIGNALS_PG_HOST": cluster.host, "DT_SIGNALS_PG_PORT": str(cluster.port)}
        if server:
            env["DT_SIGNALS_REDIS_URL"] = server.url
        yield env
    finally:
        if server:
            server.stop()
        cluster.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.services", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", action="append", default=[], help="a database to create in the cluster")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    try:
        with running(args.database) as env:
            print(
                f"PostgreSQL on the socket in {env['DT_SIGNALS_PG_HOST']}; stopped when the command ends.", flush=True
            )
            # The command shares our terminal: Ctrl-C reaches it directly; a SIGTERM or SIGHUP sent to us is
            # passed on. Either way we wait for it to end, then stop the servers.
            child = subprocess.Popen(command, env={**os.environ, **env})
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for signum in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, lambda signum, frame: child.send_signal(signum))
            return child.wait()
    except ServiceUnavailable as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
