"""The pages the benchmark requests. Each returns a small HTML page, so the toolbar is inserted as in a browser."""

from __future__ import annotations

import itertools

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from shop.models import Category, Customer, Product

_skus = itertools.count()


def _page(text: str) -> HttpResponse:
    return HttpResponse(f"<!DOCTYPE html><html><head><title>bench</title></head><body>{text}</body></html>")


def init_heavy(request: HttpRequest) -> HttpResponse:
    """Loads every product: two init signals per row."""
    products = list(Product.objects.all())
    return _page(f"{len(products)} products")


def save_heavy(request: HttpRequest) -> HttpResponse:
    """``n`` creates, then ``n`` full saves of the rows just created (one query each)."""
    n = int(request.GET.get("n", "500"))
    category = Category.objects.get(slug="bench")
    batch = next(_skus)
    with transaction.atomic():
        made = [
            Product.objects.create(sku=f"B{batch}-{i}", name=f"bench {i}", category=category, price=1) for i in range(n)
        ]
        for product in made:
            product.stock += 1
            product.save()
    return _page(f"{len(made)} products saved twice")


def updates(request: HttpRequest) -> HttpResponse:
    """``n`` full saves of existing rows: ``n`` queries, ``2 n`` save signals."""
    n = int(request.GET.get("n", "10000"))
    with transaction.atomic():
        for product in Product.objects.all()[:n]:
            product.stock += 1
            product.save()
    return _page(f"{n} products updated")


def receiver_queries(request: HttpRequest) -> HttpResponse:
    """``n`` creates of customers: shop.receivers.refresh_order_count runs one COUNT query on each."""
    n = int(request.GET.get("n", "500"))
    batch = next(_skus)
    with transaction.atomic():
        for i in range(n):
            Customer.objects.create(name=f"bench {i}", email=f"b{batch}-{i}@bench.example")
    return _page(f"{n} customers created")
