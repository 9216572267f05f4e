"""The credential policy: how each key of ``user_login_failed``'s ``credentials`` is judged and shown.

Django masks only the keys its own rule matches, and only when the signal is sent by ``authenticate()``;
code that sends ``user_login_failed`` itself masks nothing. Each key gets a status (masked by Django, not
sensitive, or sensitive and in clear) and a value safe to show; the raw values masked here are handed back
so that no other text of the event echoes them (``masking.hold``).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from dt_signals_panel import labels, masking, safe
from dt_signals_panel.conf import Config
from dt_signals_panel.shapes import CredentialRow

#: What ``django.contrib.auth`` puts in place of a credential its own rule matches.
DJANGO_MASK = "********************"
#: Django's own rule for credentials (``django.contrib.auth._clean_credentials``).
DJANGO_CREDENTIAL_RULE = re.compile("api|token|key|secret|password|signature", re.IGNORECASE)
#: The sender ``authenticate()`` and ``aauthenticate()`` use; any other sender bypassed Django's masking.
AUTH_SENDER = "django.contrib.auth"


def report(credentials: Any, sender: Any, config: Config, masked: list[str] | None = None) -> list[CredentialRow]:
    """One row per credential key: its status and a value safe to show. The raw values masked here are
    added to ``masked``, so that no other field of the event echoes them."""
    if not safe.is_a(credentials, dict):
        shown = f"<{safe.short_class_name(type(credentials))}>"
        return [{"key": "(credentials)", "status": "not_a_dict", "value": shown}]
    through_django = sender == AUTH_SENDER
    secrets: list[str] = [] if masked is None else masked
    rows: list[CredentialRow] = []
    for key, value in itertools.islice(dict.items(credentials), labels.MAX_ITEMS):
        name = labels.key_name(key)
        if type(value) is str and value == DJANGO_MASK and DJANGO_CREDENTIAL_RULE.search(name):
            status, shown = "masked_by_django", DJANGO_MASK
        elif masking.sensitive_name(key, name, config.sensitive):
            status, shown = "sensitive_in_clear", masking.MASK
            masking.collect(value, secrets)
        else:
            status, shown = "not_sensitive", labels.describe(value, config, 1)
            masking.collect_sensitive(value, config.sensitive, secrets)
        rows.append({"key": name, "status": status, "value": shown, "via_authenticate": through_django})
    return rows
