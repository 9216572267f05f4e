"""The panel runs none of the application's code: patterns from real projects (django-simple-history's
historical records, django-model-utils' FieldTracker, a row owned by the lazy ``request.user``, a
``cached_property`` with a fallback, lazy arguments), each compared with the panel recording and switched off.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import json
import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.dispatch import Signal
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils.functional import SimpleLazyObject, lazystr
from django.utils.translation import gettext_lazy

import dt_signals_panel
from dt_signals_panel import events, labels, signals
from dt_signals_panel.conf import get_config
from tests.conftest import PANEL_ID, open_panel, request_id_of
from tests.test_observer_effect import view_part
from tests.testapp import application_views
from tests.testapp.models import Author, Ledger, Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers() -> Any:
    application_views.connect()
    yield
    application_views.disconnect()


def both_ways(client: Client, url: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """What the view saw (its page) with the panel off, then on; and the response with it on."""
    pages = []
    for state in ("off", "on"):
        client.cookies[f"djdt{PANEL_ID}"] = state
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        pages.append((json.loads(view_part(response).split(b"<p>", 1)[1]), response))
    (off, _), (on, response) = pages
    return off, on, response


def within(seconds: float, run: Any) -> Any:
    """``run()`` in a thread of its own (in this context, so open captures record it): a call that hangs
    fails the test instead of hanging the suite."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=contextvars.copy_context().run, args=(target,), daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), "the call never returned"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# -- a __str__ that builds another model (django-simple-history) -------------------------------------------
def test_a_str_that_builds_another_model_sends_the_same_init_signals_with_the_panel_on_and_off(client, receivers):
    off, on, response = both_ways(client, "/trust/app/history/")
    assert off["pre_init"] > 0
    assert (on["pre_init"], on["post_init"]) == (off["pre_init"], off["post_init"])
    assert on == off
    stats, _ = open_panel(client, request_id_of(response))
    saved = {
        e["sender"]: e["args"]["instance"] for g in stats["groups"] for e in g["events"] if g["signal"] == "post_save"
    }
    # The historical record is labelled by its pk: its __str__ (which builds a Ledger) is never called.
    assert saved["testapp.HistoricalLedger"].startswith("testapp.HistoricalLedger #")
    assert "“" not in saved["testapp.HistoricalLedger"]
    assert saved["testapp.Ledger"].endswith("“cash: 2”")  # the last save; computed from the field values
    inits = {row["sender"]: row for row in stats["inits"]}
    assert inits["testapp.Ledger"]["pre_init"] == on["pre_init"]


def test_field_tracker_style_receivers_track_the_same_instances_with_the_panel_on_and_off(client, receivers):
    off, on, _ = both_ways(client, "/trust/app/history/")
    assert off["changed"] == ["balance"]
    assert (on["tracked"], on["changed"], on["records"]) == (off["tracked"], off["changed"], off["records"])


@pytest.mark.django_db(transaction=True)  # the work runs in a thread of its own, on its own connection
def test_nested_captures_count_what_the_application_sent(receivers):
    plain = within(20, application_views.history_work)
    with dt_signals_panel.capture() as outer, dt_signals_panel.capture() as inner:
        nested = within(20, application_views.history_work)
    assert (nested["pre_init"], nested["post_init"], nested["tracked"]) == (
        plain["pre_init"],
        plain["post_init"],
        plain["tracked"],
    )
    for recording in (outer, inner):
        assert recording.count("pre_init", Ledger) == plain["pre_init"]
        assert recording.count("post_init", Ledger) == plain["post_init"]
        assert recording.count("post_save") == 4  # two saves of the ledger, two historical records


# -- a row owned by request.user, created as the view's first act -----------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_view_creating_a_row_owned_by_request_user_returns_with_the_toolbar_on():
    user = get_user_model().objects.create_user("owner", password="pw")
    outcomes: dict[str, Any] = {}

    def visit(state: str) -> None:
        client = Client()
        client.force_login(user)
        client.cookies[f"djdt{PANEL_ID}"] = state
        response = client.get("/trust/app/own-note/")
        outcomes[state] = (response.status_code, view_part(response), request_id_of(response))

    for state in ("off", "on"):
        within(20, lambda: visit(state))  # noqa: B023 (called at once)
    assert outcomes["on"][:2] == outcomes["off"][:2]
    assert Note.objects.filter(owner=user).count() == 2
    stats, _ = open_panel(Client(), outcomes["on"][2])
    example = {row["sender"]: row["example"] for row in stats["inits"]}["testapp.Note"]
    assert example["kwargs"]["owner"] == labels.LAZY_OBJECT


# -- a cached_property with a fallback ------------------------------------------------------------------
def test_a_cached_property_with_a_fallback_shows_the_same_text_with_the_panel_on_and_off(client):
    Author.objects.create(name="one")
    off, on, response = both_ways(client, "/trust/app/cached-badge/")
    assert off == {"badge": "gold (1 authors)"}
    assert on == off
    stats, _ = open_panel(client, request_id_of(response))
    (saved,) = [e for g in stats["groups"] if g["signal"] == "post_save" for e in g["events"]]
    assert saved["args"]["instance"] == f"testapp.Badge #{saved['row']['pk']}"


# -- lazy arguments -------------------------------------------------------------------------------------
#: Every argument Django sends with each tracked signal.
ARGUMENTS = {
    "user_logged_in": ["request", "user"],
    "user_logged_out": ["request", "user"],
    "user_login_failed": ["credentials", "request"],
    "pre_init": ["args", "kwargs"],
    "post_init": ["instance"],
    "pre_save": ["instance", "raw", "using", "update_fields"],
    "post_save": ["instance", "created", "raw", "using", "update_fields"],
    "pre_delete": ["instance", "using", "origin"],
    "post_delete": ["instance", "using", "origin"],
    "m2m_changed": ["action", "instance", "reverse", "model", "pk_set", "using"],
    "class_prepared": [],
    "pre_migrate": ["app_config", "verbosity", "interactive", "using", "apps", "plan"],
    "post_migrate": ["app_config", "verbosity", "interactive", "using", "apps", "plan"],
}


def test_every_tracked_signal_is_listed_with_its_arguments():
    assert set(ARGUMENTS) == set(signals.BUILTIN)


def lazy_arguments(names: list[str], loaded: list[str]) -> dict[str, Any]:
    def loader(name: str) -> Any:
        def load() -> Any:
            loaded.append(name)
            return Author(name=name)

        return load

    def text(name: str) -> str:
        loaded.append(name)
        return name

    values: dict[str, Any] = {}
    for i, name in enumerate(names):
        values[name] = SimpleLazyObject(loader(name)) if i % 2 == 0 or name == "instance" else gettext_lazy(name)
    if "credentials" in values:
        values["credentials"] = {"username": SimpleLazyObject(loader("username")), "otp": lazystr("123")}
    if "kwargs" in values:
        values["kwargs"] = {"owner": SimpleLazyObject(loader("owner")), "title": gettext_lazy("t")}
    values["extra"] = [SimpleLazyObject(loader("in a list")), {"item": SimpleLazyObject(loader("in a dict"))}]
    return values


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_lazy_arguments_to_every_tracked_signal_are_never_evaluated(name, method):
    signal = signals.BUILTIN[name]
    seen: dict[bool, tuple[list[str], str]] = {}
    for recording in (False, True):
        loaded: list[str] = []
        named = lazy_arguments(ARGUMENTS[name], loaded)
        with dt_signals_panel.capture() if recording else contextlib.nullcontext() as captured:
            try:
                within(20, functools.partial(getattr(signal, method), sender=Author, **named))
                outcome = "returned"
            except Exception as error:  # Django's own receivers (update_last_login, post_migrate's) look
                outcome = type(error).__name__
        seen[recording] = (loaded, outcome)
    # Whatever Django's own receivers evaluate, they evaluate with the panel off too; the panel adds nothing.
    assert seen[True] == seen[False]
    assert "in a list" not in seen[True][0]
    assert "in a dict" not in seen[True][0]
    if name in signals.INIT_SIGNALS:
        assert captured is not None
        assert captured.count(name) == 1
        if name == "pre_init":
            (row,) = captured.inits
            assert row["example"]["kwargs"]["owner"] == labels.LAZY_OBJECT
        return
    assert captured is not None
    (event,) = captured.events
    assert event["args"]["extra"] == [labels.LAZY_OBJECT, {"item": labels.LAZY_OBJECT}]
    if "instance" in ARGUMENTS[name]:
        assert event["args"]["instance"] == labels.LAZY_OBJECT
    if not seen[False][0]:  # no receiver of Django's evaluated anything: neither did the panel
        assert seen[True][0] == []


class NoisyFields(list):  # type: ignore[type-arg]
    """A list of field names whose own iteration is the application's code: it says when it runs."""

    calls: list[str] = []

    def __iter__(self) -> Any:
        NoisyFields.calls.append("__iter__")
        return super().__iter__()


@pytest.mark.django_db
@pytest.mark.parametrize("signal_name", ["pre_save", "post_save"])
def test_odd_update_fields_beside_a_real_instance_run_none_of_the_applications_code(signal_name):
    """The row state reads ``update_fields`` too (what a save writes): a lazy one is not evaluated and a list
    subclass's own ``__iter__`` is not called, with a real saved instance beside them."""
    author = Author.objects.create(name="Ann")
    loaded: list[str] = []
    NoisyFields.calls = []
    signal = signals.BUILTIN[signal_name]
    with dt_signals_panel.capture() as recording:
        same_row = Author.objects.get(pk=author.pk)
        same_row.name = "Bo"
        lazy = SimpleLazyObject(lambda: loaded.append("loaded") or ["name"])  # type: ignore[func-returns-value]
        for update_fields in (lazy, NoisyFields(["name"])):
            signal.send(sender=Author, instance=same_row, raw=False, using="default", update_fields=update_fields)
    assert loaded == []
    assert NoisyFields.calls == []
    assert recording.count(signal_name) == 2


def test_an_evaluated_lazy_object_is_described_by_what_it_wraps():
    user = SimpleLazyObject(lambda: Author(name="Ann"))
    assert user.name == "Ann"  # the application evaluated it
    assert labels.describe(user, get_config()) == "testapp.Author (unsaved) “Ann”"
    assert labels.describe(lazystr("x"), get_config()) == labels.LAZY_VALUE


def test_a_lazy_user_sent_through_the_toolbar_is_not_loaded(client):
    get_user_model().objects.create_user("lazy", password="pw")
    off, on, response = both_ways(client, "/trust/app/lazy-logout/")
    assert on == off == {"loaded": 0}
    stats, _ = open_panel(client, request_id_of(response))
    (event,) = [e for g in stats["groups"] if g["signal"] == "user_logged_out" for e in g["events"]]
    assert event["args"]["user"] == labels.LAZY_OBJECT


# -- nothing of the application runs while the panel looks ----------------------------------------------
class Tripwire:
    """Every method the panel could be tempted to call records that it ran."""

    calls: list[str] = []

    def __str__(self) -> str:
        Tripwire.calls.append("__str__")
        return "tripped"

    def __repr__(self) -> str:
        Tripwire.calls.append("__repr__")
        return "tripped"

    def __format__(self, spec: str) -> str:
        Tripwire.calls.append("__format__")
        return "tripped"

    def __eq__(self, other: object) -> bool:
        Tripwire.calls.append("__eq__")
        return False

    def __hash__(self) -> int:
        return 1

    def __bool__(self) -> bool:
        Tripwire.calls.append("__bool__")
        return True

    def __len__(self) -> int:
        Tripwire.calls.append("__len__")
        return 0

    def __getattr__(self, name: str) -> Any:
        Tripwire.calls.append(f"__getattr__ {name}")
        raise AttributeError(name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        Tripwire.calls.append("__class__")
        return Tripwire

    def __call__(self, **kwargs: Any) -> Tripwire:
        return Tripwire()  # what the receiver returns is looked at too


class TripDict(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        Tripwire.calls.append("items")
        return super().items()

    def __iter__(self) -> Any:
        Tripwire.calls.append("__iter__")
        return super().__iter__()


class TripList(list):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        Tripwire.calls.append("__iter__")
        return super().__iter__()

    def __len__(self) -> int:
        Tripwire.calls.append("__len__")
        return super().__len__()


class TripError(Exception):
    def __str__(self) -> str:
        Tripwire.calls.append("error __str__")
        return "tripped"


#: Listed in EXTRA_SIGNALS by the test below.
tripwire_signal = Signal()


@override_settings(DT_SIGNALS_PANEL={"EXTRA_SIGNALS": ["tests.test_application_code.tripwire_signal"]})
def test_describing_arguments_receivers_and_errors_runs_none_of_their_code():
    def raises(**kwargs: Any) -> None:
        raise TripError(Tripwire())

    receiver = Tripwire()
    tripwire_signal.connect(receiver, weak=False)
    tripwire_signal.connect(raises, weak=False)
    calls = {}
    try:
        for recording in (False, True):
            Tripwire.calls = []
            named = {
                "value": Tripwire(),
                "table": TripDict({Tripwire(): Tripwire(), "a": [Tripwire()]}),
                "listed": TripList([Tripwire(), 1]),
                "credentials": TripDict(username=Tripwire()),
                "instance": Tripwire(),
                "update_fields": TripList(["name"]),
            }
            if recording:
                with dt_signals_panel.capture() as captured:
                    tripwire_signal.send_robust(sender=Tripwire(), **named)
            else:
                tripwire_signal.send_robust(sender=Tripwire(), **named)
            calls[recording] = list(Tripwire.calls)
    finally:
        tripwire_signal.disconnect(receiver)
        tripwire_signal.disconnect(raises)
    assert calls[True] == calls[False]
    (event,) = captured.events
    tripwire = "<tests.test_application_code.Tripwire object>"
    assert event["sender"] == "tests.test_application_code.Tripwire"
    assert event["args"]["value"] == tripwire
    assert event["args"]["listed"] == [tripwire, 1]
    assert event["args"]["table"] == {"<Tripwire>": tripwire, "a": [tripwire]}
    assert [r["name"] for r in event["receivers"]] == [
        "tests.test_application_code.Tripwire",
        "tests.test_application_code.test_describing_arguments_receivers_and_errors_runs_none_of_their_code"
        ".<locals>.raises",
    ]
    assert event["receivers"][1]["error"] == f"TripError: {tripwire}"


def test_a_label_runs_no_query_not_even_a_refused_one(client):
    from tests.testapp.models import Hostile

    before = Hostile.str_calls
    client.cookies[f"djdt{PANEL_ID}"] = "on"
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/trust/zoo/hostile-query/")
    assert response.status_code == 200
    # Its __str__ (which would count the authors) never ran, so no query was even attempted.
    assert Hostile.str_calls == before
    assert not [q for q in queries.captured_queries if "COUNT(*)" in q["sql"]]


# -- which texts a label shows --------------------------------------------------------------------------
@isolate_apps("tests.testapp")
def test_a_label_computes_the_text_of_a_str_made_of_field_values():
    values = {"id": 7, "name": "box", "size": 5, "price": Decimal("1.50"), "when": datetime.date(2026, 1, 2)}
    texts = {}
    for shape, body in STR_SHAPES.items():
        attrs = {
            "__module__": __name__,
            "__str__": body,
            "Meta": type("Meta", (), {"app_label": "testapp"}),
            "name": models.CharField(max_length=20),
            "size": models.IntegerField(),
            "price": models.DecimalField(max_digits=5, decimal_places=2),
            "when": models.DateField(),
            "owner": models.ForeignKey(Author, on_delete=models.CASCADE),
        }
        cls = type(f"Shape{shape}", (models.Model,), attrs)
        texts[shape] = labels.instance_label(cls(owner_id=3, **values), get_config())
    assert texts == {
        "field": "testapp.Shapefield #7 “box”",
        "fstring": "testapp.Shapefstring #7 “box (005) Decimal('1.50')”",
        "percent": "testapp.Shapepercent #7 “box x 5”",
        "plus": "testapp.Shapeplus #7 “box/5”",
        "format": "testapp.Shapeformat #7 “box on 2026-01-02”",
        "attname": "testapp.Shapeattname #7 “box by #3”",
        "pk": "testapp.Shapepk #7 “#7”",
        "docstring": "testapp.Shapedocstring #7 “box”",
    }


def _str_field(self: Any) -> Any:
    return self.name


def _str_fstring(self: Any) -> Any:
    return f"{self.name} ({self.size:03d}) {self.price!r}"


def _str_percent(self: Any) -> Any:
    return "%s x %d" % (self.name, self.size)  # noqa: UP031 (the shape under test)


def _str_plus(self: Any) -> Any:
    return self.name + "/" + str(self.size)


def _str_format(self: Any) -> Any:
    return "{} on {}".format(self.name, self.when)  # noqa: UP032 (the shape under test)


def _str_attname(self: Any) -> Any:
    return f"{self.name} by #{self.owner_id}"


def _str_pk(self: Any) -> Any:
    return f"#{self.pk}"


def _str_docstring(self: Any) -> Any:
    """A docstring does not count."""
    return self.name


#: Each shape is a real def in this file: the panel reads the source of ``__str__``.
STR_SHAPES = {
    "field": _str_field,
    "fstring": _str_fstring,
    "percent": _str_percent,
    "plus": _str_plus,
    "format": _str_format,
    "attname": _str_attname,
    "pk": _str_pk,
    "docstring": _str_docstring,
}


@isolate_apps("tests.testapp")
def test_a_label_is_the_pk_alone_when_str_would_run_code_or_read_what_is_not_loaded():
    class Related(models.Model):
        title = models.CharField(max_length=20)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return f"{self.title} by {self.author}"  # a relation: would load the author

    class Method(models.Model):
        title = models.CharField(max_length=20)

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return self.title.upper()

    class Default(models.Model):
        class Meta:
            app_label = "testapp"

    config = get_config()
    assert labels.instance_label(Related(id=1, title="t", author_id=2), config) == "testapp.Related #1"
    assert labels.instance_label(Method(id=1, title="t"), config) == "testapp.Method #1"
    assert labels.instance_label(Default(id=1), config) == "testapp.Default #1"
    # A deferred field is not in __dict__: no text rather than a query.
    deferred = Author(id=4, name="x")
    del deferred.__dict__["name"]
    assert labels.instance_label(deferred, config) == "testapp.Author #4"


def test_labels_of_django_users_and_sessions_read_the_username_and_mask_the_session_key(db):
    from django.contrib.sessions.models import Session

    user = get_user_model()(id=3, username="alice")
    config = get_config()
    assert labels.instance_label(user, config) == "auth.User #3 “alice”"
    session = Session(session_key="abc123secret", session_data="x", expire_date=datetime.datetime(2030, 1, 1))
    label = labels.instance_label(session, config)
    assert "abc123secret" not in label
    # A credential model is named by its masked pk and a short keyed digest, never by its __str__.
    assert re.fullmatch(r"sessions\.Session #•••••••• [0-9a-f]{6}", label), label


def test_labelling_leaves_no_trace_on_the_instance():
    author = Author(id=5, name="Ann")
    before = dict(author.__dict__)
    assert labels.instance_label(author, get_config()) == "testapp.Author #5 “Ann”"
    assert author.__dict__ == before


def test_the_init_example_is_built_without_the_recordings_lock_held():
    """A pre_init whose kwargs hold an instance of a model not yet seen: building its example must not hold the
    lock that the next new model's first pre_init takes (it deadlocked when labels ran user code)."""
    with dt_signals_panel.capture() as captured:
        held = []
        original = events.init_example

        def spy(name: str, named: dict[str, Any], config: Any) -> dict[str, Any]:
            held.append(captured._lock.locked())
            return original(name, named, config)

        events.init_example = spy
        try:
            Note(owner_id=1, text="x")
        finally:
            events.init_example = original
    assert held
    assert not any(held)
    assert captured.count("pre_init", Note) == 1
