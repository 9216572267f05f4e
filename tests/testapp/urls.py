from __future__ import annotations

from debug_toolbar.toolbar import debug_toolbar_urls
from django.urls import include, path

from tests.testapp import finding_views, framework_views, vendor, views

urlpatterns = [
    path("", views.nothing),
    path("create/", views.create_then_update),
    path("archive/", views.archive),
    path("delete/", views.delete_cascade),
    path("m2m/", views.m2m),
    path("load/", views.load_many),
    path("login/", views.log_in),
    path("logout/", views.log_out),
    path("failed-login/", views.failed_login),
    path("direct-failed-login/", views.direct_failed_login),
    path("async-create/", views.async_create),
    path("quiet/", views.quiet_work),
    path("findings/saved-twice/", finding_views.saved_twice),
    path("findings/unchanged/", finding_views.unchanged_save),
    path("findings/full-save/", finding_views.full_save_one_field),
    path("findings/robust/", finding_views.robust_send),
    path("findings/chain/", finding_views.chain),
    path("findings/credentials/", finding_views.credentials),
    path("trust/", include("tests.testapp.trust_urls")),
    path("deploy/", include("tests.testapp.deploy")),
    path("secrets/", include("tests.testapp.secret_views")),
    path("rowstate/", include("tests.rowstateapp.urls")),
    path("findings/every-author/", finding_views.save_every_author),
    path("framework/login/", framework_views.log_in_with_database_sessions),
    path("framework/vendor/", framework_views.vendor_edit),
    path("framework/books/", framework_views.books_with_authors),
    path("framework/vendor-login/", vendor.failed_login),
    path("framework/authors/", framework_views.authors_once),
    *debug_toolbar_urls(),
]
