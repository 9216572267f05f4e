"""The package's layers: the recorder stands at the bottom, and no module reaches another's private names."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dt_signals_panel"
ROOT = PACKAGE.parent


def test_importing_the_recorder_imports_no_finding_stats_text_or_presentation_module():
    # Settings of our own: the test settings install djdt, whose checks import the panel (and so everything).
    code = (
        "import json, sys, django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['django.contrib.contenttypes', 'django.contrib.auth']); "
        "django.setup(); before = set(sys.modules); import dt_signals_panel.recorder; "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith('dt_signals_panel'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "dt_signals_panel.recorder" in loaded
    upward = {f"dt_signals_panel.{name}" for name in ("findings", "kinds", "stats", "text", "presentation", "panel")}
    assert not loaded & upward


def _own_names(tree: ast.Module) -> set[str]:
    """Names a module defines: functions, classes, module-level names, attributes it sets on ``self``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            found.add(node.value)  # __slots__ entries
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_modules_underscored_name():
    trees = {path.stem: ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.glob("*.py"))}
    own = {module: _own_names(tree) for module, tree in trees.items()}
    offences = []
    for module, tree in trees.items():
        package_modules: set[str] = set()  # local names bound to a module of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dt_signals_panel"):
                for alias in node.names:
                    if _private(alias.name):
                        offences.append(f"{module}: from {node.module} import {alias.name}")
                    if node.module == "dt_signals_panel" and alias.name in trees:
                        package_modules.add(alias.asname or alias.name)
        # Everywhere: ``x._name`` where _name belongs to another module of the package and not to this one
        # (``recording._begin``, ``events._build``); ``module._name`` on a package module in any case.
        elsewhere = {name for other, names in own.items() if other != module for name in names if _private(name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            on_module = isinstance(node.value, ast.Name) and node.value.id in package_modules
            if on_module or (node.attr in elsewhere and node.attr not in own[module]):
                offences.append(f"{module}:{node.lineno}: .{node.attr}")
    assert offences == []


def _package_imports(tree: ast.Module) -> set[str]:
    """The package modules a module imports, at any level (under ``TYPE_CHECKING`` and inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "dt_signals_panel":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dt_signals_panel."):
            found.add((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("dt_signals_panel."))
    return found


def test_no_module_the_recorder_builds_on_or_is_read_by_imports_it_back_even_for_annotations():
    """What the recorder imports, and the stats, findings, kinds, text and presentation that read a recording
    (through ``shapes.Recorded``; the wrappers call it through ``wrappers.Sink``), never import the recorder:
    no import cycle through it, not even one behind ``TYPE_CHECKING``."""
    imports = {path.stem: _package_imports(ast.parse(path.read_text())) for path in PACKAGE.glob("*.py")}
    below: set[str] = set()
    todo = [name for name in imports["recorder"] if name not in ("stats", "text")]  # stats(), as_table()
    while todo:
        name = todo.pop()
        if name in imports and name not in below:
            below.add(name)
            todo.extend(imports[name])
    readers = {"stats", "findings", "kinds", "text", "presentation"}
    assert {name for name in below | readers if "recorder" in imports[name]} == set()
