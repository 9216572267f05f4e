"""Timing helpers: requests through the real toolbar middleware, panels switched per configuration."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: The toolbar shows (and so instruments) a request only while this is True.
SHOW = True


def show_toolbar(request: Any) -> bool:
    return SHOW


def setup(migrate: bool = True) -> None:
    """Configure Django and create the tables."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import get_resolver

    # Load the URLconf now, while every panel is listed: djdt collects panel URLs once, at that moment.
    get_resolver().url_patterns  # noqa: B018

    if migrate:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("migrate", database="archive", verbosity=0, interactive=False)


def seed(rows: int) -> None:
    from shop.models import Category, Product

    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    have = Product.objects.filter(sku__startswith="P").count()
    Product.objects.bulk_create(
        [
            Product(sku=f"P{i:06d}", name=f"Product {i}", category=category, price="9.99", stock=i % 50)
            for i in range(have, rows)
        ],
        batch_size=2000,
    )


@contextmanager
def panels(paths: Sequence[str]) -> Iterator[None]:
    from django.test import override_settings

    with override_settings(DEBUG_TOOLBAR_PANELS=list(paths)):
        yield


def timed_get(client: Any, url: str) -> float:
    """Seconds for one request through the middleware, the toolbar's own work included."""
    gc.collect()
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
    return elapsed


def interleave(configs: dict[str, Callable[[], float]], reps: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run every configuration once per round, rotating which goes first, and return each one's times."""
    names = list(configs)
    for _ in range(warmup):
        for name in names:
            configs[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(configs[name]())
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
