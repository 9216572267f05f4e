"""Fill the demo database. Idempotent: run it as often as you like, it only adds what is missing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from shop.models import Category, Customer, Order, OrderLine, Product, Tag
from shop.views import (
    ADMIN_SKU,
    CATALOGUE_PREFIX,
    FULL_SAVE_SKU,
    LOAD_MANY,
    TAGS_SKU,
    TWICE_SKU,
    UNCHANGED_SKU,
    UPDATE_SKU,
)

CATEGORIES = [
    ("tea", "Tea"),
    ("coffee", "Coffee"),
    ("kitchen", "Kitchen"),
    ("books", "Books"),
    ("garden", "Garden"),
]
TAGS = ["red", "blue", "green", "new", "sale", "organic"]
ADJECTIVES = ["Sturdy", "Tiny", "Golden", "Rustic", "Smooth", "Bright", "Quiet", "Clever"]
NOUNS = ["teapot", "mug", "grinder", "kettle", "notebook", "trowel", "spoon", "lamp", "tray", "jar"]
CUSTOMERS = 20
ORDERS = 50
DEMO_PRODUCTS = [UPDATE_SKU, TWICE_SKU, UNCHANGED_SKU, FULL_SAVE_SKU, TAGS_SKU, ADMIN_SKU]


class Command(BaseCommand):
    help = "Create the demo shop's user (alice / wonderland), categories, tags, products, customers and orders."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        user = self.seed_alice()
        categories = self.seed_categories()
        tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
        new_products = self.seed_products(categories, tags)
        new_customers, new_orders = self.seed_orders()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"alice (pk {user.pk}); {len(categories)} categories, {len(tags)} tags; "
                f"{Product.objects.count()} products ({new_products} new); "
                f"{Customer.objects.count()} customers ({new_customers} new); "
                f"{Order.objects.count()} orders ({new_orders} new)"
            )

    def seed_alice(self) -> Any:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username="alice", defaults={"email": "alice@example.com", "is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password("wonderland"):
            user.set_password("wonderland")
            user.save()
        return user

    def seed_categories(self) -> list[Category]:
        return [Category.objects.get_or_create(slug=slug, defaults={"name": name})[0] for slug, name in CATEGORIES]

    def seed_products(self, categories: list[Category], tags: dict[str, Tag]) -> int:
        existing = set(Product.objects.values_list("sku", flat=True))
        wanted = []
        for i in range(1, LOAD_MANY + 1):
            sku = f"{CATALOGUE_PREFIX}{i:04d}"
            if sku not in existing:
                name = f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[i % len(NOUNS)]} no. {i}"
                price = Decimal(5 + (i * 37) % 90) + Decimal("0.99")
                wanted.append(
                    Product(sku=sku, name=name, category=categories[i % len(categories)], price=price, stock=i % 25)
                )
        for sku in DEMO_PRODUCTS:
            if sku not in existing:
                name = sku.removeprefix("DEMO-").replace("-", " ").capitalize() + " demo product"
                wanted.append(Product(sku=sku, name=name, category=categories[0], price=Decimal("10.00"), stock=10))
        Product.objects.bulk_create(wanted)
        # Tag every tenth catalogue product (never the DEMO- ones: the m2m page starts from no tags).
        through = Product.tags.through
        tag_list = list(tags.values())
        catalogue = Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).order_by("pk").values_list("pk", flat=True)
        links = [
            through(product_id=pk, tag_id=tag_list[n % len(tag_list)].pk)
            for n, pk in enumerate(catalogue)
            if n % 10 == 0
        ]
        through.objects.bulk_create(links, ignore_conflicts=True)
        return len(wanted)

    def seed_orders(self) -> tuple[int, int]:
        existing_customers = set(Customer.objects.values_list("email", flat=True))
        customers = [
            Customer(name=f"Customer {i}", email=f"customer{i}@example.com")
            for i in range(1, CUSTOMERS + 1)
            if f"customer{i}@example.com" not in existing_customers
        ]
        Customer.objects.bulk_create(customers)
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        product_ids = list(
            Product.objects.filter(sku__startswith=CATALOGUE_PREFIX).order_by("pk").values_list("pk", flat=True)
        )
        existing_orders = set(Order.objects.values_list("number", flat=True))
        # bulk_create sends no post_save, so seeding writes no AuditLog rows.
        orders = Order.objects.bulk_create(
            [
                Order(number=f"SEED-{i:04d}", customer_id=customer_ids[i % len(customer_ids)], status="paid")
                for i in range(1, ORDERS + 1)
                if f"SEED-{i:04d}" not in existing_orders
            ]
        )
        lines = [
            OrderLine(
                order_id=order.pk,
                product_id=product_ids[(n * 7 + k * 13) % len(product_ids)],
                quantity=1 + k,
                unit_price=Decimal("9.99"),
            )
            for n, order in enumerate(orders)
            for k in range(1 + n % 4)
        ]
        OrderLine.objects.bulk_create(lines)
        return len(customers), len(orders)
