from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property


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
    #: How many times ``__str__`` ran: the panel must never be the one running it.
    str_calls = 0

    def __str__(self) -> str:
        type(self).str_calls += 1
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


# -- the application's own code: patterns from real projects (tests/test_application_code.py) -------------
class Note(models.Model):
    """A row owned by a user, created as a view's first act: ``Note.objects.create(owner=request.user)``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text


class Ledger(models.Model):
    """A model tracked the way django-simple-history tracks one (see ``HistoricalLedger``)."""

    name = models.CharField(max_length=50)
    balance = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.balance}"


class HistoricalLedger(models.Model):
    """Shaped like django-simple-history's historical records: a copy of the tracked row's fields, and a
    ``__str__`` that builds an instance of the tracked model (so calling it sends ``pre_init``/``post_init``)."""

    history_id = models.AutoField(primary_key=True)
    id = models.IntegerField()
    name = models.CharField(max_length=50)
    balance = models.IntegerField(default=0)
    history_date = models.DateTimeField()

    def __str__(self) -> str:
        return "%s as of %s" % (self.instance, self.history_date)  # noqa: UP031 (as simple-history writes it)

    @property
    def instance(self) -> Ledger:
        return Ledger(id=self.id, name=self.name, balance=self.balance)


class Badge(models.Model):
    """A ``__str__`` served by a ``cached_property`` with a fallback when its query fails."""

    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.display

    @cached_property
    def display(self) -> str:
        try:
            return f"{self.name} ({Author.objects.count()} authors)"
        except Exception:
            return self.name
