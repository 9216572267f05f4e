"""Signal snapshots: what each test sent, kept in a JSON file beside the test module and compared run to run.

A record holds what a code review should see change, and nothing that changes by itself: per signal and
sender, the exact count and the call sites as ``path:function`` (paths relative to the project root with
``/``; no line numbers, primary keys, timings or argument values). ``pre_init`` / ``post_init`` are left
out: how many rows a test loads depends on caches earlier tests warmed (``ContentType``'s, for one), so it
would change with the order of the tests.

``test_orders.py`` gets ``test_orders.signals.json``: one key per test, sorted, two-space indented, one
trailing newline, so the file is byte-identical whatever the order, the platform or the worker that ran the
test. Each test writes only its own keys, merged into the file under an OS file lock (pytest-xdist workers
share the file), and only once the test has passed.

Only the standard library is imported here at import time: the pytest plugin configures this module before
Django's settings are.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import os
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dt_signals_panel.recorder import Recording, capture

# unittest leaves this module's frames out of a failure's traceback (see testing.py).
__unittest = True

SUFFIX = ".signals.json"
ENTRY_KEYS = frozenset({"signal", "sender", "count", "sites"})
#: Directories that hold installed packages, never the project's own code.
INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})

Record = list[dict[str, Any]]


class SignalSnapshotError(Exception):
    """A snapshot file that cannot be read as one: never overwritten without ``--signals-snapshot-update``."""


# -- the session ----------------------------------------------------------------------------------------
@dataclass
class Session:
    update: bool = False
    root: Path = field(default_factory=Path.cwd)
    #: Gives the test running now (the pytest plugin sets it); None outside pytest.
    provider: Callable[[], TestRef | None] | None = None
    #: Parsed files, by path: each process reads a file once and knows its own keys from then on.
    files: dict[Path, dict[str, Any]] = field(default_factory=dict)
    #: Source file -> its path as records show it.
    paths: dict[str, str] = field(default_factory=dict)


_session = Session()


def configure(
    *, update: bool = False, root: Path | None = None, provider: Callable[[], TestRef | None] | None = None
) -> None:
    """Called once per run by the pytest plugin and by the Django test runner."""
    global _session
    _session = Session(update=update, root=(root or Path.cwd()).resolve(), provider=provider)


def updating() -> bool:
    return _session.update


# -- a test's keys --------------------------------------------------------------------------------------
class TestRef:
    """The snapshot keys of one running test, and the records it will write if it passes."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, module_file: str | os.PathLike[str], key: str) -> None:
        module = Path(module_file)
        self.file = module.with_name(module.name.rsplit(".", 1)[0] + SUFFIX)
        self.key = key
        self._used: set[str] = set()
        self.pending: dict[str, Record] = {}

    def key_for(self, name: str | None) -> str:
        """The test's own key for its first unnamed snapshot, then ``key#2``…; ``key::name`` for a named one."""
        if name is None:
            key, n = self.key, 1
            while key in self._used:
                n += 1
                key = f"{self.key}#{n}"
        else:
            key = f"{self.key}::{name}"
            if key in self._used:
                raise ValueError(f"signal snapshot {name!r} is taken twice in this test")
        self._used.add(key)
        return key

    def check(self, key: str, recording: Recording) -> None:
        """Compare the recording with the file's record for ``key``; keep it to write when it is new or
        being updated. Raises AssertionError with a diff when it differs."""
        __tracebackhide__ = True
        record = record_of(recording)
        data = _load(self.file, key)
        if key in data:
            recorded = data[key]
            problem = _invalid(recorded)
            if problem is None and recorded == record:
                return
            if not _session.update:
                if problem is not None:
                    raise SignalSnapshotError(_corrupt(self.file, key, problem))
                raise AssertionError(_mismatch(self.file, key, recorded, record))
        self.pending[key] = record

    def flush(self) -> None:
        """Write the pending records: called once the test has passed, never when it failed."""
        if self.pending:
            _merge(self.file, self.pending)
            self.pending = {}


def key_of_test_case(test: Any) -> str:
    """``ClassName::test_method``, the same as pytest's node id past the file, so one snapshot file serves
    a ``TestCase`` under Django's runner and under pytest."""
    return f"{type(test).__qualname__}::{test._testMethodName}"


_case_refs: weakref.WeakKeyDictionary[Any, TestRef] = weakref.WeakKeyDictionary()


def current_test() -> TestRef:
    """The test running now: from the pytest plugin, or the ``TestCase`` whose method called us."""
    ref = _session.provider() if _session.provider else None
    if ref is not None:
        return ref
    import unittest

    frame = sys._getframe(1)
    while frame is not None:
        test = frame.f_locals.get("self")
        if isinstance(test, unittest.TestCase):
            break
        frame = frame.f_back  # type: ignore[assignment]
    else:
        raise RuntimeError("expect_signal_snapshot() is for use inside a test (pytest, or a TestCase method)")
    ref = _case_refs.get(test)
    if ref is None:
        module = sys.modules[type(test).__module__]
        ref = _case_refs[test] = TestRef(module.__file__ or "", key_of_test_case(test))
        # Cleanups run after tearDown; the outcome then says whether any part of the test failed.
        test.addCleanup(_flush_if_passed, test, ref)
    return ref


def _flush_if_passed(test: Any, ref: TestRef) -> None:
    outcome = getattr(test, "_outcome", None)
    if outcome is None or getattr(outcome, "success", True):
        ref.flush()


# -- records --------------------------------------------------------------------------------------------
def record_of(recording: Recording) -> Record:
    """Per signal and sender, in the panel's order: the exact count and the sorted call sites."""
    from dt_signals_panel.signals import order

    sites: dict[tuple[str, str], set[str]] = {}
    for event in recording.events:
        site = event.get("site")
        if site:
            sites.setdefault((event["signal"], event["sender"]), set()).add(site_name(site[0], site[1], site[2]))
    rows: Record = [
        {"signal": name, "sender": sender, "count": count, "sites": sorted(sites.get((name, sender), ()))}
        for (name, sender), count in recording.counts().items()
    ]
    rows.sort(key=lambda r: (order(r["signal"]), r["signal"], r["sender"]))
    return rows


def site_name(filename: str, line: int, function: str) -> str:
    path = _session.paths.get(filename)
    if path is None:
        path = _session.paths[filename] = relative_path(filename, str(_session.root), sys.path)
    if function in INLINED:
        function = enclosing_function(filename, line) or function
    return f"{path}:{function}"


#: Comprehensions have a frame of their own up to Python 3.11 and are inlined into their function from 3.12
#: (PEP 709): a record names the function around them, the same on every version.
INLINED = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>"})


@functools.cache
def _functions(filename: str) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, name) of every function in a source file, innermost last."""
    try:
        with open(filename, encoding="utf-8") as file:
            tree = ast.parse(file.read())
    except (OSError, SyntaxError, ValueError):
        return ()
    return tuple(
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


def enclosing_function(filename: str, line: int) -> str | None:
    found = [(first, name) for first, last, name in _functions(filename) if first <= line <= last]
    return max(found)[1] if found else None


def relative_path(filename: str, root: str, search: list[str], pathmod: Any = os.path) -> str:
    """``filename`` relative to the project root with ``/``; an installed library's file (outside the root,
    or in a virtualenv inside it) relative to the ``sys.path`` entry it was imported from, so neither the
    machine's directories nor the Python version show."""
    absolute = pathmod.normpath(pathmod.join(os.getcwd(), filename) if pathmod is os.path else filename)
    inside = _inside(absolute, root, pathmod)
    if inside is not None and not INSTALLED_DIRS & set(inside.split("/")):
        return inside
    for base in sorted((p for p in search if p), key=len, reverse=True):
        inside = _inside(absolute, base, pathmod)
        if inside is not None:
            return inside
    return pathmod.basename(absolute)  # type: ignore[no-any-return]


def _inside(path: str, base: str, pathmod: Any) -> str | None:
    try:
        relative = pathmod.relpath(path, pathmod.normpath(base))
    except ValueError:  # another drive on Windows
        return None
    if relative == pathmod.pardir or relative.startswith(pathmod.pardir + pathmod.sep):
        return None
    return relative.replace(pathmod.sep, "/")  # type: ignore[no-any-return]


def render(record: Record) -> list[str]:
    """A record as lines for a diff: one per signal and sender, with its call sites."""
    return [
        f"{row['signal']} from {row['sender']}: {row['count']}  ({', '.join(row['sites']) or '?'})" for row in record
    ]


def _invalid(recorded: Any) -> str | None:
    """Why a record read from the file is not one we wrote, or None."""
    if not isinstance(recorded, list):
        return "not a list"
    for i, row in enumerate(recorded):
        if not isinstance(row, dict) or set(row) != ENTRY_KEYS:
            return f"entry {i} is not an object with keys {', '.join(sorted(ENTRY_KEYS))}"
        if not (
            isinstance(row["signal"], str)
            and isinstance(row["sender"], str)
            and isinstance(row["count"], int)
            and not isinstance(row["count"], bool)
            and isinstance(row["sites"], list)
            and all(isinstance(s, str) for s in row["sites"])
        ):
            return f"entry {i} has a value of the wrong type"
    return None


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(_session.root).as_posix()
    except ValueError:
        return str(path)


def _corrupt(path: Path, key: str, problem: str) -> str:
    return (
        f"signal snapshot file {_shown(path)} cannot be read for key {key!r}: {problem}. It is left as it is; "
        "fix it by hand, or delete the key or the file, or rewrite it with --signals-snapshot-update."
    )


def _mismatch(path: Path, key: str, recorded: Record, record: Record) -> str:
    diff = difflib.unified_diff(
        render(recorded), render(record), f"{_shown(path)} [{key}] (recorded)", "this run", lineterm=""
    )
    return (
        f"the signals this test sent differ from its snapshot {key!r} in {_shown(path)}:\n"
        + "\n".join(diff)
        + "\nIf the change is intended, run again with --signals-snapshot-update to rewrite the snapshot."
    )


# -- the file -------------------------------------------------------------------------------------------
def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _parse(path: Path, text: str, key: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SignalSnapshotError(_corrupt(path, key, f"not valid JSON ({error})")) from None
    if not isinstance(data, dict):
        raise SignalSnapshotError(_corrupt(path, key, "not a JSON object of test keys"))
    return data


def _load(path: Path, key: str) -> dict[str, Any]:
    """The file's keys (read once per process: other processes only ever add or change their own keys)."""
    data = _session.files.get(path)
    if data is not None:
        return data
    try:
        with open(path, encoding="utf-8", newline="") as file, _locked(file, exclusive=False):
            text = file.read()
    except FileNotFoundError:
        text = ""
    try:
        data = _parse(path, text, key)
    except SignalSnapshotError:
        if not _session.update:
            raise
        data = {}  # rewritten from this run's records, as asked
    _session.files[path] = data
    return data


def _merge(path: Path, records: dict[str, Record]) -> None:
    """Put this test's records into the file, under an exclusive lock: read, replace our keys, write."""
    first = next(iter(records))
    with open(path, "a+", encoding="utf-8", newline="") as file, _locked(file, exclusive=True):
        file.seek(0)
        text = file.read()
        try:
            data = _parse(path, text, first)
        except SignalSnapshotError:
            if not _session.update:
                raise
            data = {}
        data.update(records)
        new = dumps(data)
        if new != text:
            file.seek(0)
            file.truncate()
            file.write(new)  # "a+" writes at the end, which truncate() moved to 0
            file.flush()
    _session.files.setdefault(path, {}).update(records)


@contextmanager
def _locked(file: IO[str], *, exclusive: bool) -> Iterator[None]:
    """An OS lock on the open file, released when it closes or the process dies."""
    if sys.platform == "win32":  # pragma: no cover - msvcrt locks a byte range, exclusively
        import msvcrt

        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(file.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    try:
        yield
    finally:
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)


# -- the context manager --------------------------------------------------------------------------------
class SnapshotExpectation:
    """Records its block (``with`` / ``async with``) and compares it with the test's snapshot unless the
    block raised."""

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._capture: capture | None = None

    def __enter__(self) -> Recording:
        from dt_signals_panel.recorder import capture

        self._ref = current_test()
        self._key = self._ref.key_for(self._name)
        self._capture = capture()
        return self._capture.__enter__()

    def __exit__(self, error_type: type[BaseException] | None, *rest: object) -> None:
        __tracebackhide__ = True
        assert self._capture is not None
        self._capture.__exit__(error_type, *rest)
        if error_type is None:
            self._ref.check(self._key, self._capture.recording)

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, error_type: type[BaseException] | None, *rest: object) -> None:
        __tracebackhide__ = True
        self.__exit__(error_type, *rest)
