"""Signals of a second app whose names collide with others' (EXTRA_SIGNALS naming tests)."""

from __future__ import annotations

from django.dispatch import Signal

#: The same name as ``finding_views.order_placed``.
order_placed = Signal()
#: The same name as a built-in signal.
post_save = Signal()
#: A name no other tracked signal has.
invoice_sent = Signal()
