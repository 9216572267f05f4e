"""Check every demo page through the real toolbar: ``cd demo && ../.venv/bin/python check_pages.py``.

Against a throwaway copy of the demo databases (``DEMO_DB_DIR``; a temporary directory unless set): migrate
both databases, seed twice (the second run must add nothing), then request each page with Django's test
client, read the toolbar's request id from the HTML, open the Signal activity panel from djdt's store and
compare the signals it recorded with the ones the page is meant to fire. Prints one line per page and exits
non-zero on any mismatch. ``tests/test_demo.py`` runs it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_own_tmp = None
if not os.environ.get("DEMO_DB_DIR"):
    _own_tmp = tempfile.mkdtemp(prefix="demo-db-")
    os.environ["DEMO_DB_DIR"] = _own_tmp
os.environ["DJANGO_SETTINGS_MODULE"] = "demo_site.settings"

import django  # noqa: E402

django.setup()

from debug_toolbar.toolbar import DebugToolbar  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402

# The test clients' host (the async client always sends "testserver"), as Django's test runner allows it.
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

PANEL_ID = "SignalActivityPanel"
Stats = dict[str, Any]


@dataclass
class Visit:
    """One request and what the panel must show for it."""

    label: str
    path: str
    method: str = "get"
    data: dict[str, str] | None = None
    # signal name -> exact count; every other signal must be absent.
    signals: dict[str, int] = field(default_factory=dict)
    # model label -> exact number of pre_init (and of post_init); every other model must be absent.
    inits: dict[str, int] = field(default_factory=dict)
    # Further checks on the stats and the rendered panel: return a list of problems.
    extra: Callable[[Stats, str], list[str]] | None = None
    asgi: bool = False
    # A POST that redirects (the admin's) is read from the toolbar's store by the request id djdt puts in the
    # djdt-request-id header, as the History panel finds it.
    status: int = 200
    # Built when the visit runs (a pk the database gave): path and data.
    prepare: Callable[[], tuple[str, dict[str, str]]] | None = None


def events(stats: Stats, signal: str) -> list[dict[str, Any]]:
    return next((g["events"] for g in stats["groups"] if g["signal"] == signal), [])


def expect(condition: bool, problem: str) -> list[str]:
    return [] if condition else [problem]


def redundant_kinds(stats: Stats) -> list[str]:
    return [f["kind"] for f in stats["findings"]["redundant_saves"]]


def in_clear(stats: Stats) -> set[str]:
    return {f["key"] for f in stats["findings"]["credentials_in_clear"]}


# -- the checks beyond names and counts ------------------------------------------------------------------
def created(stats: Stats, content: str) -> list[str]:
    (post,) = events(stats, "post_save")
    return expect(post["args"]["created"] is True, f"created={post['args']['created']}") + expect(
        not stats["findings"]["redundant_saves"], f"unexpected findings {redundant_kinds(stats)}"
    )


def update_fields_stock(stats: Stats, content: str) -> list[str]:
    fields = [e["args"]["update_fields"] for e in events(stats, "pre_save") + events(stats, "post_save")]
    return expect(fields == [["stock"], ["stock"]], f"update_fields {fields}") + expect(
        not stats["findings"]["redundant_saves"], f"unexpected findings {redundant_kinds(stats)}"
    )


def finding(kind: str, fields: list[str] | None = None) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        found = stats["findings"]["redundant_saves"]
        problems = expect([f["kind"] for f in found] == [kind], f"redundant-save findings {redundant_kinds(stats)}")
        if fields is not None and found:
            problems += expect(found[0]["fields"] == fields, f"finding fields {found[0]['fields']}")
        return problems

    return check


def archive_db(stats: Stats, content: str) -> list[str]:
    using = {e["args"]["using"] for e in events(stats, "pre_save") + events(stats, "post_save")}
    return expect(using == {"archive"}, f"using {using}")


def cascade(stats: Stats, content: str) -> list[str]:
    problems: list[str] = []
    for signal in ("pre_delete", "post_delete"):
        sent = events(stats, signal)
        senders = sorted(e["sender"] for e in sent)
        problems += expect(senders == ["shop.Order"] + ["shop.OrderLine"] * 3, f"{signal} senders {senders}")
        origins = {e["args"]["origin"] for e in sent}
        order = next((e["args"]["instance"] for e in sent if e["sender"] == "shop.Order"), None)
        problems += expect(origins == {order}, f"{signal} origins {origins}, the order is {order}")
    return problems


def m2m_actions(stats: Stats, content: str) -> list[str]:
    actions = [e["args"]["action"] for e in events(stats, "m2m_changed")]
    wanted = ["pre_add", "post_add", "pre_remove", "post_remove", "pre_clear", "post_clear"]
    return expect(actions == wanted, f"m2m actions {actions}")


def many_inits(stats: Stats, content: str) -> list[str]:
    hints = [h["sender"] for h in stats["findings"]["init_hints"]]
    return expect(hints == ["shop.Product"], f"init hints {hints}")


def login_nested(stats: Stats, content: str) -> list[str]:
    (logged_in,) = events(stats, "user_logged_in")
    saves = [e for e in events(stats, "pre_save") + events(stats, "post_save") if e["sender"] == "auth.User"]
    parents = {e.get("parent") for e in saves}
    fields = {tuple(e["args"]["update_fields"] or ()) for e in saves}
    return expect(parents == {logged_in["seq"]}, f"update_last_login saves not nested: parents {parents}") + expect(
        fields == {("last_login",)}, f"update_fields {fields}"
    )


def password_masked_by_django(stats: Stats, content: str) -> list[str]:
    (failed,) = events(stats, "user_login_failed")
    statuses = {row["key"]: row["status"] for row in failed.get("credentials") or ()}
    return expect(
        statuses == {"username": "not_sensitive", "password": "masked_by_django"}, f"credentials {statuses}"
    ) + expect(not in_clear(stats), f"credentials in clear {in_clear(stats)}")


def clear_keys(keys: set[str], secrets: tuple[str, ...]) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        problems = expect(in_clear(stats) == keys, f"credentials in clear {in_clear(stats)}, wanted {keys}")
        for secret in secrets:
            problems += expect(secret not in content and secret not in repr(stats), f"{secret!r} shown in clear")
        return problems

    return check


def logged_out_user(sender: str) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        (out,) = events(stats, "user_logged_out")
        return expect(out["sender"] == sender, f"user_logged_out sender {out['sender']}")

    return check


def slow(stats: Stats, content: str) -> list[str]:
    slowest = stats["summary"]["slowest_receiver"] or {}
    return expect(slowest.get("name") == "shop.receivers.index_product", f"slowest receiver {slowest}") + expect(
        slowest.get("ms", 0) >= 45, f"slowest receiver took {slowest.get('ms')} ms, not ~50"
    )


def robust(stats: Stats, content: str) -> list[str]:
    (sent,) = events(stats, "order_placed")
    errors = {r["name"]: r.get("error") for r in sent["receivers"]}
    wanted = {
        "shop.receivers.reserve_stock": None,
        "shop.receivers.charge_card": "ConnectionError: payment gateway timed out",
        "shop.receivers.send_confirmation": None,
    }
    return expect(errors == wanted, f"receivers {errors}")


def chain(stats: Stats, content: str) -> list[str]:
    order_post = next(e for e in events(stats, "post_save") if e["sender"] == "shop.Order")
    audit = [e for e in events(stats, "pre_save") + events(stats, "post_save") if e["sender"] == "shop.AuditLog"]
    parents = {e.get("parent") for e in audit}
    return expect(len(audit) == 2 and parents == {order_post["seq"]}, f"AuditLog saves not nested: {parents}")


def async_page(stats: Stats, content: str) -> list[str]:
    fields = [e["args"]["update_fields"] for e in events(stats, "post_save")]
    return expect(fields == [None, ["stock"]], f"post_save update_fields {fields}")


def receiver_queries(per_save: int) -> Callable[[Stats, str], list[str]]:
    """refresh_order_count ran ``per_save`` queries on each of the 20 post_saves; with one per save the panel
    reports it, with none it reports nothing."""

    def check(stats: Stats, content: str) -> list[str]:
        calls = [
            r for e in events(stats, "post_save") for r in e["receivers"] if r["name"].endswith("refresh_order_count")
        ]
        counts = [r.get("queries", 0) for r in calls]
        found = [f["receiver"] for f in stats["findings"]["queries_in_receivers"]]
        wanted = ["shop.receivers.refresh_order_count"] if per_save else []
        return (
            expect(counts == [per_save] * 20, f"refresh_order_count queries per call {counts}")
            + expect(found == wanted, f"queries-in-a-receiver findings {found}")
            + expect(stats["summary"]["receiver_queries"] == 20 * per_save, f"summary {stats['summary']}")
            + expect(not per_save or "· 1 query" in content, "the receivers cell does not show the query")
        )

    return check


def all_of(*checks: Callable[[Stats, str], list[str]]) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        return [problem for each in checks for problem in each(stats, content)]

    return check


def every_row_sent_from_somewhere(stats: Stats, content: str) -> list[str]:
    """Issue 15: a "Sent from" on every row, no finding about "an unknown place", no framework finding in a
    problem tile."""
    rows = [e for g in stats["groups"] for e in g["events"]]
    nowhere = [f"#{e['seq']} {e['signal']} {e['sender']}" for e in rows if not e.get("site")]
    unknown = [
        f["message"] for items in stats["findings"].values() for f in items if "an unknown place" in f["message"]
    ]
    counted = [
        family
        for family, items in stats["findings"].items()
        if stats["summary"][family] != sum(not f.get("framework") for f in items)
    ]
    return (
        expect(not nowhere, f"rows without a call site: {nowhere}")
        + expect(not unknown and "an unknown place" not in content, f"findings at an unknown place: {unknown}")
        + expect(not counted, f"framework findings counted in a tile: {counted}")
    )


def framework_finding(kind: str, pattern: str, severity: str, model: str) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        found = [
            f
            for items in stats["findings"].values()
            for f in items
            if f["kind"] == kind and f.get("model", f.get("sender")) == model
        ]
        got = [(f.get("framework"), f.get("pattern"), f.get("severity")) for f in found]
        return expect(got == [(True, pattern, severity)], f"{kind} findings on {model}: {got}") + expect(
            'data-framework="true"' in content, "no framework finding in the rendered panel"
        )

    return check


sessions_normal = framework_finding("saved_again", "session_saved_by_django", "info", "sessions.Session")


def no_problem_tiles(stats: Stats, content: str) -> list[str]:
    return expect(
        stats["summary"]["redundant_saves"] == 0, f"redundant saves counted: {stats['summary']['redundant_saves']}"
    )


def own_redundant_save_still_a_problem(stats: Stats, content: str) -> list[str]:
    own = [f for f in stats["findings"]["redundant_saves"] if not f.get("framework")]
    sites = [site[0].replace(os.sep, "/") for f in own for site in f["sites"] if site]
    return (
        expect([f["kind"] for f in own] == ["saved_again"], f"the shop's own findings {[f['kind'] for f in own]}")
        + expect(any(s.endswith("shop/admin.py") for s in sites), f"own finding's sites {sites}")
        + expect(stats["summary"]["redundant_saves"] == 1, f"tile {stats['summary']['redundant_saves']}")
    )


def distinct_categories(where: str) -> Callable[[Stats, str], list[str]]:
    def check(stats: Stats, content: str) -> list[str]:
        row = next((r for r in stats["inits"] if r["sender"] == "shop.Category"), {})
        (dup,) = [f for f in stats["findings"]["init_hints"] if f["kind"] == "duplicate_rows"] or [{}]
        site = (dup.get("site") or ["", 0, ""])[0].replace(os.sep, "/")
        return (
            expect(row.get("rows") == len(_categories()) and row.get("copies", 0) >= 95, f"Category row {row}")
            + expect(dup.get("sender") == "shop.Category", f"duplicate_rows finding {dup}")
            + expect(site.endswith(where), f"duplicate_rows site {site}, wanted {where}")
            + expect("Distinct rows" in content, "no distinct rows column in the panel")
        )

    return check


def _categories() -> list[Any]:
    from shop.models import Category

    return list(Category.objects.values_list("pk", flat=True))


def _admin_product() -> tuple[str, dict[str, str]]:
    from shop.models import Product
    from shop.views import ADMIN_SKU

    product = Product.objects.get(sku=ADMIN_SKU)
    stock = str(product.stock + 1 if product.stock < 20 else 1)
    data = {
        "sku": ADMIN_SKU,
        "name": product.name,
        "category": str(product.category_id),
        "price": "10.00",
        "stock": stock,
    }
    return f"/admin/shop/product/{product.pk}/change/", data


def _admin_product_unchanged() -> tuple[str, dict[str, str]]:
    path, data = _admin_product()
    data["stock"] = str(int(data["stock"]) - 1 or 20)
    return path, data


def _admin_product_lower_sku() -> tuple[str, dict[str, str]]:
    path, data = _admin_product()
    data["sku"] = data["sku"].lower()
    return path, data


def _admin_delete_customer() -> tuple[str, dict[str, str]]:
    from shop.models import Customer

    customer, _ = Customer.objects.get_or_create(
        email="admin-delete@example.com", defaults={"name": "Deleted in the admin"}
    )
    return f"/admin/shop/customer/{customer.pk}/delete/", {"post": "yes"}


SECOND_FACTOR = {"username": "alice", "password": "wonderland", "otp": "123456", "pin": "493817"}

VISITS = [
    Visit("index", "/"),
    Visit(
        "create a product",
        "/saves/create/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=created,
    ),
    Visit(
        "update with update_fields",
        "/saves/update/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=update_fields_stock,
    ),
    Visit(
        "save the same row twice",
        "/saves/twice/",
        signals={"pre_save": 2, "post_save": 2},
        inits={"shop.Product": 1},
        extra=finding("saved_again"),
    ),
    Visit(
        "save without changes",
        "/saves/unchanged/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=finding("nothing_changed"),
    ),
    Visit(
        "full save of one field",
        "/saves/full-save/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=finding("update_fields_would_do", ["stock"]),
    ),
    Visit(
        "save to the archive database",
        "/saves/archive/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.ArchivedOrder": 1},
        extra=archive_db,
    ),
    # bulk_create builds 1 Order and 3 OrderLines; the delete loads the 3 lines again.
    Visit(
        "delete with a cascade",
        "/deletes/cascade/",
        signals={"pre_delete": 4, "post_delete": 4},
        inits={"shop.Order": 1, "shop.OrderLine": 6},
        extra=cascade,
    ),
    Visit(
        "m2m add / remove / clear",
        "/m2m/tags/",
        signals={"m2m_changed": 6},
        inits={"shop.Product": 1, "shop.Tag": 2, "shop.Product_tags": 2},
        extra=m2m_actions,
    ),
    Visit("load 2,000 products", "/load/many/", inits={"shop.Product": 2000}, extra=many_inits),
    Visit(
        "log out, nobody logged in",
        "/auth/logout/",
        signals={"user_logged_out": 1},
        extra=logged_out_user("builtins.NoneType"),
    ),
    Visit("login form (GET)", "/auth/login/"),
    # Database sessions: login() creates the session row (cycle_key), SessionMiddleware saves it again.
    Visit(
        "log in (database sessions)",
        "/auth/login/",
        "post",
        {"username": "alice", "password": "wonderland"},
        signals={"user_logged_in": 1, "pre_save": 3, "post_save": 3},
        inits={"auth.User": 1, "sessions.Session": 2},
        extra=all_of(login_nested, sessions_normal),
    ),
    Visit(
        "log out alice (database sessions)",
        "/auth/logout/",
        # flush() deletes the session row; with no delete receiver on Session, Django's fast delete sends nothing.
        signals={"user_logged_out": 1},
        inits={"auth.User": 1, "sessions.Session": 2},
        extra=logged_out_user("auth.User"),
    ),
    Visit(
        "failed login",
        "/auth/failed-login/",
        "post",
        {"username": "alice", "password": "not-the-password"},
        signals={"user_login_failed": 1},
        inits={"auth.User": 1},
        extra=password_masked_by_django,
    ),
    Visit(
        "second factor login",
        "/auth/second-factor/",
        "post",
        SECOND_FACTOR,
        signals={"user_login_failed": 1},
        extra=clear_keys({"otp", "pin"}, ("123456", "493817")),
    ),
    Visit(
        "user_login_failed sent by hand",
        "/auth/direct-failed/",
        signals={"user_login_failed": 1},
        extra=clear_keys({"password", "authorization"}, ("hunter2", "demo-token-5f2a9c")),
    ),
    Visit(
        "async view (WSGI)",
        "/async/",
        signals={"user_login_failed": 1, "pre_save": 2, "post_save": 2},
        inits={"shop.Product": 1, "auth.User": 1},
        extra=async_page,
    ),
    Visit(
        "async view (ASGI)",
        "/async/",
        signals={"user_login_failed": 1, "pre_save": 2, "post_save": 2},
        inits={"shop.Product": 1, "auth.User": 1},
        extra=async_page,
        asgi=True,
    ),
    Visit(
        "create a product (ASGI)",
        "/saves/create/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=created,
        asgi=True,
    ),
    Visit(
        "slow receiver",
        "/receivers/slow/",
        signals={"pre_save": 1, "post_save": 1},
        inits={"shop.Product": 1},
        extra=slow,
    ),
    Visit(
        "receiver that raises", "/receivers/robust/", signals={"order_placed": 1}, inits={"shop.Order": 1}, extra=robust
    ),
    Visit(
        "receiver chain",
        "/receivers/chain/",
        signals={"pre_save": 2, "post_save": 2},
        inits={"shop.Order": 1, "shop.AuditLog": 1},
        extra=chain,
    ),
    Visit(
        "a receiver that queries on every save",
        "/receivers/queries-per-save/",
        signals={"pre_save": 20, "post_save": 20},
        inits={"shop.Customer": 20},
        extra=receiver_queries(1),
    ),
    Visit(
        "the same page, fixed",
        "/receivers/queries-batched/",
        signals={"pre_save": 20, "post_save": 20},
        inits={"shop.Customer": 20},
        extra=receiver_queries(0),
    ),
    Visit(
        "restock 200 products",
        "/saves/restock/",
        signals={"pre_save": 200, "post_save": 200},
        inits={"shop.Product": 200},
    ),
    Visit(
        "a list with select_related",
        "/load/select-related/",
        inits={"shop.Product": 100, "shop.Category": 100},
        extra=distinct_categories("shop/views.py"),
    ),
    Visit("admin edit page", "/django/admin-edit/", inits={"shop.Product": 1}),
    Visit("admin list page", "/django/admin-products/"),
    # The admin (issue 15), logged in through Django's own LoginView with database sessions: no frame of the
    # shop's code makes these sends.
    Visit(
        "admin login POST (database sessions)",
        "/admin/login/?next=/admin/",
        "post",
        {"username": "alice", "password": "wonderland"},
        signals={"user_logged_in": 1, "pre_save": 3, "post_save": 3},
        inits={"auth.User": 1, "sessions.Session": 2},
        extra=all_of(every_row_sent_from_somewhere, no_problem_tiles, sessions_normal),
        status=302,
    ),
    Visit(
        "admin change-form POST (stock changed)",
        "/admin/shop/product/<DEMO-ADMIN>/change/",
        "post",
        signals={"pre_save": 2, "post_save": 2},
        inits={
            "shop.Product": 1,
            "shop.Category": 1,
            "auth.User": 1,
            "sessions.Session": 1,
            "admin.LogEntry": 1,
            "contenttypes.ContentType": 1,
        },
        extra=all_of(
            every_row_sent_from_somewhere,
            no_problem_tiles,
            framework_finding("update_fields_would_do", "admin_save", "notice", "shop.Product"),
        ),
        status=302,
        prepare=_admin_product,
    ),
    Visit(
        "admin change-form POST (nothing changed)",
        "/admin/shop/product/<DEMO-ADMIN>/change/",
        "post",
        signals={"pre_save": 2, "post_save": 2},
        inits={"shop.Product": 1, "shop.Category": 1, "auth.User": 1, "sessions.Session": 1, "admin.LogEntry": 1},
        extra=all_of(
            every_row_sent_from_somewhere,
            no_problem_tiles,
            framework_finding("nothing_changed", "admin_always_saves", "info", "shop.Product"),
        ),
        status=302,
        prepare=_admin_product_unchanged,
    ),
    Visit(
        "admin change-form POST (the shop's save_related saves again)",
        "/admin/shop/product/<DEMO-ADMIN>/change/",
        "post",
        signals={"pre_save": 3, "post_save": 3},
        inits={"shop.Product": 1, "shop.Category": 1, "auth.User": 1, "sessions.Session": 1, "admin.LogEntry": 1},
        extra=all_of(every_row_sent_from_somewhere, own_redundant_save_still_a_problem),
        status=302,
        prepare=_admin_product_lower_sku,
    ),
    Visit(
        "admin changelist",
        "/admin/shop/product/",
        inits={"shop.Category": 105, "shop.Product": 100, "auth.User": 1, "sessions.Session": 1},
        extra=distinct_categories("django/contrib/admin/options.py"),
    ),
    Visit(
        "admin delete POST",
        "/admin/shop/customer/<pk>/delete/",
        "post",
        signals={"pre_save": 1, "post_save": 1, "pre_delete": 1, "post_delete": 1},
        inits={
            "shop.Customer": 1,
            "auth.User": 1,
            "sessions.Session": 1,
            "admin.LogEntry": 1,
            "contenttypes.ContentType": 1,
        },
        extra=all_of(every_row_sent_from_somewhere, no_problem_tiles),
        status=302,
        prepare=_admin_delete_customer,
    ),
]


def request_id_of(content: bytes) -> str | None:
    match = re.search(rb'data-request-id="([0-9a-f]+)"', content)
    return match.group(1).decode() if match else None


def check(client: Client, async_client: AsyncClient, visit: Visit) -> list[str]:
    path, data = visit.prepare() if visit.prepare is not None else (visit.path, visit.data or {})
    if visit.asgi:
        response = asyncio.run(getattr(async_client, visit.method)(path, data))
    else:
        response = getattr(client, visit.method)(path, data)
    if response.status_code != visit.status:
        return [f"status {response.status_code}"]
    if visit.status == 200 and b"</body>" not in response.content:
        return ["not an HTML page with a <body>"]
    request_id = request_id_of(response.content) if visit.status == 200 else response.headers.get("djdt-request-id")
    if request_id is None:
        return ["the toolbar is not in the page"]
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID)
    if toolbar is None:
        return [f"request {request_id} is not in the toolbar's store"]
    stats = toolbar.get_panel_by_id(PANEL_ID).get_stats()
    rendered = client.get("/__debug__/render_panel/", {"request_id": request_id, "panel_id": PANEL_ID})
    if rendered.status_code != 200:
        return [f"render_panel answered {rendered.status_code}"]
    content = rendered.json()["content"]

    problems = []
    got = {g["signal"]: g["count"] for g in stats["groups"]}
    if got != visit.signals:
        problems.append(f"signals {got}, wanted {visit.signals}")
    inits = {row["sender"]: (row["pre_init"], row["post_init"]) for row in stats["inits"]}
    wanted_inits = {model: (n, n) for model, n in visit.inits.items()}
    if inits != wanted_inits:
        problems.append(f"pre_init/post_init {inits}, wanted {wanted_inits}")
    for name in got:
        if name not in content:
            problems.append(f"{name} not in the rendered panel")
    if not problems and visit.extra is not None:
        problems += visit.extra(stats, content)
    return problems


def seed_is_idempotent() -> list[str]:
    from django.apps import apps

    def counts() -> dict[str, int]:
        return {m._meta.label: m._default_manager.count() for m in apps.get_app_config("shop").get_models()}

    call_command("seed_demo", verbosity=0)
    first = counts()
    call_command("seed_demo", verbosity=0)
    second = counts()
    problems = expect(first == second, f"seed_demo twice: {first} then {second}")
    problems += expect(first["shop.Product"] >= 2000, f"only {first['shop.Product']} products")
    return problems


def main() -> int:
    print(f"databases in {os.environ['DEMO_DB_DIR']}")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="archive", verbosity=0, interactive=False)
    failures = 0
    problems = seed_is_idempotent()
    print(f"{'FAIL' if problems else 'ok  '} seed_demo run twice" + "".join(f"\n     {p}" for p in problems))
    failures += bool(problems)

    client = Client()
    async_client = AsyncClient()
    for visit in VISITS:
        try:
            problems = check(client, async_client, visit)
        except Exception:
            problems = [traceback.format_exc()]
        failures += bool(problems)
        where = f"{visit.method.upper()} {visit.path}{' (ASGI)' if visit.asgi else ''}"
        print(f"{'FAIL' if problems else 'ok  '} {visit.label}: {where}" + "".join(f"\n     {p}" for p in problems))
    print(f"{len(VISITS) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        if _own_tmp:
            shutil.rmtree(_own_tmp, ignore_errors=True)
    sys.exit(code)
