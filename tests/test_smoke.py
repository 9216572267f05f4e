from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_create_then_update(visit):
    opened = visit("/create/")
    print(opened.stats)
    print(opened.content[:3000])
    assert [e["args"]["created"] for e in opened.events("post_save")] == [True, False]
