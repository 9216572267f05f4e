from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend


class PinBackend(BaseBackend):
    """A second factor backend: it accepts ``pin``/``otp`` credentials and, for the tests, never logs in."""

    def authenticate(self, request: Any, username: str | None = None, pin: str | None = None, **kwargs: Any) -> None:
        return None

    def get_user(self, user_id: int) -> None:
        return None
