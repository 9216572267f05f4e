"""The shop's receivers, connected in ``ShopConfig.ready()``. Each one is here to make a demo page show
something in the panel; none of them is needed by the shop itself."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from shop.models import AuditLog, Order, OrderLine, Product
from shop.signals import order_placed

log = logging.getLogger("shop")

#: Products whose SKU starts with this are "indexed" slowly (the slow-receiver page creates one).
SLOW_SKU_PREFIX = "SLOW-"


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
