"""A second-factor authentication backend, as some sites have one: it takes ``otp`` and ``pin`` besides the
username and password. Django masks only credential names matching ``api|token|key|secret|password|signature``,
so ``otp`` and ``pin`` reach ``user_login_failed`` receivers in clear; the panel flags them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied

#: The demo's one valid second factor. Any other value is refused.
DEMO_OTP = "000000"
DEMO_PIN = "0000"


class SecondFactorBackend(BaseBackend):
    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        otp: str | None = None,
        pin: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if otp is None and pin is None:
            return None  # not a second-factor login: let ModelBackend handle it
        if otp != DEMO_OTP or pin != DEMO_PIN:
            # Stops authenticate() at once (no other backend is tried) and sends user_login_failed.
            raise PermissionDenied("wrong second factor")
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user: Any) -> bool:
        return bool(getattr(user, "is_active", True))

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            return user_model._default_manager.get(pk=user_id)
        except user_model.DoesNotExist:
            return None
