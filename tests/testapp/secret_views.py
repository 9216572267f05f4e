"""Views for the secrets and store-encoding tests: hostile keys, request-likes, credential models, echoes."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.db import models
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.test.utils import isolate_apps
from django.urls import path

from tests.testapp.models import Author
from tests.testapp.trust_views import odd_values
from tests.testapp.views import page

#: Keys djdt's store decoder (7.0+) reads as its own markers, a key that looks like our escaped form, and
#: values that are not valid base64, so a misread key fails to decode rather than passing unnoticed.
HOSTILE_KEYS = ["__djdt_binary__", "__djdt_postgis__", "\\__djdt_binary__", "__dunder__", "\\"]
HOSTILE = dict.fromkeys(HOSTILE_KEYS, "not base64 ~!")
#: Valid base64: misread, it would come back as bytes.
HOSTILE_B64 = {"__djdt_binary__": "aGVsbG8=", "is_geometry": True}
#: Text that cannot be encoded as UTF-8: a page that renders the panel inline could not be sent.
LONE_SURROGATE = "half \ud800 pair"


def hostile_keys(request: HttpRequest) -> HttpResponse:
    with contextlib.suppress(TypeError):
        Author(**HOSTILE)  # pre_init is sent with these kwargs before Django rejects them
    odd_values.send(sender=None, payload=HOSTILE, other=HOSTILE_B64, nested={"a": [HOSTILE]}, **HOSTILE)
    odd_values.send(sender=None, surrogate=LONE_SURROGATE, **{LONE_SURROGATE: 1})
    user_login_failed.send(sender=__name__, credentials={"username": HOSTILE, **HOSTILE}, request=request)
    return page()


class WrappedRequest:
    """What Django REST framework's ``Request`` looks like from outside: the ``HttpRequest`` in ``_request``,
    everything else delegated, and a ``str()`` that names the full URL with its query string."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def __str__(self) -> str:
        return f"<Request {self._request.get_full_path()}>"

    def __repr__(self) -> str:
        return str(self)


def request_like(request: HttpRequest) -> HttpResponse:
    """A ``login()`` of an API view: the request argument is a wrapper."""
    wrapped: Any = WrappedRequest(request)
    try:
        from rest_framework.request import Request

        wrapped_by_drf: Any = Request(request)
    except ImportError:  # pragma: no cover - djangorestframework is in the test group
        wrapped_by_drf = wrapped
    user_login_failed.send(sender=__name__, credentials={"username": "alice"}, request=wrapped)
    user_login_failed.send(sender=__name__, credentials={"username": "alice"}, request=wrapped_by_drf)
    odd_values.send(sender=None, request=wrapped, context={"request": wrapped_by_drf})
    return page()


#: A one-time code that a receiver quotes in its exception.
OTP = "48213x"
#: A longer secret, sent under a sensitive argument name and echoed by the receiver's error.
API_SECRET = "s3kr1t-echo-value-0042"


def echo_receiver(sender: Any, credentials: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Raises with the one-time code in its message, as ``int(credentials["otp"])`` does."""
    if credentials is not None:
        int(credentials["otp"])
    # The last clause echoes a value masked in another event of the request (the failed login's code).
    raise ValueError(f"bad signature {kwargs.get('signature')!r} for {kwargs.get('note')}; after otp {OTP}")


def echoes(request: HttpRequest) -> HttpResponse:
    user_login_failed.send_robust(sender=__name__, credentials={"username": "alice", "otp": OTP}, request=request)
    odd_values.send_robust(sender=None, signature=API_SECRET, note=f"note that quotes {API_SECRET}")
    return page()


#: A token model's key, as Django REST framework's ``authtoken.Token`` keeps it (the pk, named ``key``).
TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


def token_model(request: HttpRequest) -> HttpResponse:
    """A token row saved twice, sent as Django sends a save: the redundant-save finding names its pk."""
    with isolate_apps("tests.testapp"):

        class ApiToken(models.Model):
            key = models.CharField(primary_key=True, max_length=40)
            name = models.CharField(max_length=40)

            class Meta:
                app_label = "testapp"

            def __str__(self) -> str:
                return self.key

        token = ApiToken(key=TOKEN, name="ci")
        for created in (True, False):
            post_save.send(
                sender=ApiToken, instance=token, created=created, update_fields=None, raw=False, using="default"
            )
        # A token passed under a name that is not sensitive, beside a text that quotes its key.
        odd_values.send(sender=None, row=token, note=f"issued {TOKEN}")
    return page()


#: Sent under names the sensitive list covers only since the list grew, and under names whose sensitive
#: part lies past the 60 characters a key is clipped to for display.
NEW_NAMES = {
    "jwt": "jwt-eyJhbGciOi",
    "bearer": "bearer-abc987",
    "hmac": "hmac-f00d42",
    "nonce": "nonce-77aa",
    "salt": "salt-5e5e5e",
}
LONG_KEY = "x" * 70 + "_password"
LONG_VALUE = "long-key-secret-31337"


def sensitive_names(request: HttpRequest) -> HttpResponse:
    odd_values.send(sender=None, extra={**NEW_NAMES, LONG_KEY: LONG_VALUE}, **NEW_NAMES)
    user_login_failed.send(sender=__name__, credentials={"username": "alice", LONG_KEY: LONG_VALUE, **NEW_NAMES})
    return page()


urlpatterns = [
    path("token/", token_model),
    path("names/", sensitive_names),
    path("hostile-keys/", hostile_keys),
    path("request-like/", request_like),
    path("echoes/", echoes),
]
