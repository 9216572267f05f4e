from __future__ import annotations

from debug_toolbar.toolbar import debug_toolbar_urls
from django.urls import path

from bench import views

urlpatterns = [
    path("init-heavy/", views.init_heavy),
    path("save-heavy/", views.save_heavy),
    path("updates/", views.updates),
    path("receiver-queries/", views.receiver_queries),
    *debug_toolbar_urls(),
]
