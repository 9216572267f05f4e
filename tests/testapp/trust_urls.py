from __future__ import annotations

from django.urls import path

from tests.testapp import application_views, query_receivers, trust_views

urlpatterns = [
    path("observe/", trust_views.observe),
    path("receiver-queries/", query_receivers.view),
    path("receiver-groups/", query_receivers.groups),
    path("areceiver-queries/", query_receivers.aview),
    path("aobserve/", trust_views.aobserve),
    path("iso/<str:token>/<int:n>/", trust_views.isolation),
    path("aiso/<str:token>/<int:n>/", trust_views.aisolation),
    path("thread/<str:how>/", trust_views.thread_view),
    path("zoo/<str:case>/", trust_views.zoo),
    path("weak/", trust_views.keep_weak),
    path("instantiate/<int:n>/", trust_views.instantiate),
    path("save-many/<int:n>/", trust_views.save_many),
    path("installed/", trust_views.installed),
    path("escape/", trust_views.escape_everything),
    path("ajax/", trust_views.ajax),
    path("iterate/", trust_views.iterate),
    path("app/history/", application_views.history),
    path("app/own-note/", application_views.own_note),
    path("app/cached-badge/", application_views.cached_badge),
    path("app/lazy-logout/", application_views.lazy_logout),
]
