"""The coroutine pipeline under a real gunicorn: disconnects, ``request.urlconf``, async render.

One server, five middleware stacks (tests/apps/pipeline_settings.py; a
request's ``X-Stack`` header picks one): the usual ``MiddlewareMixin`` seven
(fused), plus a function-style middleware (on the greenlet bridge), that in
the bridge pool (``ASYNC_APP_MIDDLEWARE_IN_THREADS``), plus a middleware with
an ``async def`` hook (layered), and the same classes as ``MIDDLEWARE_CLASSES``.
"""

import asyncio
import os
import time
from urllib.request import Request, urlopen

import pytest
from django.conf.urls import url
from django.http import HttpResponse
from django.utils.deprecation import MiddlewareMixin

from tests.gunicorn_fixture import GunicornServer

STACKS = ["mixins", "function", "function-threads", "async-hooks", "legacy"]


class StackServer:
    """The one server, as seen by requests for one stack (an ``X-Stack`` header)."""

    def __init__(self, server, stack):
        self.server = server
        self.stack = stack
        self.env = server.env

    def connect(self):
        return self.server.connect()

    def request(self, path):
        return Request(self.server.url(path), headers={"X-Stack": self.stack})


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    events_path = os.path.join(str(tmp_path_factory.mktemp("pipeline")), "events.txt")
    server = GunicornServer(
        "tests.apps.pipeline_wsgi:application", threads=4, env={"WORKER_APPS_EVENTS": events_path}
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=STACKS)
def server(request, gunicorn):
    return StackServer(gunicorn, request.param)


def events(server):
    path = server.env["WORKER_APPS_EVENTS"]
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def signals_of(log):
    return [event.split(":") for event in log if event.startswith(("started:", "finished:"))]


def settled(server):
    """How many events there are once every earlier request has finished."""

    def balanced():
        kinds = [kind for kind, _, _ in signals_of(events(server))]
        return kinds.count("started") == kinds.count("finished")

    assert wait_for(balanced, timeout=5), events(server)
    return len(events(server))


def get(server, path):
    with urlopen(server.request(path), timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def disconnect_during(server, path, name):
    """Request ``path``, hang up once the view runs; return the events that request added."""
    name = "%s-%s" % (name, server.stack)
    before = settled(server)
    sock = server.connect()
    head = "GET %s?s=10&name=%s HTTP/1.1\r\nHost: x\r\nX-Stack: %s\r\n\r\n" % (
        path,
        name,
        server.stack,
    )
    sock.sendall(head.encode())
    assert wait_for(lambda: "entered-" + name in events(server), timeout=5), events(server)[before:]
    time.sleep(0.1)  # the view is in its sleep
    sock.close()
    assert wait_for(lambda: "finally-" + name in events(server), timeout=5), events(server)[before:]
    wait_for(lambda: len(signals_of(events(server)[before:])) >= 2, timeout=3)
    time.sleep(0.3)  # a second request_finished would come now
    return events(server)[before:]


def assert_cancelled_and_finished_once(log, name):
    assert log.count("cancelled-" + name) == 1, log
    signals = signals_of(log)
    assert [kind for kind, _, _ in signals] == ["started", "finished"], log
    (_, started_by, started_in), (_, finished_by, finished_in) = signals
    assert started_by == finished_by == "AsyncDjangoApplication", log
    assert started_in == finished_in, "request_started and request_finished on different threads"


def test_disconnect_cancels_a_coroutine_view(server):
    log = disconnect_during(server, "/async-cancel/", "plain")
    assert_cancelled_and_finished_once(log, "plain-" + server.stack)


def test_disconnect_cancels_a_coroutine_view_routed_by_request_urlconf(server):
    log = disconnect_during(server, "/routed/cancel/", "routed")
    assert_cancelled_and_finished_once(log, "routed-" + server.stack)


@pytest.mark.parametrize("path", ["/async-render/", "/routed/render/"])
def test_async_render_is_awaited(server, path):
    status, headers, body = get(server, path + "?name=ann")
    assert (status, body) == (200, "rendered ann")
    assert (
        headers["X-Frame-Options"] == "SAMEORIGIN"
    )  # the response phase saw the rendered response
    if server.stack.startswith("function"):
        assert headers["X-Stamp"] == "function"
    if server.stack == "async-hooks":
        assert headers["X-Stamp"] == "async hook"


@pytest.mark.parametrize("path", ["/sync/hello/", "/async/hello/"])
def test_every_request_signals_on_one_thread_with_the_application_as_sender(server, path):
    before = settled(server)
    status, headers, body = get(server, path)
    assert status == 200 and body.endswith("hello")
    assert wait_for(lambda: len(signals_of(events(server)[before:])) == 2, timeout=3)
    (_, started_by, started_in), (_, finished_by, finished_in) = signals_of(events(server)[before:])
    assert started_by == finished_by == "AsyncDjangoApplication"
    assert started_in == finished_in


class NeitherSyncNorAsync:
    """A middleware that declares it can run neither way (Django 3.1 refuses it)."""

    sync_capable = False
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def test_load_middleware_refuses_a_middleware_that_is_neither_sync_nor_async():
    from django.test import override_settings

    from async_app.handler import AsyncDjangoApplication

    path = __name__ + ".NeitherSyncNorAsync"
    with override_settings(MIDDLEWARE=[path]):
        with pytest.raises(RuntimeError) as raised:
            AsyncDjangoApplication()
    assert str(raised.value) == (
        "Middleware %s must have at least one of sync_capable/async_capable set to True." % path
    )


class SyncOnly:
    """A middleware with Django's default flags: sync only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class SyncOnlyToo(SyncOnly):
    """Another sync-only middleware."""


@pytest.mark.parametrize("is_async,debug", [(True, True), (False, True), (True, False)])
def test_load_middleware_logs_django_5_2s_adaptations_for_async_callers_under_debug(
    is_async, debug, caplog
):
    import logging

    from django.test import override_settings

    from async_app.handler import AsyncDjangoApplication

    outer, inner = __name__ + ".SyncOnlyToo", __name__ + ".SyncOnly"
    with override_settings(MIDDLEWARE=[outer, inner], DEBUG=debug):
        with caplog.at_level(logging.DEBUG, logger="django.request"):
            AsyncDjangoApplication(is_async=is_async)
    # As Django 5.2's ASGIHandler: once, for the middleware right above the
    # async handler; a sync caller's chain (the sync test client) adapts none.
    expected = (
        ["Asynchronous handler adapted for middleware %s." % inner] if is_async and debug else []
    )
    assert caplog.messages == expected


# Views for the pipeline tests below (ROOT_URLCONF = this module).
_stray = []


async def _hello(*args):
    return HttpResponse("hello")


def _wrongly_judged(request):
    """Looks sync (no ``__wrapped__``), returns a coroutine view's coroutine."""
    return _hello(request)


def _returns_stray_coroutine(request):
    _stray.append(asyncio.sleep(0))
    return _stray[-1]


urlpatterns = [
    url(r"^wrongly-judged/$", _wrongly_judged),
    url(r"^stray/$", _returns_stray_coroutine),
]


class CoroutineViewHook(MiddlewareMixin):
    """A middleware with an ``async def process_view`` (the pipeline's hook-by-hook path)."""

    async def process_view(self, request, view, args, kwargs):
        return None


# Django's sync chain (fast path), the coroutine pipeline (the view in the view
# pool, then Django's _get_response), the hook-by-hook pipeline.
@pytest.mark.parametrize(
    "fast_path,middleware", [(True, []), (False, []), (False, [__name__ + ".CoroutineViewHook"])]
)
def test_a_view_judged_sync_returning_a_coroutine(fast_path, middleware):
    from django.test import Client, override_settings

    from async_app.testing import AsyncClientHandler

    client = Client()
    client.handler = AsyncClientHandler(enforce_csrf_checks=False)
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=middleware):
        client.handler.application.sync_fast_path = fast_path
        assert client.get("/wrongly-judged/").content == b"hello"
        with pytest.raises(ValueError) as raised:
            client.get("/stray/")
    for coroutine in _stray:
        coroutine.close()
    assert str(raised.value) == (
        "The view tests.test_core._returns_stray_coroutine didn't return an HttpResponse object. "
        "It returned an unawaited coroutine instead. You may need to add an 'await' into your view."
    )
