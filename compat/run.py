"""``make compat``: run real third-party test suites plain and under ``dt_signals_panel.capture()``, compare.

For each suite below, pip downloads its source distribution from PyPI (they ship their tests), a virtualenv
gets Django and the suite's test needs plus this package, and the suite runs twice: plain, then with a
capture open around every test. Both runs load the same probe (``probe.py``), so they are measured the same
way. Compared test by test: the outcome, and what the receivers of the tracked signals received
(calls per signal, receiver and sender). Any difference is printed and the exit status is 1.

``COMPAT_DB=postgres`` runs both on PostgreSQL instead of SQLite, in the cluster named by
``DT_SIGNALS_PG_HOST``/``DT_SIGNALS_PG_PORT``; without them, the project's ``tests/services.py`` (where
present) starts a throwaway one for the run.

Everything downloaded or built lives in ``.compat/`` (git-ignored) and is reused while the pins and
``pyproject.toml`` are unchanged. Standard library only: this runs on the bare ``python3``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".compat"
VENV = CACHE / "venv"
PY = VENV / "bin" / "python"

#: What every suite's run needs. Django 5.2 is the newest that runs on Python 3.10/3.11 and the oldest we support.
REQUIREMENTS = [
    "Django>=5.2,<5.3",
    "pytest>=8.3,<10",
    "pytest-django>=4.9,<5",
    "time-machine>=2.14,<4",
]
#: Installed only for COMPAT_DB=postgres.
POSTGRES_REQUIREMENTS = ["psycopg[binary]>=3.2,<4"]
#: The label of probe.every_send, the receiver both runs connect to every signal whose receivers change nothing.
EVERY_SEND = "probe.every_send"
#: Differences listed in full up to this many lines each; the whole report is in .compat/report-SUITE.txt.
SHOWN = 40


@dataclass(frozen=True)
class Suite:
    name: str
    dist: str
    version: str
    #: The command run from the unpacked source distribution (``{py}``: the venv's python, ``{here}``: compat/).
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: Also pip-install the sdist (without dependencies, Django stays pinned) for code that reads its metadata.
    install: bool = False
    #: Printed under the counts: what fails in both runs and why.
    note: str = ""
    #: The environment that puts the suite on PostgreSQL ({host}, {port}: the cluster's), instead of ``env``.
    postgres_env: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> Path:
        return CACHE / "src" / f"{self.dist.replace('-', '_')}-{self.version}"


SUITES = [
    # 3.13.0: Django 5.2 to 6.0, Python 3.10+. Its runtests.py runs simple_history.tests then registry_tests.
    Suite(
        "django-simple-history",
        "django-simple-history",
        "3.13.0",
        ["{py}", "{here}/unittest_boot.py", "django-simple-history", "runtests.py"],
        install=True,  # simple_history/__init__.py asks importlib.metadata for its version
        # unittest_boot configures runtests.py's own PostgreSQL settings with the cluster's address.
        postgres_env={"COMPAT_PG_HOST": "{host}", "COMPAT_PG_PORT": "{port}"},
    ),
    # 5.0.0, the newest: declares Django up to 5.1 and runs on 5.2. SQLITE=1 is its own switch off PostgreSQL.
    Suite(
        "django-model-utils",
        "django-model-utils",
        "5.0.0",
        ["{py}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:dt_signals_panel", "-p", "pytest_capture"],
        {"SQLITE": "1"},
        note="its 4 JoinManager tests fail in both runs on SQLite, which runs one statement at a time "
        "(the suite's own default database is PostgreSQL)",
        postgres_env={"POSTGRES_HOST": "{host}", "POSTGRES_PORT": "{port}", "POSTGRES_USER": "postgres"},
    ),
]


def sh(*command: str | Path) -> None:
    subprocess.run([str(c) for c in command], check=True)


def ensure_venv() -> None:
    """Create or refresh .compat/venv; a stamp names the pins and pyproject.toml it was built from."""
    digest = hashlib.sha256(
        "\n".join([*REQUIREMENTS, (ROOT / "pyproject.toml").read_text(encoding="utf-8")]).encode()
    ).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    print(f"compat: building {VENV.relative_to(ROOT)}", flush=True)
    sh(sys.executable, "-m", "venv", "--clear", VENV)
    sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # Editable, so the suites run against this worktree's package as it is now.
    sh(PY, "-m", "pip", "install", "--quiet", *REQUIREMENTS, "-e", ROOT)
    stamp.touch()


def ensure_source(suite: Suite) -> None:
    dist = CACHE / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    sdist = dist / f"{suite.dist.replace('-', '_')}-{suite.version}.tar.gz"
    installed = VENV / f".installed-{suite.dist}-{suite.version}"
    if suite.install and not installed.exists():
        download(suite.dist, suite.version, sdist)
        sh(PY, "-m", "pip", "install", "--quiet", "--no-deps", sdist)
        installed.touch()
    if (suite.source / ".unpacked").exists():
        return
    download(suite.dist, suite.version, sdist)
    unpack(sdist, suite.source)


def download(dist: str, version: str, sdist: Path) -> None:
    """The source distribution of ``dist`` (its tests ship in it) into ``sdist``'s folder, once."""
    if sdist.exists():
        return
    print(f"compat: downloading the source distribution of {dist} {version}", flush=True)
    sh(
        PY,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        "-d",
        sdist.parent,
        f"{dist}=={version}",
    )


def unpack(sdist: Path, source: Path) -> None:
    """``sdist`` unpacked beside ``source`` (the folder it holds), marked done."""
    with tarfile.open(sdist) as archive:
        try:
            archive.extractall(source.parent, filter="data")
        except TypeError:  # a Python from before extraction filters: the archive comes from PyPI by pinned version
            archive.extractall(source.parent)
    (source / ".unpacked").touch()


def ensure_postgres_driver() -> None:
    stamp = VENV / ".installed-psycopg"
    if not stamp.exists():
        sh(PY, "-m", "pip", "install", "--quiet", *POSTGRES_REQUIREMENTS)
        stamp.touch()


def database_env(suite: Suite, db: str) -> dict[str, str]:
    if db == "sqlite":
        return suite.env
    host, port = os.environ["DT_SIGNALS_PG_HOST"], os.environ.get("DT_SIGNALS_PG_PORT", "5432")
    return {key: value.format(host=host, port=port) for key, value in suite.postgres_env.items()}


def run_suite(suite: Suite, mode: str, db: str = "sqlite") -> dict[str, Any]:
    name = suite.name if db == "sqlite" else f"{suite.name}-{db}"
    out = CACHE / f"{name}-{mode}.json"
    out.unlink(missing_ok=True)
    log = CACHE / f"{name}-{mode}.log"
    command = [part.format(py=PY, here=HERE) for part in suite.command]
    env = {
        **os.environ,
        **database_env(suite, db),
        "COMPAT_MODE": mode,
        "COMPAT_OUT": str(out),
        "COMPAT_SUITE": suite.name,
        "PYTHONPATH": str(HERE),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        status = subprocess.run(command, cwd=suite.source, env=env, stdout=output, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - started
    if not out.exists():
        sys.exit(f"compat: {suite.name} ({mode}) wrote no results (exit {status}); see {log.relative_to(ROOT)}")
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["status"] = status
    data["seconds"] = seconds
    return data


def tally(outcomes: dict[str, str]) -> str:
    counts = Counter(outcomes.values())
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def compare(suite: Suite, plain: dict[str, Any], captured: dict[str, Any]) -> list[str]:
    """The differences as report lines; empty when the two runs agree."""
    lines: list[str] = []
    p_out: dict[str, str] = plain["outcomes"]
    c_out: dict[str, str] = captured["outcomes"]
    changed = [(t, p_out.get(t, "(not run)"), c_out.get(t, "(not run)")) for t in sorted({*p_out, *c_out})]
    changed = [row for row in changed if row[1] != row[2]]
    if changed:
        lines.append(f"  outcomes differ for {len(changed)} test(s) (test id: plain -> captured):")
        lines += [f"    {test}: {a} -> {b}" for test, a, b in changed]

    p_rec: dict[str, dict[str, int]] = plain["receivers"]
    c_rec: dict[str, dict[str, int]] = captured["receivers"]
    p_total: Counter[str] = Counter()
    c_total: Counter[str] = Counter()
    for counts in p_rec.values():
        p_total.update(counts)
    for counts in c_rec.values():
        c_total.update(counts)
    keys = sorted({*p_total, *c_total}, key=lambda k: (-abs(c_total[k] - p_total[k]), k))
    receivers = [(k, p_total[k], c_total[k]) for k in keys if p_total[k] != c_total[k]]
    tests = [t for t in sorted({*p_rec, *c_rec}) if p_rec.get(t, {}) != c_rec.get(t, {})]
    if receivers or tests:
        plain_sum, captured_sum = sum(p_total.values()), sum(c_total.values())
        ran = len({*p_out, *c_out})
        lines.append(
            f"  receivers received {plain_sum:,} calls plain and {captured_sum:,} captured "
            f"({captured_sum - plain_sum:+,}), differing in {len(tests)} of {ran} tests"
        )
        ours = [k for k in {*p_total, *c_total} if f" | {EVERY_SEND} | " in k]
        p_ours, c_ours = sum(p_total[k] for k in ours), sum(c_total[k] for k in ours)
        lines.append(
            f"  of which the suite's own receivers: {plain_sum - p_ours:,} -> {captured_sum - c_ours:,} "
            f"({captured_sum - c_ours - plain_sum + p_ours:+,}); {EVERY_SEND}, our receiver on every tracked "
            f"signal: {p_ours:,} -> {c_ours:,} ({c_ours - p_ours:+,})"
        )
        lines.append("  calls per receiver (signal | receiver | sender: plain -> captured):")
        lines += [f"    {k}: {a:,} -> {b:,} ({b - a:+,})" for k, a, b in receivers]
        lines.append("  tests whose receivers received something else (test id: calls plain -> captured):")
        for test in tests:
            a, b = sum(p_rec.get(test, {}).values()), sum(c_rec.get(test, {}).values())
            lines.append(f"    {test}: {a:,} -> {b:,} ({b - a:+,})")
    return lines


def shorten(lines: list[str]) -> list[str]:
    """Each indented list cut at SHOWN entries, with how many more there are."""
    shown: list[str] = []
    run = 0
    hidden = 0
    for line in [*lines, ""]:
        if line.startswith("    "):
            run += 1
            if run > SHOWN:
                hidden += 1
                continue
        else:
            if hidden:
                shown.append(f"    ... and {hidden} more")
            run = hidden = 0
        if line:
            shown.append(line)
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help="run only these suites (default: all)")
    args = parser.parse_args()
    db = os.environ.get("COMPAT_DB") or "sqlite"
    if db not in ("sqlite", "postgres"):
        sys.exit(f"compat: COMPAT_DB={db!r}: sqlite (the default) or postgres")
    if db == "postgres" and not os.environ.get("DT_SIGNALS_PG_HOST"):
        if not (ROOT / "tests" / "services.py").exists():
            sys.exit("compat: COMPAT_DB=postgres needs a cluster: set DT_SIGNALS_PG_HOST (and DT_SIGNALS_PG_PORT)")
        # A throwaway cluster for this run only, stopped when it ends.
        command = [sys.executable, "-m", "tests.services", "--", sys.executable, *sys.argv]
        return subprocess.run(command, cwd=ROOT).returncode
    selected = [s for s in SUITES if not args.suites or s.name in args.suites]
    CACHE.mkdir(exist_ok=True)
    ensure_venv()
    if db == "postgres":
        ensure_postgres_driver()
    failed: list[str] = []
    for suite in selected:
        ensure_source(suite)
        plain = run_suite(suite, "plain", db)
        captured = run_suite(suite, "captured", db)
        print(
            f"compat: {suite.name} {suite.version} on Django {plain['django']}, Python {plain['python']}, "
            f"{plain['database']}: "
            f"{len(plain['outcomes'])} tests plain ({tally(plain['outcomes'])}; {plain['seconds']:.0f} s), "
            f"{len(captured['outcomes'])} captured ({tally(captured['outcomes'])}; {captured['seconds']:.0f} s)",
            flush=True,
        )
        if not captured["captures"] or not captured["recorded"]:
            # A hook that silently stopped opening captures would make every comparison agree.
            print(
                f"compat: {suite.name}: the captured run recorded nothing; see {CACHE.name}/{suite.name}-captured.log"
            )
            failed.append(suite.name)
            continue
        print(
            f"compat: {suite.name}: {captured['captures']:,} captures opened, {captured['recorded']:,} sends recorded",
            flush=True,
        )
        if suite.note and db == "sqlite":
            print(f"compat: {suite.name}: {suite.note}", flush=True)
        lines = compare(suite, plain, captured)
        report = CACHE / f"report-{suite.name}{'' if db == 'sqlite' else '-' + db}.txt"
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if lines:
            failed.append(suite.name)
            print(f"compat: {suite.name} behaves differently under capture (full list: {report.relative_to(ROOT)})")
            print("\n".join(shorten(lines)), flush=True)
        else:
            print(f"compat: {suite.name}: same outcomes and same receiver calls under capture", flush=True)
    # One closing line a CI log reader understands: suites that agreed, suites that did not.
    print(f"compat: {len(selected) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
