"""Models whose saves the redundant-save findings must not misjudge: a mutable value, a value ``pre_save``
sets, bytes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.text import slugify


class Record(models.Model):
    """A ``JSONField``: the value loaded is a dict that the view can change in place."""

    name = models.CharField(max_length=50)
    data = models.JSONField(default=dict)


class Stamped(models.Model):
    """An ``auto_now`` field: ``Field.pre_save`` sets it during the save, after ``pre_save`` is sent."""

    name = models.CharField(max_length=50)
    note = models.CharField(max_length=50, blank=True, default="")
    updated = models.DateTimeField(auto_now=True)


class SlugFromTitleField(models.SlugField):  # type: ignore[type-arg]
    """A field class of the kind third-party packages ship: its ``pre_save`` computes the value."""

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = slugify(model_instance.title)
        setattr(model_instance, self.attname, value)
        return value


class Article(models.Model):
    title = models.CharField(max_length=50)
    slug = SlugFromTitleField(max_length=50, blank=True)


class Blob(models.Model):
    """A ``BinaryField``: PostgreSQL reads ``bytea`` back as a ``memoryview``, SQLite as ``bytes``."""

    name = models.CharField(max_length=50)
    payload = models.BinaryField(null=True)
