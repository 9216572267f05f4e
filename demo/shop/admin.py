from __future__ import annotations

from django.contrib import admin

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


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "placed_at"]
    inlines = [OrderLineInline]


admin.site.register([Category, Tag, Customer, AuditLog])
