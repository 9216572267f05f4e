"""``make strict-cost``: what strict mode costs a real test suite that has no problem, and that it changes no outcome.

Three suites, each run plain and with strict mode on, the way a project turns it on:

- django-simple-history 3.13.0 (Django's runner, from its ``runtests.py``): ``SignalsRunnerMixin`` in front of
  the ``DiscoverRunner`` the script builds, and ``DT_SIGNALS_PANEL["STRICT"]`` (``strict_boot.py``); plain is
  the script's own ``DiscoverRunner``;
- django-model-utils 5.0.0 (pytest): ``pytest --signals-strict``, the plugin loaded in both runs as an
  installed package loads it;
- a signal-heavy part of Django's own test suite (its sdist ships ``tests/runtests.py``):
  ``TEST_RUNNER = "dt_signals_panel.runner.SignalsDiscoverRunner"`` and ``DT_SIGNALS_PANEL["STRICT"]``
  (``strict_cost_settings.py``); plain is Django's own ``DiscoverRunner``.

None of the three is free of findings (their tests of saving save twice), and a test strict mode fails
would be timed doing something a clean suite never does. So the timed strict runs allow every finding
(``STRICT_ALLOW`` holds a callable that allows everything, ``outcomes.py``): each test is still recorded and
judged in full, which is what a suite with no problem pays, and no outcome may change. A last run of each
suite allows nothing, to list the tests strict mode would flag there (untimed in the table).

The plain and strict runs alternate (plain first, then strict first in the next round) for ``--rounds``
rounds; the report gives the median wall time and the median CPU time (user + system of the run and of every
process it waited for) of each, and their ratio. Outcomes are compared test by test across all rounds; any
test whose outcome differs is listed and the exit status is 1. Timings are reported, never judged: a shared
machine makes them noisy, so read the CPU ratio and run more rounds when the two disagree.

Reuses ``run.py``'s virtualenv (``.compat/venv``, with this worktree's package installed editable) and its
downloads; Django's sdist goes to ``.compat/dist`` too. Standard library only, as ``run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import run  # compat/run.py, beside this file

HERE = run.HERE
ROOT = run.ROOT
CACHE = run.CACHE
PY = run.PY

#: Django's own test apps that send the tracked signals the most: saves, deletes, m2m, auth, fixtures, forms.
DJANGO_APPS = [
    "signals",
    "save_delete_hooks",
    "basic",
    "update",
    "model_inheritance",
    "many_to_many",
    "m2m_signals",
    "m2m_through",
    "delete",
    "dispatch",
    "get_or_create",
    "bulk_create",
    "fixtures",
    "serializers",
    "model_forms",
    "model_formsets",
    "generic_relations",
    "prefetch_related",
    "proxy_models",
    "auth_tests",
    "admin_views",
]
REPORT = CACHE / "strict-cost.txt"


@dataclass(frozen=True)
class Timed:
    name: str
    #: The folder the command runs in, below .compat/src.
    folder: str
    command: list[str]
    #: Added to the command in the strict run.
    strict_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def suites(parallel: int) -> list[Timed]:
    history, utils = run.SUITES
    return [
        Timed(
            history.name,
            history.source.name,
            ["{py}", "{here}/strict_boot.py", "runtests.py"],
            env={"STRICT_COST_RUNNER": "1"},
        ),
        Timed(
            utils.name,
            utils.source.name,
            ["{py}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "outcomes", "--ds=strict_cost_settings"],
            strict_args=["--signals-strict"],
            env={**utils.env, "STRICT_COST_SETTINGS": "tests.settings"},
        ),
        Timed(
            "django",
            f"django-{django_version()}/tests",
            [
                "{py}",
                "{here}/strict_boot.py",
                "runtests.py",
                "--settings=strict_cost_settings",
                f"--parallel={parallel}",
                "--noinput",
                *DJANGO_APPS,
            ],
        ),
    ]


def django_version() -> str:
    return subprocess.run(
        [PY, "-c", "import django; print(django.__version__)"], check=True, capture_output=True, text=True
    ).stdout.strip()


def ensure_django_source(version: str) -> None:
    source = CACHE / "src" / f"django-{version}"
    if (source / ".unpacked").exists():
        return
    sdist = CACHE / "dist" / f"django-{version}.tar.gz"
    run.download("Django", version, sdist)
    run.unpack(sdist, source)


def run_once(suite: Timed, mode: str, round_: int) -> dict[str, Any]:
    out = CACHE / f"strict-cost-{suite.name}-{mode}.json"
    out.unlink(missing_ok=True)
    log = CACHE / f"strict-cost-{suite.name}-{mode}-{round_}.log"
    command = [part.format(py=PY, here=HERE) for part in suite.command]
    if mode != "plain":
        command += suite.strict_args
    env = {
        **os.environ,
        **suite.env,
        "STRICT_COST_MODE": mode,
        "STRICT_COST_OUT": str(out),
        "PYTHONPATH": str(HERE),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        status = subprocess.run(
            command, cwd=CACHE / "src" / suite.folder, env=env, stdout=output, stderr=subprocess.STDOUT
        ).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not out.exists():
        sys.exit(f"strict-cost: {suite.name} ({mode}) wrote no results (exit {status}); see {log.relative_to(ROOT)}")
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data.update(status=status, wall=wall, cpu=cpu, log=str(log.relative_to(ROOT)))
    return data


def differences(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Tests whose outcomes in the strict runs are not those of the plain runs (each side: every outcome it
    had in any round, so a test flaky in both is not blamed on strict mode)."""
    seen: dict[str, dict[str, set[str]]] = {"plain": {}, "strict": {}}
    for mode in seen:
        for data in runs[mode]:
            for test, kind in data["outcomes"].items():
                seen[mode].setdefault(test, set()).add(kind)
    tests = sorted({*seen["plain"], *seen["strict"]})
    return [
        f"    {test}: {'/'.join(sorted(seen['plain'].get(test, {'(not run)'})))} -> "
        f"{'/'.join(sorted(seen['strict'].get(test, {'(not run)'})))}"
        for test in tests
        if seen["plain"].get(test) != seen["strict"].get(test)
    ]


def flagged(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Tests that pass plain and fail in the run with nothing allowed: those strict mode flags."""
    passed = {test for data in runs["plain"] for test, kind in data["outcomes"].items() if kind == "pass"}
    return sorted(
        test
        for data in runs["flagging"]
        for test, kind in data["outcomes"].items()
        if test in passed and kind != "pass"
    )


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "suites",
        nargs="*",
        help="run only these suites (default: all): django-simple-history, django-model-utils, django",
    )
    parser.add_argument("--rounds", type=int, default=3, help="plain and strict runs of each suite (default 3)")
    parser.add_argument("--parallel", type=int, default=1, help="Django's own suite: --parallel (default 1)")
    parser.add_argument(
        "--no-flagging", action="store_true", help="skip the last run of each suite, with nothing allowed"
    )
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    run.ensure_venv()
    for suite in run.SUITES:
        run.ensure_source(suite)
    version = django_version()
    ensure_django_source(version)
    selected = [s for s in suites(args.parallel) if not args.suites or s.name in args.suites]
    results = {s.name: {"plain": [], "strict": [], "flagging": []} for s in selected}

    def one(suite: Timed, mode: str, round_: int, label: str) -> None:
        data = run_once(suite, mode, round_)
        results[suite.name][mode].append(data)
        print(
            f"strict-cost: {label} {suite.name} {mode}: {data['wall']:.1f} s wall, {data['cpu']:.1f} s CPU, "
            f"{len(data['outcomes'])} tests ({data['judged']} judged), exit {data['status']}",
            flush=True,
        )

    for round_ in range(1, args.rounds + 1):
        for suite in selected:
            # Alternate which goes first, so a drift in the machine's load falls on both.
            for mode in ("plain", "strict") if round_ % 2 else ("strict", "plain"):
                one(suite, mode, round_, f"round {round_}/{args.rounds}")
    if not args.no_flagging:
        for suite in selected:
            one(suite, "flagging", 0, "nothing allowed:")
    lines = [
        f"strict mode's cost, medians of {args.rounds} interleaved rounds (Python {sys.version.split()[0]}, "
        f"Django {version}, {os.cpu_count()} CPUs; Django's suite with --parallel={args.parallel})",
        "strict: every test recorded and judged, every finding allowed; flagged: tests that pass plain and that "
        "strict mode fails with nothing allowed",
        "",
        f"{'suite':<22}{'tests':>6}{'judged':>7}{'plain wall':>11}{'strict':>8}{'ratio':>7}"
        f"{'plain CPU':>10}{'strict':>8}{'ratio':>7}  {'outcomes':<10}{'flagged':>7}",
    ]
    details: list[str] = []
    failed = False
    for suite in selected:
        done = results[suite.name]
        plain, strict = done["plain"], done["strict"]
        diff = differences(done)
        failed = failed or bool(diff)
        flags = flagged(done) if done["flagging"] else []
        pw, sw, pc, sc = median(plain, "wall"), median(strict, "wall"), median(plain, "cpu"), median(strict, "cpu")
        lines.append(
            f"{suite.name:<22}{len(plain[0]['outcomes']):>6}{strict[0]['judged']:>7}{pw:>10.1f}s{sw:>7.1f}s"
            f"{sw / pw:>7.2f}{pc:>9.1f}s{sc:>7.1f}s{sc / pc:>7.2f}  {'same' if not diff else f'{len(diff)} differ':<10}"
            f"{len(flags) if done['flagging'] else '-':>7}"
        )
        if diff:
            details.append(f"  {suite.name}: outcomes plain -> strict (the strict logs say why: {strict[-1]['log']})")
            details += diff
        if flags:
            details.append(f"  {suite.name}: flagged with nothing allowed (why: {done['flagging'][-1]['log']})")
            details += [f"    {test}" for test in flags]
    lines += ["", *details] if details else []
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(run.shorten(lines)), flush=True)
    print(f"strict-cost: report in {REPORT.relative_to(ROOT)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
