"""The shop's own signal, recorded by the panel because the demo settings list it in
``DT_SIGNALS_PANEL["EXTRA_SIGNALS"]``."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent (with ``send_robust``) when an order is placed: ``sender=Order, order=…, total=…``.
order_placed = Signal()
