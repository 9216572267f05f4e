"""Signal snapshots, proved on a user's project (``tests/snapshot_project``) run by pytest, pytest-xdist and
Django's runner in subprocesses: what is written, that it never changes by itself, and when it may change."""

from __future__ import annotations

import json
import ntpath
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dt_signals_panel.signal_snapshot import TestRef, dumps, relative_path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Path(__file__).resolve().parent / "snapshot_project"
PYTEST_FILE = "test_catalog.signals.json"
TESTCASE_FILE = "test_catalog_testcase.signals.json"
PYTEST_KEYS = [
    "TestGrouped::test_publish_in_a_class",
    "test_apublish",
    "test_apublish::block",
    "test_fails_for_another_reason",
    "test_publish",
    "test_publish_many[1]",
    "test_publish_many[3]",
    "test_tag_in_blocks",
    "test_tag_in_blocks::delete",
]


def copy_project(into: Path) -> Path:
    for source in PROJECT.iterdir():
        if source.is_file() and not source.name.endswith(".json"):
            shutil.copy(source, into / source.name)
    return into


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def run_pytest(project: Path, *args: str, **env: str) -> tuple[dict[str, str], str]:
    """Each test's outcome by node id, and the whole output."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )
    outcomes = dict(
        (node, outcome) for outcome, node in re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", done.stdout, re.MULTILINE)
    )
    return outcomes, done.stdout


def run_django(project: Path, *args: str, **env: str) -> str:
    runner = "dt_signals_panel.runner.SignalsDiscoverRunner"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "test",
            "test_catalog_testcase",
            "--settings=tests.settings",
            "--noinput",
            "--testrunner",
            runner,
            *args,
        ],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )
    return done.stderr


def failed(outcomes: dict[str, str]) -> set[str]:
    return {node for node, outcome in outcomes.items() if outcome != "PASSED"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The snapshot files a first run writes, from scratch, in pytest-randomly's order for seed 1."""
    project = copy_project(tmp_path_factory.mktemp("snapshot_project"))
    outcomes, out = run_pytest(project, "-p", "randomly", "--randomly-seed=1")
    assert len(outcomes) == 10, out
    assert not failed(outcomes), out
    return {name: (project / name).read_bytes() for name in (PYTEST_FILE, TESTCASE_FILE)}


@pytest.mark.slow
def test_a_first_run_writes_one_record_per_test_beside_its_module(written):
    data = json.loads(written[PYTEST_FILE])
    assert list(data) == PYTEST_KEYS
    assert data["test_publish"] == [
        {"count": 2, "sender": "testapp.Book", "signal": "pre_save", "sites": ["catalog.py:publish"]},
        {"count": 2, "sender": "testapp.Book", "signal": "post_save", "sites": ["catalog.py:publish"]},
    ]
    # a comprehension is named by its function, on every Python version
    assert data["test_tag_in_blocks"][0]["sites"] == ["catalog.py:tag"]
    assert data["test_tag_in_blocks::delete"][0] == {
        "count": 1,
        "sender": "testapp.Book",
        "signal": "pre_delete",
        "sites": ["test_catalog.py:test_tag_in_blocks"],
    }
    assert list(json.loads(written[TESTCASE_FILE])) == [
        "AsyncCatalogTests::test_apublish",
        "CatalogTests::test_publish",
        "CatalogTests::test_tag",
    ]
    # stable formatting; no line numbers, primary keys, timings, values or machine paths
    text = written[PYTEST_FILE].decode()
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert not re.search(r"\.py:\d", text)
    assert "#" not in text.replace("test_", "")
    assert str(ROOT) not in text
    assert "\\" not in text
    assert "pre_init" not in text
    assert '"ms"' not in text
    assert "Kindred" not in text


@pytest.mark.slow
def test_the_files_are_byte_identical_whatever_the_order(written, project):
    outcomes, _ = run_pytest(project, "-p", "randomly", "--randomly-seed=2")
    assert len(outcomes) == 10
    assert not failed(outcomes)
    for name in (PYTEST_FILE, TESTCASE_FILE):
        assert (project / name).read_bytes() == written[name]
    # a run over the files, in two processes, compares and leaves them as they are
    outcomes, _ = run_pytest(project, "-n", "2")
    assert len(outcomes) == 10
    assert not failed(outcomes)
    for name in (PYTEST_FILE, TESTCASE_FILE):
        assert (project / name).read_bytes() == written[name]


@pytest.mark.slow
def test_xdist_workers_each_write_only_their_own_tests_keys(written, project):
    foreign = [{"count": 7, "sender": "x", "signal": "post_save", "sites": []}]
    (project / PYTEST_FILE).write_text(json.dumps({"someone_elses_test": foreign}))
    outcomes, _ = run_pytest(project, "-n", "3")
    assert len(outcomes) == 10
    assert not failed(outcomes)
    data = json.loads((project / PYTEST_FILE).read_text())
    assert data.pop("someone_elses_test") == foreign
    assert dumps(data).encode() == written[PYTEST_FILE]
    assert (project / TESTCASE_FILE).read_bytes() == written[TESTCASE_FILE]


@pytest.mark.slow
def test_a_regression_fails_with_a_readable_diff_and_leaves_the_file_alone(written, project):
    (project / PYTEST_FILE).write_bytes(written[PYTEST_FILE])
    outcomes, out = run_pytest(project, "test_catalog.py", CATALOG_REGRESSION="1")
    assert failed(outcomes) == {
        "test_catalog.py::test_publish",
        "test_catalog.py::test_publish_many[1]",
        "test_catalog.py::test_publish_many[3]",
        "test_catalog.py::TestGrouped::test_publish_in_a_class",
        "test_catalog.py::test_fails_for_another_reason",
    }
    assert "the signals this test sent differ from its snapshot 'test_publish' in test_catalog.signals.json:" in out
    assert "+pre_save from testapp.Author: 2  (catalog.py:publish)" in out
    assert "\n pre_save from testapp.Book: 2  (catalog.py:publish)" in out
    assert "run again with --signals-snapshot-update" in out
    assert (project / PYTEST_FILE).read_bytes() == written[PYTEST_FILE]


@pytest.mark.slow
def test_the_update_flag_rewrites_what_differs_and_nothing_else(written, project):
    (project / PYTEST_FILE).write_bytes(written[PYTEST_FILE])
    outcomes, _ = run_pytest(project, "test_catalog.py", "--signals-snapshot-update", CATALOG_REGRESSION="1")
    assert not failed(outcomes)
    before, after = json.loads(written[PYTEST_FILE]), json.loads((project / PYTEST_FILE).read_text())
    assert after["test_publish"][0] == {
        "count": 2,
        "sender": "testapp.Author",
        "signal": "pre_save",
        "sites": ["catalog.py:publish"],
    }
    assert after["test_tag_in_blocks"] == before["test_tag_in_blocks"]
    # the next run without the regression fails against the new record
    outcomes, _ = run_pytest(project, "test_catalog.py::test_publish")
    assert failed(outcomes) == {"test_catalog.py::test_publish"}


@pytest.mark.slow
def test_a_test_that_fails_for_another_reason_writes_no_record(project):
    outcomes, _ = run_pytest(project, "test_catalog.py", CATALOG_FAIL="1")
    assert failed(outcomes) == {"test_catalog.py::test_fails_for_another_reason"}
    data = json.loads((project / PYTEST_FILE).read_text())
    assert "test_fails_for_another_reason" not in data
    assert "test_publish" in data


@pytest.mark.slow
def test_a_corrupt_file_is_named_with_the_key_and_left_alone_until_the_update_flag(written, project):
    broken = written[PYTEST_FILE].replace(b'"test_publish": [', b'"test_publish": [,', 1)
    (project / PYTEST_FILE).write_bytes(broken)
    outcomes, out = run_pytest(project, "test_catalog.py::test_publish")
    assert failed(outcomes) == {"test_catalog.py::test_publish"}
    assert "signal snapshot file test_catalog.signals.json cannot be read for key 'test_publish': not valid JSON" in out
    assert (project / PYTEST_FILE).read_bytes() == broken
    # a hand-edited record: the file and the key named, the file left as it is
    data = json.loads(written[PYTEST_FILE])
    data["test_publish"][0]["count"] = "two"
    edited = json.dumps(data).encode()
    (project / PYTEST_FILE).write_bytes(edited)
    outcomes, out = run_pytest(project, "test_catalog.py::test_publish")
    assert failed(outcomes) == {"test_catalog.py::test_publish"}
    assert "cannot be read for key 'test_publish': entry 0 has a value of the wrong type" in out
    assert (project / PYTEST_FILE).read_bytes() == edited
    # asked to, the run rewrites it
    outcomes, _ = run_pytest(project, "test_catalog.py", "--signals-snapshot-update")
    assert not failed(outcomes)
    assert json.loads((project / PYTEST_FILE).read_text()) == json.loads(written[PYTEST_FILE])


@pytest.mark.slow
def test_djangos_runner_writes_and_checks_the_same_file_as_pytest(written, project):
    out = run_django(project)
    assert "\nOK" in out, out
    assert (project / TESTCASE_FILE).read_bytes() == written[TESTCASE_FILE]
    out = run_django(project, CATALOG_REGRESSION="1")
    assert "FAILED (failures=1)" in out
    assert "differ from its snapshot 'CatalogTests::test_publish' in test_catalog_testcase.signals.json" in out
    assert (project / TESTCASE_FILE).read_bytes() == written[TESTCASE_FILE]
    assert "\nOK" in run_django(project, "--signals-snapshot-update", CATALOG_REGRESSION="1")
    assert "testapp.Author" in (project / TESTCASE_FILE).read_text()


def test_paths_are_relative_with_forward_slashes_on_every_platform():
    assert relative_path("C:\\proj\\shop\\orders.py", "C:\\proj", [], ntpath) == "shop/orders.py"
    assert relative_path("/proj/shop/orders.py", "/proj", ["/proj"]) == "shop/orders.py"
    # an installed library: from its sys.path entry, inside or outside the project
    site = "/proj/.venv/lib/python3.13/site-packages"
    assert relative_path(f"{site}/factory/django.py", "/proj", [site, "/proj"]) == "factory/django.py"
    assert relative_path("/usr/lib/python3.11/unittest/case.py", "/proj", ["/usr/lib/python3.11"]) == (
        "unittest/case.py"
    )


def test_two_blocks_of_one_test_get_keys_of_their_own():
    ref = TestRef("tests/test_orders.py", "test_checkout")
    assert ref.file == Path("tests/test_orders.signals.json")
    assert [ref.key_for(None), ref.key_for(None), ref.key_for("refund")] == [
        "test_checkout",
        "test_checkout#2",
        "test_checkout::refund",
    ]
    with pytest.raises(ValueError, match="'refund' is taken twice"):
        ref.key_for("refund")
