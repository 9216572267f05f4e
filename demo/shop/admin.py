from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from shop.models import AuditLog, Category, Customer, Order, OrderLine, Product, Tag


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "stock"]
    list_filter = ["category"]
    search_fields = ["sku", "name"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """SKUs are upper case: one typed in lower case is fixed by saving the row again, after the admin's own
        save. That second save is the shop's code, a redundant save the panel reports as a problem even on the
        admin's page, where the admin's own save is listed apart as framework code."""
        super().save_related(request, form, formsets, change)
        product = form.instance
        if product.sku != product.sku.upper():
            product.sku = product.sku.upper()
            product.save(update_fields=["sku"])


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "placed_at"]
    inlines = [OrderLineInline]


admin.site.register([Category, Tag, Customer, AuditLog])
