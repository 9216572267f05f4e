from __future__ import annotations

from django.urls import path

from shop import views
from shop.pages import PAGES

urlpatterns = [
    path("", views.index, name="index"),
    *(path(page.path, getattr(views, page.name), name=page.name) for page in PAGES),
]
