from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, blank=True, related_name="books")
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    def __str__(self) -> str:
        # Touches the foreign key: labelling must not run this query.
        return f"{self.title} by {self.author}"


class ArchivedNote(models.Model):
    """Routed to the ``other`` database."""

    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text


class Quiet(models.Model):
    """A model with no receivers at all: Django's fast paths must stay fast with the panel on."""

    name = models.CharField(max_length=50)
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")


class QuietChild(models.Model):
    parent = models.ForeignKey(Quiet, on_delete=models.CASCADE, related_name="children")


class Hostile(models.Model):
    """Its ``__str__`` misbehaves in a way chosen per instance."""

    mode = models.CharField(max_length=20, default="ok")

    def __str__(self) -> str:
        if self.mode == "raise":
            raise ValueError("no string for you")
        if self.mode == "html":
            return "<script>alert('x')</script>"
        if self.mode == "huge":
            return "x" * 5_000_000
        if self.mode == "recurse":
            return str(self)
        if self.mode == "query":
            return f"{Author.objects.count()} authors"
        return f"hostile {self.pk}"


class ProxyAuthor(Author):
    class Meta:
        proxy = True


class Novelist(Author):
    """Multi-table inheritance: saving a Novelist saves its Author parent row without parent signals."""

    genre = models.CharField(max_length=50, default="fiction")


class Bare(models.Model):
    """No relations and no receivers: deleting one must stay a single DELETE with the panel recording."""

    name = models.CharField(max_length=50)


class LegacyAuthor(models.Model):
    """Unmanaged: Django never creates its table; it reads and writes the author table."""

    name = models.CharField(max_length=100)

    class Meta:
        managed = False
        db_table = "testapp_author"

    def __str__(self) -> str:
        return f"legacy {self.name}"
