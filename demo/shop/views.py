"""One view per demo page. Each does its work, then says in words what it did; the panel shows the signals."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth import aauthenticate, authenticate, login, logout
from django.contrib.auth.signals import user_login_failed
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from shop.models import ArchivedOrder, Category, Customer, Order, OrderLine, Product, Tag
from shop.pages import PAGES
from shop.receivers import SLOW_SKU_PREFIX, order_counts, order_counts_refreshed_once
from shop.signals import order_placed

#: Products the seed command creates for the pages below, each page working on its own row.
UPDATE_SKU = "DEMO-UPDATE"
TWICE_SKU = "DEMO-TWICE"
UNCHANGED_SKU = "DEMO-UNCHANGED"
FULL_SAVE_SKU = "DEMO-FULL-SAVE"
TAGS_SKU = "DEMO-TAGS"
#: Customers the receiver-queries pages save (the seed command makes 20).
CUSTOMERS_SAVED = 20
#: The product the admin page edits, so the admin's saves touch no other page's row.
ADMIN_SKU = "DEMO-ADMIN"
#: The seeded catalogue: "load many" loads exactly these.
CATALOGUE_PREFIX = "P-"
LOAD_MANY = 2000

_BY_NAME = {page.name: page for page in PAGES}


def done(request: HttpRequest, name: str, did: list[str], **context: Any) -> HttpResponse:
    """The result page: the page's title, what its signals should be, and what the view did."""
    return render(request, "shop/result.html", {"page": _BY_NAME[name], "did": did, **context})


def index(request: HttpRequest) -> HttpResponse:
    sections: dict[str, list[Any]] = {}
    for page in PAGES:
        sections.setdefault(page.section, []).append(page)
    return render(request, "shop/index.html", {"sections": sections})


def _new_sku(prefix: str = "NEW-") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def _first_category_id() -> int:
    # values_list builds no model instance, so it sends no pre_init/post_init.
    category_id: int = Category.objects.order_by("pk").values_list("pk", flat=True)[0]
    return category_id


# -- saves ------------------------------------------------------------------------------------------------
def create_product(request: HttpRequest) -> HttpResponse:
    product = Product.objects.create(
        sku=_new_sku(),
        name="Handmade stoneware teapot with a bamboo handle, 1.2 litres, glazed deep blue",
        category_id=_first_category_id(),
        price=Decimal("24.90"),
        stock=5,
    )
    return done(request, "create_product", [f"Created {product.sku} “{product.name}” (pk {product.pk})."])


def update_product(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=UPDATE_SKU)
    product.stock += 1
    product.save(update_fields=["stock"])
    return done(
        request,
        "update_product",
        [f"Loaded {product.sku}, raised its stock to {product.stock}, saved with update_fields=['stock']."],
    )


def save_twice(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=TWICE_SKU)
    product.stock += 1
    product.save(update_fields=["stock"])
    product.price += Decimal("0.10")
    product.save(update_fields=["price"])
    return done(
        request,
        "save_twice",
        [
            f"Loaded {product.sku}, changed its stock and saved it (update_fields=['stock']),",
            "then changed its price and saved the same row again (update_fields=['price']).",
            "One save of both fields would have done: the panel reports the row as saved twice.",
        ],
    )


def save_unchanged(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=UNCHANGED_SKU)
    product.save()
    return done(
        request,
        "save_unchanged",
        [f"Loaded {product.sku} and called save() without changing anything: an UPDATE that changed nothing."],
    )


def save_full_one_field(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=FULL_SAVE_SKU)
    product.stock = 7 if product.stock != 7 else 8
    product.save()
    return done(
        request,
        "save_full_one_field",
        [
            f"Loaded {product.sku}, set its stock to {product.stock} and called save():",
            "every column was written though only stock changed; save(update_fields=['stock']) would do.",
        ],
    )


def archive_order(request: HttpRequest) -> HttpResponse:
    number = f"ARCH-{uuid.uuid4().hex[:8].upper()}"
    total = OrderLine.objects.aggregate(total=Sum("unit_price"))["total"] or Decimal(0)
    archived = ArchivedOrder.objects.create(number=number, total=total)
    return done(
        request,
        "archive_order",
        [
            f"Created ArchivedOrder {archived.number} (pk {archived.pk}).",
            f"The router sent it to the “{archived._state.db}” database, so its save signals carry using='archive'.",
        ],
    )


# -- deletes ----------------------------------------------------------------------------------------------
def delete_cascade(request: HttpRequest) -> HttpResponse:
    customer_id = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]
    product_ids = list(Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).values_list("pk", flat=True)[:3])
    # bulk_create sends no save signals: only the delete's signals are this page's story.
    (order,) = Order.objects.bulk_create([Order(number=_new_sku("DOOMED-"), customer_id=customer_id)])
    OrderLine.objects.bulk_create(
        [OrderLine(order=order, product_id=pk, quantity=1, unit_price=Decimal("9.99")) for pk in product_ids]
    )
    deleted, per_model = order.delete()
    return done(
        request,
        "delete_cascade",
        [
            f"Created order {order.number} with {len(product_ids)} lines using bulk_create (which sends no signals).",
            f"Deleted the order: {deleted} rows ({', '.join(f'{n} {m}' for m, n in per_model.items())}).",
            "OrderLine has delete receivers, so Django loaded the lines and sent pre_delete/post_delete for each;",
            "every one of them has origin = the order whose delete() started it.",
        ],
    )


# -- m2m --------------------------------------------------------------------------------------------------
def m2m_tags(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=TAGS_SKU)
    blue, red = Tag.objects.filter(name__in=["red", "blue"]).order_by("name")
    product.tags.add(red, blue)
    product.tags.remove(red)
    product.tags.clear()
    return done(
        request,
        "m2m_tags",
        [
            f"On {product.sku}: tags.add({red}, {blue}), then tags.remove({red}), then tags.clear().",
            "shop.receivers.tags_changed listens to the through model; without a receiver Django would not send",
            "m2m_changed for add() at all.",
        ],
    )


# -- loading ----------------------------------------------------------------------------------------------
def load_many(request: HttpRequest) -> HttpResponse:
    products = list(Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).order_by("pk")[:LOAD_MANY])
    return done(
        request,
        "load_many",
        [
            f"Loaded {len(products):,} products in one query: each row sent pre_init and post_init.",
            "The panel counts them per model instead of listing them.",
        ],
        products=products[:10],
    )


# -- auth -------------------------------------------------------------------------------------------------
def _login_form(request: HttpRequest, name: str, initial: dict[str, str]) -> HttpResponse:
    did: list[str] = []
    if request.method == "POST":
        credentials = {key: request.POST.get(key, "") for key in initial}
        user = authenticate(request, **credentials)
        if user is None:
            did.append(f"authenticate() refused {credentials.get('username')!r}: Django sent user_login_failed.")
        else:
            login(request, user)
            did.append(f"authenticate() accepted {user.get_username()!r} and login() logged them in.")
            did.append("login() sent user_logged_in; its receiver update_last_login saved the user's last_login.")
    else:
        did.append("Nothing yet: submit the form (the values are filled in for you).")
    return done(request, name, did, form=initial)


def log_in(request: HttpRequest) -> HttpResponse:
    return _login_form(request, "log_in", {"username": "alice", "password": "wonderland"})


def failed_login(request: HttpRequest) -> HttpResponse:
    return _login_form(request, "failed_login", {"username": "alice", "password": "not-the-password"})


def second_factor_login(request: HttpRequest) -> HttpResponse:
    return _login_form(
        request,
        "second_factor_login",
        {"username": "alice", "password": "wonderland", "otp": "123456", "pin": "493817"},
    )


def direct_login_failed(request: HttpRequest) -> HttpResponse:
    """An API authentication that reports failures itself, bypassing authenticate() and its masking."""
    authorization = request.headers.get("Authorization") or "Bearer demo-token-5f2a9c"
    user_login_failed.send(
        sender="shop.api",
        credentials={"username": "alice", "password": "hunter2", "authorization": authorization},
        request=request,
    )
    return done(
        request,
        "direct_login_failed",
        [
            "Called user_login_failed.send(sender='shop.api', credentials={username, password, authorization}).",
            "authenticate() was not involved, so Django masked nothing: the password and token went out in clear.",
        ],
    )


def log_out(request: HttpRequest) -> HttpResponse:
    was = request.user.get_username() if request.user.is_authenticated else None
    logout(request)
    return done(request, "log_out", [f"Logged {was!r} out." if was else "Nobody was logged in; logout() ran anyway."])


# -- async ------------------------------------------------------------------------------------------------
async def async_view(request: HttpRequest) -> HttpResponse:
    category_id = await Category.objects.order_by("pk").values_list("pk", flat=True).afirst()
    product = await Product.objects.acreate(
        sku=_new_sku("ASYNC-"), name="Async kettle", category_id=category_id, price=Decimal("31.00"), stock=1
    )
    product.stock = 2
    await product.asave(update_fields=["stock"])
    user = await aauthenticate(request, username="alice", password="not-the-password")
    return done(
        request,
        "async_view",
        [
            f"In an async def view: Product.objects.acreate() made {product.sku}, then asave(update_fields=['stock']).",
            "Model signals run in sync_to_async's worker thread; the panel still files them under this request.",
            "Creating a row and saving it again at once is also what the panel calls a redundant save.",
            f"aauthenticate() with a wrong password returned {user!r} and sent user_login_failed with asend().",
        ],
    )


# -- receivers --------------------------------------------------------------------------------------------
def slow_receiver(request: HttpRequest) -> HttpResponse:
    product = Product.objects.create(
        sku=_new_sku(SLOW_SKU_PREFIX), name="Slowly indexed lamp", category_id=_first_category_id(), price=15
    )
    return done(
        request,
        "slow_receiver",
        [
            f"Created {product.sku}. shop.receivers.index_product sleeps 50 ms for SKUs starting with "
            f"{SLOW_SKU_PREFIX!r}: the panel lists it as the slowest receiver."
        ],
    )


def robust_send(request: HttpRequest) -> HttpResponse:
    order = Order.objects.order_by("pk").first()
    assert order is not None, "run `manage.py seed_demo` first"
    responses = order_placed.send_robust(sender=Order, order=order, total=Decimal("42.00"))
    return done(
        request,
        "robust_send",
        [f"Sent shop.signals.order_placed with send_robust for {order}. Receivers answered:"]
        + [f"{getattr(r, '__name__', r)} → {v!r}" for r, v in responses],
    )


def receiver_chain(request: HttpRequest) -> HttpResponse:
    customer_id = Customer.objects.order_by("pk").values_list("pk", flat=True)[0]
    order = Order.objects.create(number=_new_sku("ORD-"), customer_id=customer_id)
    return done(
        request,
        "receiver_chain",
        [
            f"Created order {order.number}.",
            "Its post_save receiver shop.receivers.audit_order created an AuditLog row: that row's pre_save and",
            "post_save were sent while Order's post_save was being dispatched.",
        ],
    )


# -- many events ------------------------------------------------------------------------------------------
RESTOCK = 200


def restock_many(request: HttpRequest) -> HttpResponse:
    products = list(Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).order_by("pk")[:RESTOCK])
    for product in products:
        product.stock = (product.stock + 1) % 25
        product.save(update_fields=["stock"])
    return done(
        request,
        "restock_many",
        [
            f"Loaded {len(products)} products and saved each one's stock with update_fields=['stock'].",
            "That is 400 save signals: filter the panel by text (a name such as “grinder no. 42”) to find one product.",
        ],
    )


# -- queries in receivers -----------------------------------------------------------------------------------
def _rename_customers() -> list[Customer]:
    customers = list(Customer.objects.order_by("pk")[:CUSTOMERS_SAVED])
    for customer in customers:
        customer.name = customer.name.upper() if customer.name.islower() else customer.name.lower()
        customer.save(update_fields=["name"])
    return customers


def receiver_queries(request: HttpRequest) -> HttpResponse:
    customers = _rename_customers()
    return done(
        request,
        "receiver_queries",
        [
            f"Renamed {len(customers)} customers, one save() each in a loop.",
            "shop.receivers.refresh_order_count runs on every post_save and counts the customer's orders:",
            f"{len(customers)} COUNT queries that the view's code never shows. The panel lists them under the",
            "receiver and reports “queries in a receiver per send”. Compare with the fixed page.",
        ],
        counts=sorted(order_counts.items())[:CUSTOMERS_SAVED],
    )


def receiver_queries_fixed(request: HttpRequest) -> HttpResponse:
    with order_counts_refreshed_once():
        customers = _rename_customers()
    return done(
        request,
        "receiver_queries_fixed",
        [
            f"The same {len(customers)} saves inside shop.receivers.order_counts_refreshed_once(): the receiver only",
            "notes the customer, and one query after the loop counts every customer's orders. The same signals;",
            "no query in any receiver.",
        ],
        counts=sorted(order_counts.items())[:CUSTOMERS_SAVED],
    )


# -- pages Django drives (issue 15) -----------------------------------------------------------------------
def admin_edit(request: HttpRequest) -> HttpResponse:
    product = Product.objects.get(sku=ADMIN_SKU)
    change = reverse("admin:shop_product_change", args=[product.pk])
    return done(
        request,
        "admin_edit",
        [
            "Log in to the admin as alice / wonderland, open the change form of "
            f"{product.sku} ({change}), change its stock and press “Save”.",
            "Django's admin saves every field of the form (ModelAdmin.save_model), so the panel sees a full save "
            "where one field changed: sent from django/contrib/admin/options.py, marked as framework code, and "
            "listed under “Findings about framework code” with what you control (save_model, fields, "
            "readonly_fields), not counted as a redundant save of yours.",
            "Type the SKU in lower case: ProductAdmin.save_related (the shop's code) saves the row again to fix "
            "it, and that redundant save is the shop's, a problem with its own call site in shop/admin.py.",
            "Press “Save” without changing anything: the admin saves anyway, a known-normal pattern listed "
            "for information. The login itself (database sessions) shows the session row saved twice by "
            "Django: normal too. The POSTs redirect: open them from the toolbar's History panel.",
        ],
        link=change,
    )


def admin_products(request: HttpRequest) -> HttpResponse:
    changelist = reverse("admin:shop_product_changelist")
    return done(
        request,
        "admin_products",
        [
            f"Open the admin's product list ({changelist}) as alice / wonderland.",
            "list_display shows each product's category, so the admin loads the page with "
            "select_related('category'): 100 Category instances built from a handful of rows. The panel's "
            "pre_init / post_init table shows distinct rows beside instances and flags the copies, with the call "
            "site of the query that built them.",
        ],
        link=changelist,
    )


def list_with_categories(request: HttpRequest) -> HttpResponse:
    products = list(
        Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).select_related("category").order_by("pk")[:100]
    )
    categories = {product.category.name for product in products}
    return done(
        request,
        "list_with_categories",
        [
            f"Loaded {len(products)} products with select_related('category'): {len(products)} Category "
            f"instances were built for {len(categories)} categories, one per product row.",
            "Your own code built them, so the finding names this view; prefetch_related('category') would "
            "build one instance per category.",
        ],
        products=products[:10],
    )
