"""The shop's receivers, connected in ``ShopConfig.ready()``. Each one is here to make a demo page show
something in the panel; none of them is needed by the shop itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from shop.models import AuditLog, Customer, Order, OrderLine, Product
from shop.signals import order_placed

log = logging.getLogger("shop")

#: Products whose SKU starts with this are "indexed" slowly (the slow-receiver page creates one).
SLOW_SKU_PREFIX = "SLOW-"
#: Customer pk -> number of orders: what a shop would keep in a cache or sync to a CRM.
order_counts: dict[int, int] = {}
#: Customers whose count waits for the end of a batch (see ``order_counts_refreshed_once``), or None.
_batch: ContextVar[set[int] | None] = ContextVar("shop_order_count_batch", default=None)


@receiver(post_save, sender=Product, dispatch_uid="shop.index_product")
def index_product(sender: type[Product], instance: Product, created: bool, **kwargs: Any) -> None:
    """Pretend to push the product to a search index: slow (about 50 ms) for SLOW- products only."""
    if instance.sku.startswith(SLOW_SKU_PREFIX):
        time.sleep(0.05)


@receiver(post_save, sender=Order, dispatch_uid="shop.audit_order")
def audit_order(sender: type[Order], instance: Order, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """Saving an Order saves an AuditLog row: a post_save inside a post_save."""
    if raw:
        return
    AuditLog.objects.create(action="order created" if created else "order changed", subject=instance.number)


@receiver(m2m_changed, sender=Product.tags.through, dispatch_uid="shop.tags_changed")
def tags_changed(sender: Any, instance: Any, action: str, pk_set: set[Any] | None, **kwargs: Any) -> None:
    """Without any m2m_changed receiver for the through model Django skips m2m_changed for add()."""
    log.debug("tags %s on %r: %s", action, instance, sorted(pk_set or ()))


@receiver(pre_delete, sender=OrderLine, dispatch_uid="shop.line_deleting")
@receiver(post_delete, sender=OrderLine, dispatch_uid="shop.line_deleted")
def line_deleted(sender: type[OrderLine], instance: OrderLine, **kwargs: Any) -> None:
    """With delete receivers on OrderLine, Django collects the lines of a deleted order one by one (and
    sends pre_delete/post_delete for each) instead of deleting them with one fast DELETE."""
    log.debug("order line %s deleted", instance.pk)


@receiver(order_placed, dispatch_uid="shop.reserve_stock")
def reserve_stock(sender: Any, order: Order, **kwargs: Any) -> str:
    return f"stock reserved for {order.number}"


@receiver(order_placed, dispatch_uid="shop.charge_card")
def charge_card(sender: Any, order: Order, **kwargs: Any) -> None:
    """Always fails: send_robust catches the error, logs it and hands it back as this receiver's response."""
    raise ConnectionError("payment gateway timed out")


@receiver(order_placed, dispatch_uid="shop.send_confirmation")
def send_confirmation(sender: Any, order: Order, **kwargs: Any) -> str:
    return f"confirmation queued for {order.number}"


@receiver(post_save, sender=Customer, dispatch_uid="shop.refresh_order_count")
def refresh_order_count(sender: type[Customer], instance: Customer, raw: bool = False, **kwargs: Any) -> None:
    """Keep each customer's number of orders at hand (a stand-in for a cache or a CRM sync): one COUNT query
    per save, the N+1 that no view shows (the panel reports it as "queries in a receiver per send"). Inside
    ``order_counts_refreshed_once()`` it only notes the customer, and one query after the loop counts them all."""
    if raw:
        return
    batch = _batch.get()
    if batch is not None:
        batch.add(instance.pk)
        return
    order_counts[instance.pk] = Order.objects.filter(customer_id=instance.pk).count()


@contextmanager
def order_counts_refreshed_once() -> Iterator[None]:
    """The cure: saves inside the block leave the counting to its end, one query for all of them."""
    batch: set[int] = set()
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    counted = Order.objects.filter(customer_id__in=batch).values("customer_id").annotate(n=Count("pk"))
    order_counts.update({pk: 0 for pk in batch})
    order_counts.update({row["customer_id"]: row["n"] for row in counted})
