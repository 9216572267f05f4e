"""Views each firing a known set of signals, for the tests."""

from __future__ import annotations

from django.contrib.auth import aauthenticate, authenticate, get_user_model, login, logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse

from tests.testapp.models import ArchivedNote, Author, Book, Quiet, Tag

PAGE = "<!DOCTYPE html><html><head><title>t</title></head><body><p>{}</p></body></html>"


def page(text: object = "ok") -> HttpResponse:
    return HttpResponse(PAGE.format(text))


def nothing(request: HttpRequest) -> HttpResponse:
    return page()


def create_then_update(request: HttpRequest) -> HttpResponse:
    author = Author(name="Ann")
    author.save()
    author.name = "Ann Leckie"
    author.save(update_fields=["name"])
    return page(author.pk)


def archive(request: HttpRequest) -> HttpResponse:
    note = ArchivedNote.objects.create(text="kept elsewhere")
    return page(note.pk)


def delete_cascade(request: HttpRequest) -> HttpResponse:
    author = Author.objects.create(name="Doomed")
    Book.objects.create(title="One", author=author)
    Book.objects.create(title="Two", author=author)
    author.delete()
    return page()


def m2m(request: HttpRequest) -> HttpResponse:
    author = Author.objects.create(name="Tagger")
    book = Book.objects.create(title="Tagged", author=author)
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    book.tags.add(red, blue)
    book.tags.remove(red)
    book.tags.clear()
    return page()


def load_many(request: HttpRequest) -> HttpResponse:
    return page(len(list(Author.objects.all())))


def log_in(request: HttpRequest) -> HttpResponse:
    user = authenticate(request, username="alice", password="wonderland")
    login(request, user)
    return page(user)


def log_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return page()


#: What a login form with a second factor posts; kept out of the calling line so stack traces (which show
#: source lines) cannot be where a secret leaks from.
FAILED_CREDENTIALS = {
    "username": "alice",
    "password": "wrong-password-123",
    "pin": "p1n-4921",
    "otp_code": "otp-771234",
}


def failed_login(request: HttpRequest) -> HttpResponse:
    authenticate(request, **FAILED_CREDENTIALS)
    return page()


def direct_failed_login(request: HttpRequest) -> HttpResponse:
    """Code that bypasses authenticate(): Django masks nothing."""
    user_login_failed.send(
        sender="tests.sso",
        credentials={"username": "bob", "password": "hunter2-clear", "Authorization": "Bearer s3cr3t-t0ken"},
        request=request,
    )
    return page()


async def async_create(request: HttpRequest) -> HttpResponse:
    author = await Author.objects.acreate(name="Async Ann")
    author.name = "Async Ann 2"
    await author.asave()
    await aauthenticate(request, username="alice", password="nope-async")
    return page(author.pk)


def quiet_work(request: HttpRequest) -> HttpResponse:
    quiet = Quiet.objects.create(name="q")
    tag = Tag.objects.create(name="t")
    quiet.tags.add(tag)
    Quiet.objects.filter(pk=quiet.pk).delete()
    return page()


def make_user() -> None:
    get_user_model().objects.create_user("alice", password="wonderland")
