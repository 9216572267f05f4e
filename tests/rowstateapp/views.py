"""Views that pickle and copy the instances they load, as a cache or a session would."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse

from tests.rowstateapp.models import Blob

#: The instances of the last request, for the test to pickle again once the request has ended.
kept: list[Any] = []


def pickled(instance: Any) -> str:
    try:
        return pickle.dumps(instance).hex()
    except Exception as error:
        return f"pickle raised {type(error).__name__}: {error}"


def deep_copied(instance: Any) -> str:
    try:
        copy.deepcopy(instance)
    except Exception as error:
        return f"deepcopy raised {type(error).__name__}: {error}"
    return "ok"


def pickle_loaded(request: HttpRequest) -> JsonResponse:
    """A user and a ``BinaryField`` row read back, and one built from a ``memoryview`` then saved (its value
    made ``bytes`` again before pickling, so the instance itself holds no memoryview)."""
    user = get_user_model().objects.get(username="pickled")
    loaded = Blob.objects.get(name="stored")
    Blob.objects.filter(name="built").delete()
    built = Blob(pk=1000, name="built", payload=memoryview(b"\x00\x01built"))
    built.save()
    built.payload = bytes(built.payload)  # type: ignore[arg-type]
    kept[:] = [user, loaded, built]
    return JsonResponse(
        {
            "pickled": [pickled(o) for o in kept],
            "deepcopy": [deep_copied(o) for o in kept],
            "vars": [sorted(vars(o)) for o in kept],
        }
    )
