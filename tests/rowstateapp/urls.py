from __future__ import annotations

from django.urls import path

from tests.rowstateapp import views

urlpatterns = [path("pickle/", views.pickle_loaded)]
