"""The demo's pages: URL, title and the one line the index shows about the signals each one fires."""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    section: str
    name: str  # URL name, and the view's name in shop.views
    path: str
    title: str
    signals: str


PAGES = [
    Page(
        "Saves",
        "create_product",
        "saves/create/",
        "Create a product",
        "pre_save + post_save (created=True) of one Product",
    ),
    Page(
        "Saves",
        "update_product",
        "saves/update/",
        "Update a product with update_fields",
        "pre_save + post_save with update_fields=['stock']",
    ),
    Page(
        "Saves",
        "save_twice",
        "saves/twice/",
        "Save the same row twice",
        "two pre_save/post_save pairs for one Product row: a redundant save",
    ),
    Page(
        "Saves",
        "save_unchanged",
        "saves/unchanged/",
        "Save without changes",
        "pre_save + post_save of a Product in which no field changed",
    ),
    Page(
        "Saves",
        "save_full_one_field",
        "saves/full-save/",
        "Full save() that changes one field",
        "pre_save + post_save without update_fields, though only 'stock' changed",
    ),
    Page(
        "Saves",
        "archive_order",
        "saves/archive/",
        "Save to the second database",
        "pre_save + post_save of an ArchivedOrder with using='archive'",
    ),
    Page(
        "Deletes",
        "delete_cascade",
        "deletes/cascade/",
        "Delete an order and its lines",
        "pre_delete + post_delete for the Order and each of its 3 OrderLines, with origin=the Order",
    ),
    Page(
        "Many-to-many",
        "m2m_tags",
        "m2m/tags/",
        "Add, remove and clear product tags",
        "m2m_changed six times: pre_/post_add, pre_/post_remove, pre_/post_clear",
    ),
    Page(
        "Loading",
        "load_many",
        "load/many/",
        "Load 2,000 products",
        "2,000 pre_init + 2,000 post_init of Product, aggregated per model",
    ),
    Page(
        "Auth",
        "log_in",
        "auth/login/",
        "Log in (alice / wonderland)",
        "user_logged_in, and inside it the pre_save/post_save of update_last_login; with database sessions, "
        "the session row saved twice by Django, listed apart as normal framework behaviour (on POST)",
    ),
    Page(
        "Auth",
        "failed_login",
        "auth/failed-login/",
        "Failed login (wrong password)",
        "user_login_failed with the password masked by Django (on POST)",
    ),
    Page(
        "Auth",
        "second_factor_login",
        "auth/second-factor/",
        "Login with a one-time code and a PIN",
        "user_login_failed whose otp and pin arrive in clear: Django masks neither (on POST)",
    ),
    Page(
        "Auth",
        "direct_login_failed",
        "auth/direct-failed/",
        "user_login_failed sent by hand",
        "user_login_failed sent by the shop's own code: Authorization header and password in clear",
    ),
    Page("Auth", "log_out", "auth/logout/", "Log out", "user_logged_out (sender NoneType when nobody was logged in)"),
    Page(
        "Async",
        "async_view",
        "async/",
        "An async view",
        "acreate + asave of a Product (pre_/post_save twice) and aauthenticate's user_login_failed",
    ),
    Page(
        "Receivers",
        "slow_receiver",
        "receivers/slow/",
        "A slow receiver",
        "pre_save + post_save of a Product whose post_save receiver sleeps 50 ms",
    ),
    Page(
        "Receivers",
        "robust_send",
        "receivers/robust/",
        "A receiver that raises",
        "order_placed (a custom signal) sent with send_robust: one of its 3 receivers raises",
    ),
    Page(
        "Receivers",
        "receiver_chain",
        "receivers/chain/",
        "A receiver that saves another model",
        "pre_save + post_save of an Order, and inside its post_save those of an AuditLog",
    ),
    Page(
        "Receivers",
        "receiver_queries",
        "receivers/queries-per-save/",
        "A receiver that queries on every save",
        "20 pre_save + 20 post_save of Customers; the post_save receiver runs one COUNT query each time",
    ),
    Page(
        "Receivers",
        "receiver_queries_fixed",
        "receivers/queries-batched/",
        "The same page, fixed: one query after the loop",
        "the same 20 pre_save + 20 post_save; the receiver runs no query, the count runs once after the loop",
    ),
    Page(
        "Saves",
        "restock_many",
        "saves/restock/",
        "Restock 200 products",
        "200 pre_save + 200 post_save with update_fields=['stock']: a page with hundreds of events to filter",
    ),
    Page(
        "Django drives",
        "admin_edit",
        "django/admin-edit/",
        "Edit a product in the admin",
        "pre_save + post_save from django/contrib/admin/options.py in save_model: framework code, listed apart",
    ),
    Page(
        "Django drives",
        "admin_products",
        "django/admin-products/",
        "The admin's product list",
        "100 Category instances built from a few rows by select_related: distinct rows beside instances",
    ),
    Page(
        "Loading",
        "list_with_categories",
        "load/select-related/",
        "A list with select_related",
        "100 Product and 100 Category pre_init/post_init, the Category ones from a few rows: duplicate rows",
    ),
]
