"""AsyncDjangoApplication against Django's own WSGIHandler, request for request.

The same requests go through Django's stock ``WSGIHandler`` and through
``AsyncDjangoApplication`` (awaited on a real event loop with the real thread
pools), and must produce identical status, headers, cookies and bodies where
the view is the same. Coroutine views (``/async/...``) must answer exactly as
their sync twins (``/sync/...``) do under the stock handler.
"""

import asyncio
import io
import json
import re
import threading

import pytest
from django.contrib.auth.models import User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from async_app.handler import AsyncDjangoApplication, is_async_view
from tests.django_project import middleware as recording, views
from tests.django_project.settings import MIDDLEWARE as STANDARD_MIDDLEWARE
from tests.wsgi_client import AsyncAppClient, EventLoopThread, StockClient

RECORDING_MIDDLEWARE = [
    "tests.django_project.middleware.RecordingMiddleware",
    "tests.django_project.middleware.function_middleware",
    "tests.django_project.middleware.InnerRecordingMiddleware",
]
RANDOM_COOKIES = {"csrftoken", "sessionid", "messages"}


@pytest.fixture(scope="module")
def loop_thread():
    loop_thread = EventLoopThread()
    yield loop_thread
    loop_thread.close()


@pytest.fixture
def stock(django_db):
    return StockClient(WSGIHandler())


# (sync_fast_path, middleware_in_threads): every way the pipeline can run a request.
PIPELINE_MODES = {
    "fast path": (True, False),
    "coroutine pipeline": (False, False),
    "coroutine pipeline, hooks in threads": (False, True),
}


def configure(application, mode):
    application.sync_fast_path, application.middleware_in_threads = PIPELINE_MODES[mode]
    return application


@pytest.fixture(params=sorted(PIPELINE_MODES))
def app(request, django_db, loop_thread):
    """AsyncDjangoApplication in each pipeline mode."""
    return AsyncAppClient(configure(AsyncDjangoApplication(), request.param), loop_thread)


def normalize(response, async_path=False):
    """What must be equal between handlers: random tokens and dates masked."""
    body = re.sub(rb"value='[0-9A-Za-z]{64}'", b"value='<csrf>'", response.body)
    headers = []
    for name, value in response.headers:
        if name.lower() == "set-cookie":
            continue
        headers.append((name.lower(), value))
    cookies = {}
    for name, morsel in response.cookies().items():
        attributes = {k: v for k, v in morsel.items() if v and k != "expires"}
        cookies[name] = ("<random>" if name in RANDOM_COOKIES else morsel.value, attributes)
    result = (response.status, sorted(headers), cookies, body)
    if async_path:
        result = eval(repr(result).replace("/async/", "/sync/"))
    return result


PAIRED = [
    "hello",
    "template",
    "render",
    "language",
    "reverse",
    "echo",
    "404",
    "403",
    "400",
    "500",
    "none",
    "stream",
    "file",
    "protected",
    "message",
    "key_error",
    "template_title",
]


def first_visit(client, path):
    """A request from a new visitor (no cookies)."""
    client.cookies.clear()
    return client.get(path)


@pytest.mark.parametrize("name", PAIRED)
def test_same_response_as_wsgihandler(name, stock, app):
    expected = normalize(first_visit(stock, "/sync/%s/" % name))
    assert normalize(first_visit(app, "/sync/%s/" % name)) == expected
    assert normalize(first_visit(app, "/async/%s/" % name), async_path=True) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/generator/hello/",
        "/compat-generator/hello/",
        "/cbv/async/hello/",
        "/wrongly-judged/hello/",
    ],
)
def test_every_coroutine_view_kind_answers_like_the_sync_view(path, stock, app):
    expected = normalize(stock.get("/cbv/sync/hello/"))
    assert normalize(app.get(path)) == expected


def test_not_found_is_identical(stock, app):
    assert normalize(app.get("/no/such/page/")) == normalize(stock.get("/no/such/page/"))


def test_session_state_accumulates_identically(stock, app):
    for visits in (1, 2, 3):
        expected = stock.get("/sync/template/")
        assert b"visits: %d" % visits in expected.body
        assert normalize(app.get("/async/template/"), async_path=True) == normalize(expected)


def _csrf_form_token(client):
    page = client.get("/sync/form/")
    return re.search(rb"name='csrfmiddlewaretoken' value='([^']+)'", page.body).group(1).decode()


def test_csrf_rejects_missing_token_and_accepts_a_valid_one(stock, app):
    for path in ("/sync/form/", "/async/form/"):
        rejected = app.post(path, {"name": "ann"})
        assert normalize(rejected, True) == normalize(stock.post("/sync/form/", {"name": "ann"}))
        assert rejected.status_code == 403

    stock_token, app_token = _csrf_form_token(stock), _csrf_form_token(app)
    expected = stock.post("/sync/form/", {"name": "ann", "csrfmiddlewaretoken": stock_token})
    assert expected.status_code == 302 and expected.header("Location") == "/done/?name=ann"
    for path in ("/sync/form/", "/async/form/"):
        response = app.post(path, {"name": "ann", "csrfmiddlewaretoken": app_token})
        assert normalize(response, True) == normalize(expected)


def test_invalid_form_renders_errors_identically(stock, app):
    stock_token, app_token = _csrf_form_token(stock), _csrf_form_token(app)
    expected = stock.post("/sync/form/", {"name": "x" * 30, "csrfmiddlewaretoken": stock_token})
    assert b"at most 20 characters" in expected.body
    for path in ("/sync/form/", "/async/form/"):
        response = app.post(path, {"name": "x" * 30, "csrfmiddlewaretoken": app_token})
        assert normalize(response, True) == normalize(expected)


@pytest.fixture
def user_ann(django_db):
    """A user in the shared database (the handlers' pool threads can't see a test transaction)."""
    user = User.objects.create_user("handler-ann", password="secret")
    yield user
    user.delete()


def test_login_then_protected_views(stock, app, user_ann):
    for client in (stock, app):
        token = _csrf_form_token(client)
        login = client.post(
            "/login/",
            {"username": "handler-ann", "password": "secret", "csrfmiddlewaretoken": token},
        )
        assert login.status_code == 302
    expected = normalize(stock.get("/sync/protected/"))
    assert expected[3] == b"secret for handler-ann"
    assert normalize(app.get("/sync/protected/")) == expected
    assert normalize(app.get("/async/protected/"), True) == expected


def test_messages_survive_the_redirect(stock, app):
    for path in ("/sync/message/", "/async/message/"):
        redirect = app.get(path)
        assert normalize(redirect, True) == normalize(stock.get("/sync/message/"))
        page = app.get(redirect.header("Location"))
        assert normalize(page) == normalize(stock.get(redirect.header("Location")))
        assert b'<p class="message">saved</p>' in page.body


def test_script_name_prefixes_reverse(django_db, loop_thread):
    stock = StockClient(WSGIHandler(), script_name="/mount")
    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread, script_name="/mount")
    assert stock.get("/sync/reverse/").body == b"/mount/sync/hello/"
    assert app.get("/sync/reverse/").body == b"/mount/sync/hello/"
    assert app.get("/async/reverse/").body == b"/mount/sync/hello/"


def test_concurrent_requests_keep_their_own_script_prefix(django_db, loop_thread):
    """Django's thread-locals are context-locals now: requests sharing the loop don't mix."""
    application = AsyncDjangoApplication()
    clients = [AsyncAppClient(application, loop_thread, script_name="/m%d" % i) for i in range(50)]

    async def all_at_once():
        return await asyncio.gather(
            *(c.serve(c.environ("GET", "/async/reverse/")) for c in clients)
        )

    responses = loop_thread.run(all_at_once())
    assert [r.body for r in responses] == [b"/m%d/sync/hello/" % i for i in range(50)]


def test_sync_views_run_in_the_view_pool_not_on_the_loop(app):
    name = app.get("/thread-name/").body.decode()
    assert name.startswith("async_app-view"), name


# -- middleware parity ---------------------------------------------------------


def _events_for(client, path):
    """The response, and the hooks that ran with the types they were handed.

    django-wsgi's DjangoWSGIRequest (AsyncDjangoApplication's request class)
    is a WSGIRequest subclass: the name is normalized.
    """
    del recording.EVENTS[:]
    response = client.get(path)
    events = [
        (name, tuple("WSGIRequest" if t == "DjangoWSGIRequest" else t for t in types))
        for name, types in recording.EVENTS
    ]
    return response, events


@pytest.mark.parametrize(
    "query", ["", "?short=outer", "?short=inner"], ids=["through", "short-outer", "short-inner"]
)
@pytest.mark.parametrize("name", ["hello", "key_error", "template_title", "500", "404"])
def test_middleware_hooks_run_in_the_same_order(name, query, django_db, loop_thread):
    with override_settings(MIDDLEWARE=RECORDING_MIDDLEWARE + STANDARD_MIDDLEWARE):
        stock = StockClient(WSGIHandler())
        expected_response, expected_events = _events_for(stock, "/sync/%s/%s" % (name, query))
        assert expected_events, "the recording middleware did not run"
        application = AsyncDjangoApplication()
        for mode in sorted(PIPELINE_MODES):
            app = AsyncAppClient(configure(application, mode), loop_thread)
            for path in ("/sync/%s/%s" % (name, query), "/async/%s/%s" % (name, query)):
                response, events = _events_for(app, path)
                assert events == expected_events, (mode, path)
                assert normalize(response, True) == normalize(expected_response), (mode, path)


FUNCTION = "tests.django_project.middleware.function_middleware"
ASYNC_HOOKS = "tests.django_project.middleware.AsyncHookMiddleware"
OPAQUE_STACKS = {
    # name: (the stack served, the stack Django's stock handler is compared with)
    "opaque right above the view": (
        RECORDING_MIDDLEWARE[:1] + STANDARD_MIDDLEWARE + RECORDING_MIDDLEWARE[1:2],
        RECORDING_MIDDLEWARE[:1] + STANDARD_MIDDLEWARE + RECORDING_MIDDLEWARE[1:2],
    ),
    "two opaque in one run": (
        [FUNCTION] + RECORDING_MIDDLEWARE + STANDARD_MIDDLEWARE,
        [FUNCTION] + RECORDING_MIDDLEWARE + STANDARD_MIDDLEWARE,
    ),
    "a run below async hooks": (
        [ASYNC_HOOKS] + RECORDING_MIDDLEWARE + STANDARD_MIDDLEWARE,
        RECORDING_MIDDLEWARE + STANDARD_MIDDLEWARE,
    ),
}


@pytest.mark.parametrize("query", ["", "?short=inner"], ids=["through", "short-inner"])
@pytest.mark.parametrize("name", ["hello", "key_error", "500"])
@pytest.mark.parametrize("stack", sorted(OPAQUE_STACKS))
def test_runs_of_sync_middleware_around_opaque_ones_behave_as_djangos_chain(
    stack, name, query, django_db, loop_thread
):
    served, compared = OPAQUE_STACKS[stack]
    with override_settings(MIDDLEWARE=compared):
        expected_response, expected_events = _events_for(
            StockClient(WSGIHandler()), "/sync/%s/%s" % (name, query)
        )
    with override_settings(MIDDLEWARE=served):
        application = AsyncDjangoApplication()
    for mode in ("coroutine pipeline", "coroutine pipeline, hooks in threads"):
        app = AsyncAppClient(configure(application, mode), loop_thread)
        for path in ("/sync/%s/%s" % (name, query), "/async/%s/%s" % (name, query)):
            response, events = _events_for(app, path)
            events = [event for event in events if not event[0].startswith("async_hooks.")]
            assert events == expected_events, (mode, path)
            status, headers, cookies, body = normalize(response, True)
            headers = [header for header in headers if header[0] != "x-async-hook"]
            seen = (status, headers, cookies, body)
            assert seen == normalize(expected_response), (mode, path)
            assert (response.header("X-Async-Hook") == "yes") == (ASYNC_HOOKS in served)


def test_exception_middleware_answers_for_coroutine_views(django_db, loop_thread):
    with override_settings(MIDDLEWARE=RECORDING_MIDDLEWARE):
        app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
        response = app.get("/async/key_error/")
    assert response.status_code == 418
    assert response.body == b"handled by inner"
    assert response.header("X-Function-Middleware") == "yes"


def test_template_response_middleware_sees_coroutine_views_response(django_db, loop_thread):
    with override_settings(MIDDLEWARE=RECORDING_MIDDLEWARE):
        app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
        response = app.get("/async/template_title/")
    assert b"<title>via outer</title>" in response.body


def test_coroutine_middleware_hooks_are_awaited(django_db, loop_thread):
    stack = ["tests.django_project.middleware.AsyncHookMiddleware"] + RECORDING_MIDDLEWARE
    with override_settings(MIDDLEWARE=stack):
        app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
        for path in ("/async/hook-flag/", "/sync/hello/"):
            response, events = _events_for(app, path)
            assert response.status_code == 200
            assert response.header("X-Async-Hook") == "yes"
            names = [name for name, _ in events]
            assert names[:2] == ["async_hooks.request", "outer.request"]
            assert "async_hooks.view" in names
            assert names[-1] == "async_hooks.response"
    assert response.body == b"Hello world!"
    assert app.get("/async/hook-flag/").body == b"hook ran: True"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", ["hello", "key_error", "500", "template_title"])
def test_legacy_middleware_classes(name, django_db, loop_thread):
    with override_settings(
        MIDDLEWARE=None,
        MIDDLEWARE_CLASSES=[
            "tests.django_project.middleware.LegacyRecordingMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
        ],
    ):
        expected_response, expected_events = _events_for(
            StockClient(WSGIHandler()), "/sync/%s/" % name
        )
        application = AsyncDjangoApplication()
        for mode in sorted(PIPELINE_MODES):
            app = AsyncAppClient(configure(application, mode), loop_thread)
            for path in ("/sync/%s/" % name, "/async/%s/" % name):
                response, events = _events_for(app, path)
                assert events == expected_events, (mode, path)
                assert normalize(response, True) == normalize(expected_response), (mode, path)
    assert expected_response.header("X-Legacy") == "yes"


# -- views that don't look like coroutines ------------------------------------


def test_is_async_view_sees_through_wrappers():
    assert is_async_view(views.async_hello)
    assert is_async_view(views.generator_hello)
    assert is_async_view(views.async_protected)  # csrf_exempt(login_required(...))
    assert is_async_view(views.AsyncHelloView.as_view(), "GET")
    assert is_async_view(views.AsyncHelloView.as_view(), "HEAD")
    assert not is_async_view(views.sync_hello)
    assert not is_async_view(views.sync_protected)
    assert not is_async_view(views.SyncHelloView.as_view(), "GET")
    # FormView.post is sync; its async form_valid is awaited from the result.
    assert not is_async_view(views.AsyncNameFormView.as_view(), "POST")


# -- cancellation (a client that went away) ------------------------------------


@pytest.fixture
def finished_signals():
    received = []

    def receiver(sender, **kwargs):
        received.append(sender)

    signals.request_finished.connect(receiver)
    yield received
    signals.request_finished.disconnect(receiver)


def test_cancelled_coroutine_view_fires_request_finished_once(
    django_db, loop_thread, finished_signals
):
    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)

    async def cancel_midway():
        task = asyncio.ensure_future(app.serve(app.environ("GET", "/async/sleep/?delay=5")))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    loop_thread.run(cancel_midway())
    assert len(finished_signals) == 1


def test_cancelled_sync_view_fires_request_finished_once_when_it_ends(
    django_db, loop_thread, finished_signals
):
    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
    done = threading.Event()
    signals.request_finished.connect(lambda **kwargs: done.set(), weak=False, dispatch_uid="done")
    try:

        async def cancel_midway():
            task = asyncio.ensure_future(app.serve(app.environ("GET", "/sync/sleep/?delay=0.5")))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        loop_thread.run(cancel_midway())
        assert finished_signals == []  # the view is still running in its thread
        assert done.wait(5)
        assert len(finished_signals) == 1
    finally:
        signals.request_finished.disconnect(dispatch_uid="done")


def test_atomic_requests_refuses_coroutine_views_clearly(django_db, loop_thread, caplog):
    from django.db import connection

    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        assert app.get("/sync/hello/").status_code == 200
        response = app.get("/async/hello/")
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False
    assert response.status_code == 500
    assert "You cannot use ATOMIC_REQUESTS with async views." in caplog.text


@pytest.mark.parametrize("in_threads", [False, True])
def test_middleware_hooks_around_coroutine_views_run_where_configured(
    in_threads, django_db, loop_thread
):
    stack = ["tests.django_project.middleware.ThreadNameMiddleware"] + STANDARD_MIDDLEWARE
    with override_settings(MIDDLEWARE=stack, ASYNC_APP_MIDDLEWARE_IN_THREADS=in_threads):
        app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
        coroutine_view_hook = app.get("/async/hello/").header("X-Hook-Thread")
        sync_view_hook = app.get("/sync/hello/").header("X-Hook-Thread")
    if in_threads:
        assert coroutine_view_hook.startswith("async_app-bridge")
    else:
        assert coroutine_view_hook == loop_thread.thread.name
    # A sync view's whole pipeline runs in the view pool, as gthread would run it.
    assert sync_view_hook.startswith("async_app-view")


def test_middleware_in_threads_set_after_loading_moves_the_hooks(django_db, loop_thread):
    stack = ["tests.django_project.middleware.ThreadNameMiddleware"] + STANDARD_MIDDLEWARE
    with override_settings(MIDDLEWARE=stack):
        application = AsyncDjangoApplication()
        application.middleware_in_threads = True
        app = AsyncAppClient(application, loop_thread)
        assert app.get("/async/hello/").header("X-Hook-Thread").startswith("async_app-bridge")


def test_each_request_gets_its_own_resolver_match(django_db, loop_thread):
    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
    for _ in range(2):
        assert json.loads(app.get("/async/kwargs/ann/").body.decode()) == {"name": "ann"}


def test_a_new_root_urlconf_is_honoured(django_db, loop_thread):
    app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)
    assert app.get("/async/hello/").body == b"Hello world!"
    with override_settings(ROOT_URLCONF="tests.django_project.urls_alt"):
        assert app.get("/async/hello/").body == b"alternative urlconf"
    assert app.get("/async/hello/").body == b"Hello world!"


def test_cancelled_request_cancels_the_coroutine_view_below_a_function_middleware(
    django_db, loop_thread
):
    # Found by the soak (docs/soak.md): a function middleware's __call__ runs
    # in a bridge thread that waits for the coroutine chain below it; when the
    # client goes away, that chain must be cancelled too, not left to run.
    stack = ["tests.django_project.middleware.function_middleware"] + STANDARD_MIDDLEWARE
    with override_settings(MIDDLEWARE=stack):
        app = AsyncAppClient(AsyncDjangoApplication(), loop_thread)

        async def cancel_midway():
            task = asyncio.ensure_future(app.serve(app.environ("GET", "/async/sleep/?delay=5")))
            await asyncio.sleep(0.3)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            me = asyncio.current_task()
            for _ in range(40):  # up to 2 s; the view would sleep on for 4.7 s
                left = [t for t in asyncio.all_tasks() if t is not me]
                if not left:
                    break
                await asyncio.sleep(0.05)
            return left

        assert loop_thread.run(cancel_midway()) == []


def _body_environ(body, **extra):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": io.StringIO(),
    }
    environ.update(extra)
    return environ


class _Unseekable(io.RawIOBase):
    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._data.readinto(buffer)


# name -> (wsgi.input factory, extra environ): what the worker and other servers hand over.
BODY_CASES = {
    "no body, input terminated (the worker's GET)": (
        lambda: io.BytesIO(),
        {"wsgi.input_terminated": True},
    ),
    "no Content-Length, input terminated": (
        lambda: io.BytesIO(b"a=1"),
        {"wsgi.input_terminated": True},
    ),
    "no Content-Length, not terminated": (lambda: io.BytesIO(b"a=1"), {}),
    "Content-Length": (lambda: io.BytesIO(b"a=1&b=2"), {"CONTENT_LENGTH": "7"}),
    "Content-Length, unseekable input": (lambda: _Unseekable(b"a=1&b=2"), {"CONTENT_LENGTH": "7"}),
    "already declared seekable": (
        lambda: io.BytesIO(b"a=1"),
        {"CONTENT_LENGTH": "3", "webob.is_body_seekable": True},
    ),
}


@pytest.mark.parametrize("name", sorted(BODY_CASES))
def test_request_body_and_meta_as_django_wsgi_leaves_them(name):
    """The pipeline's shortcut leaves body and META as django-wsgi's WebOb copy does."""
    from django_wsgi.handler import DjangoWSGIRequest

    make_input, extra = BODY_CASES[name]
    content_type = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}
    theirs = DjangoWSGIRequest(_body_environ(make_input(), **dict(extra, **content_type)))
    ours = AsyncDjangoApplication()._make_request(
        _body_environ(make_input(), **dict(extra, **content_type))
    )
    assert type(ours) is DjangoWSGIRequest
    assert ours.META.get("CONTENT_LENGTH") == theirs.META.get("CONTENT_LENGTH")
    assert ours.META.get("webob.is_body_seekable") == theirs.META.get("webob.is_body_seekable")
    assert ours.body == theirs.body
    assert ours.POST.dict() == theirs.POST.dict()
    assert ours.webob.body == theirs.webob.body
