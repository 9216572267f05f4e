"""A small shop. No ``auto_now`` fields: a save that changes nothing must really change nothing."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    stock = models.PositiveIntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    number = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20, default="new")
    placed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"order {self.number}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"


class AuditLog(models.Model):
    """Written by a post_save receiver of Order: a save inside a save."""

    action = models.CharField(max_length=50)
    subject = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.action}: {self.subject}"


class ArchivedOrder(models.Model):
    """Lives in the second database, ``archive`` (see ``shop.routers``)."""

    number = models.CharField(max_length=40)
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    archived_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"archived {self.number}"
