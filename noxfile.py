"""The supported Django x django-debug-toolbar combinations, each in its own virtualenv.

``make matrix`` runs every leg whose Python is on this machine; a leg whose interpreter is missing is skipped
with a note, so a laptop with only one Python still runs what it can. The legs mirror what each release
supports: Django 6.x needs Python 3.12+, django-debug-toolbar 6.3 stops at Django 6.0, 7.1 adds Django 6.1.

Every ``tests`` leg runs the suite as ``make test``'s first run does (SQLite, and the multi-worker tests on a
throwaway PostgreSQL and Redis against that leg's djdt stores). The ``postgres`` legs then run the
database-facing tests again with PostgreSQL as the default database (tests/settings_postgres.py).
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

#: (python, Django spec, django-debug-toolbar spec)
LEGS = [
    ("3.11", "5.2", "6.3"),
    ("3.11", "5.2", "7.1"),
    ("3.11", "5.2", "8.0"),
    ("3.13", "6.0", "6.3"),
    ("3.13", "6.0", "7.1"),
    ("3.13", "6.0", "8.0"),
    ("3.13", "6.1", "7.1"),
    ("3.13", "6.1", "8.0"),
]


#: Legs that also run with PostgreSQL as the default database.
POSTGRES_LEGS = [
    ("3.11", "5.2", "8.0"),
    ("3.13", "6.1", "8.0"),
]


def _leg_id(python: str, django: str, djdt: str) -> str:
    return f"py{python}-dj{django}-djdt{djdt}"


def _install(session: nox.Session, django: str, djdt: str) -> None:
    session.install("--quiet", "--upgrade", "pip")
    session.install(
        "--quiet",
        "-e",
        ".",
        "--group",
        "test",
        "--group",
        "server",
        f"Django~={django}.0",
        f"django-debug-toolbar~={djdt}.0",
    )
    session.run(
        "python",
        "-c",
        "import django, debug_toolbar, sys; "
        "print('leg:', sys.version.split()[0], 'Django', django.__version__, 'djdt', debug_toolbar.VERSION)",
    )


@nox.session(name="tests")
@nox.parametrize(
    "python,django,djdt",
    [nox.param(*leg, id=_leg_id(*leg)) for leg in LEGS],
)
def tests(session: nox.Session, django: str, djdt: str) -> None:
    _install(session, django, djdt)
    session.run("python", "-m", "pytest", "-m", "not browser", "-q", *session.posargs)


@nox.session(name="postgres")
@nox.parametrize(
    "python,django,djdt",
    [nox.param(*leg, id=_leg_id(*leg)) for leg in POSTGRES_LEGS],
)
def postgres(session: nox.Session, django: str, djdt: str) -> None:
    _install(session, django, djdt)
    session.run("python", "-m", "pytest", "-m", "not browser", "-q", "--ds=tests.settings_postgres", *session.posargs)
