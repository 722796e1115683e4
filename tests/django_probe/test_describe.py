"""How kwargs and values are described: no queries, redaction, bounds, lazy objects."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import connection
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext

from django_probe.describe import REDACTED, Describer
from tests.django_probe.support import dispatches
from tests.django_probe.testapp.models import Author


@pytest.mark.django_db
def test_kwargs_summary_never_queries_or_loads_deferred_fields(probe):
    author = Author.objects.create(name="Ann")
    deferred = Author.objects.only("id").get(pk=author.pk)
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    with CaptureQueriesContext(connection) as ctx:
        signal.send(sender=Author, instance=deferred, created=True, update_fields=None,
                    books=Author.objects.all(), raw=b"\x00\x01")
    assert ctx.captured_queries == []
    assert "name" not in deferred.__dict__  # still deferred
    kwargs = probe.events[-1].kwargs
    assert kwargs["instance"] == f"testapp.Author pk={author.pk}"
    assert kwargs["created"] == "True"
    assert kwargs["update_fields"] == "None"
    assert kwargs["books"] == "<QuerySet testapp.Author>"
    assert kwargs["raw"] == "<bytes len=2>"


def test_secrets_are_redacted():
    d = Describer(extra_pattern="PIN")
    out = d.kwargs({"password": "hunter2", "api_key": "k", "sessionid": "s", "csrftoken": "c",
                    "user_pin": "1234", "credentials": {"username": "bob", "password": "x"},
                    "data": {"token": "t", "ok": 1}, "name": "bob"})
    for key in ("password", "api_key", "sessionid", "csrftoken", "user_pin", "credentials"):
        assert out[key] == REDACTED, key
    assert out["data"] == f"{{'token': {REDACTED}, 'ok': 1}}"
    assert out["name"] == "'bob'"
    long = d.value("x" * 1000)
    assert len(long) <= d.max_len


def test_kwargs_summaries_are_bounded_and_agree_with_value_for_every_kind():
    d = Describer(max_len=40, max_items=4)
    named = {"created": True, "raw": False, "update_fields": None, "big": 10**300}
    out = d.kwargs(named)
    assert out == {key: d.value(value) for key, value in named.items()}
    assert out["created"] == "True" and out["update_fields"] == "None"
    assert len(out["big"]) == 40 and out["big"].endswith("…")  # a huge int is cut too
    many = d.kwargs({f"k{i}": i for i in range(7)})
    assert list(many) == ["k0", "k1", "k2", "k3", "…"] and many["…"] == "3 more"


def test_value_branches_are_remembered_per_class_without_keeping_classes_alive():
    d = Describer()

    class FakeMeta:
        label = "fake.Thing"
        pk = type("Pk", (), {"attname": "id"})()

    def make(name, bases=(), **attrs):
        return type(name, bases, attrs)

    # A class with _meta: its instances are described as models only if they have _state.
    Thing = make("Thing", _meta=FakeMeta())
    saved, unsaved, plain = Thing(), Thing(), Thing()
    saved.__dict__.update(_state=object(), id=7)
    unsaved.__dict__.update(_state=object())
    assert [d.value(x) for x in (saved, unsaved, plain)] == [
        "fake.Thing pk=7", "fake.Thing (unsaved)", f"<{__name__}.{Thing.__qualname__}>"]
    # The same answer on a cache hit, and per class: a dict subclass by its size only
    # (its methods may be the app's; tests/django_probe/test_describe_safety_values.py).
    assert d.value(saved) == "fake.Thing pk=7"
    Mapping = make("Mapping", (dict,))
    assert d.value(Mapping(a=1)) == "<Mapping len=1>"
    # Only weak references are kept: a class created at run time can be collected.
    Temp = make("Temp")
    d.value(Temp())
    ref = weakref.ref(Temp)
    del Temp
    gc.collect()
    assert ref() is None


def test_request_environ_and_scope_are_summarised_by_their_request_line():
    d = Describer()
    secret = "sessionid=abcdef0123456789"
    environ = {"HTTP_COOKIE": secret, "REQUEST_METHOD": "POST", "PATH_INFO": "/login/",
               "HTTP_AUTHORIZATION": "Bearer t0ken", "wsgi.input": object()}
    scope = {"type": "http", "method": "GET", "path": "/articles/",
             "headers": [(b"cookie", secret.encode())]}
    out = d.kwargs({"environ": environ, "scope": scope})
    assert out == {"environ": "<WSGI environ POST /login/ (5 keys)>",
                   "scope": "<ASGI http scope GET /articles/>"}
    # Anything else that merely looks similar is summarised key by key as before.
    assert d.value({"PATH_INFO": 3, "REQUEST_METHOD": "GET"}) == (
        "{'PATH_INFO': 3, 'REQUEST_METHOD': 'GET'}")
    assert d.value({"type": "lifespan", "path": "/"}) == "{'type': 'lifespan', 'path': '/'}"


@pytest.mark.django_db
def test_login_failed_credentials_never_leave_the_process(probe):
    seen = []
    from django.contrib.auth.signals import user_login_failed

    def on_failed(sender, credentials, **kwargs):
        seen.append(credentials)

    user_login_failed.connect(on_failed)
    try:
        User.objects.create_user("bob", password="right-password")
        assert authenticate(username="bob", password="wrong-password-123") is None
    finally:
        user_login_failed.disconnect(on_failed)
    assert seen
    (event,) = dispatches(probe.events, "user_login_failed")
    assert "wrong-password-123" not in repr(event)
    assert event.kwargs["credentials"] == REDACTED


def test_lazy_objects_are_never_evaluated(probe, monkeypatch):
    import sys
    import types

    from django.utils.functional import SimpleLazyObject
    from django.utils.translation import gettext_lazy

    evaluations: list[str] = []
    # A module holding a lazy object (like django.contrib.staticfiles.storage does); made
    # here because pytest's collection itself would evaluate one in a test module.
    module = types.ModuleType("lazy_module_for_probe_test")
    module.storage = SimpleLazyObject(lambda: evaluations.append("module") or object())
    monkeypatch.setitem(sys.modules, module.__name__, module)

    lazy_user = SimpleLazyObject(lambda: evaluations.append("kwarg") or "user")
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    signal.send(sender=None, user=lazy_user, label=gettext_lazy("Hello"))
    probe.registry.scan()  # names signals by walking every module attribute
    probe.watcher.snapshot()
    assert evaluations == []
    assert probe.events[-1].kwargs == {"user": "<SimpleLazyObject (not evaluated)>",
                                       "label": "<lazy __proxy__>"}
    str(lazy_user)  # once the app evaluates it, its value may be described
    signal.send(sender=None, user=lazy_user)
    assert probe.events[-1].kwargs == {"user": "'user'"}
