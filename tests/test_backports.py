"""async_app.backports beyond Django's own ported tests (tests/django5/).

What is async_app's and not Django's: the switch, the mixed-view warning,
sync behaviour left alone, the a-methods running in the view pool, and
the backported names working through the real pipeline.
"""

import asyncio
import os
import sys
import threading
import warnings

import pytest
from django.conf.urls import url
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.utils.decorators import async_only_middleware
from django.utils.deprecation import MiddlewareMixin
from django.views.debug import technical_500_response
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST
from django.views.generic import View

from async_app.backports.views import MixedHandlersWarning
from async_app.sync import run_until_complete
from async_app.testing.client import AsyncClient
from tests.django5.models import SimpleModel

pytest_plugins = ["async_app.testing.pytest_plugin"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AsyncItemView(View):
    async def get(self, request):
        return HttpResponse("item")

    async def post(self, request):
        return HttpResponse("posted")


@csrf_exempt
async def exempt_post(request):
    return HttpResponse("exempt")


@csrf_protect
async def protected_post(request):
    return HttpResponse("protected")


@require_POST
async def post_only(request):
    return HttpResponse("post only")


@login_required
async def members_only(request):
    user = await request.auser()
    return HttpResponse(user.username)


def thread_name(request):
    return HttpResponse(threading.current_thread().name)


def missing(request):
    raise Http404("missing")


@async_only_middleware
def async_header_middleware(get_response):
    async def middleware(request):
        response = await get_response(request)
        response["X-Async"] = threading.current_thread().name
        return response

    return middleware


class CoroutineViewHookMiddleware(MiddlewareMixin):
    async def process_view(self, request, view, args, kwargs):
        return HttpResponse("from the hook")


@sensitive_variables("secret")
async def sensitive_view(request):
    secret, public = str(7**23), str(11**17)  # values that the source lines do not show
    raise ValueError("declined after %d digits" % len(secret + public))


urlpatterns = [
    url(r"^sensitive/$", sensitive_view),
    url(r"^thread/$", thread_name),
    url(r"^missing/$", missing),
    url(r"^item/$", AsyncItemView.as_view()),
    url(r"^exempt/$", exempt_post),
    url(r"^protected/$", protected_post),
    url(r"^post-only/$", post_only),
    url(r"^members/$", members_only),
]

pytestmark = pytest.mark.usefixtures("django_db")


PROBE = (
    "import async_app, django; django.setup(); "
    "from django.db.models.query import QuerySet; from django.contrib import auth; "
    "print(hasattr(QuerySet, 'aget'), hasattr(auth, 'alogin'))"
)


@pytest.mark.parametrize(
    "value, expected", [("0", "False False"), ("off", "False False"), ("1", "True True")]
)
def test_environment_switch(value, expected, run_python):
    result = run_python(PROBE, ASYNC_APP_DJANGO5_API=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_as_view_of_a_mixed_view_warns_with_djangos_message_and_view_is_async_raises():
    class MixedView(View):
        def get(self, request):
            return HttpResponse()

        async def post(self, request):
            return HttpResponse()

    message = "%s HTTP handlers must either be all sync or all async." % MixedView.__qualname__
    with pytest.warns(MixedHandlersWarning) as record:
        view = MixedView.as_view()
    assert message in str(record[0].message)
    assert record[0].filename == __file__
    assert callable(view)
    with pytest.raises(ImproperlyConfigured) as raised:
        MixedView.view_is_async
    assert str(raised.value) == message


def test_old_style_middleware_mixin_stays_sync():
    class Old(MiddlewareMixin):
        def process_request(self, request):
            return HttpResponse("old")

    middleware = Old()  # MIDDLEWARE_CLASSES style: no get_response
    assert middleware.async_mode is False
    assert middleware(object()).content == b"old"


def test_orm_a_methods_run_in_the_view_pool_outside_tests():
    seen = []

    def record(sender, instance, **kwargs):
        seen.append(threading.current_thread().name)

    from django.db.models.signals import post_save

    post_save.connect(record, sender=SimpleModel)
    try:

        async def main():
            obj = await SimpleModel.objects.acreate(field=7)
            count = await SimpleModel.objects.filter(field=7).acount()
            rows = [o.field async for o in SimpleModel.objects.filter(pk=obj.pk)]
            await obj.adelete()
            return count, rows

        assert run_until_complete(main()) == (1, [7])
    finally:
        post_save.disconnect(record, sender=SimpleModel)
    assert seen and seen[0].startswith("async_app-view")


@override_settings(ROOT_URLCONF="tests.test_backports")
async def test_async_class_based_view_through_the_pipeline():
    client = AsyncClient()
    options = await client.options("/item/")
    assert options.status_code == 200
    assert options["Allow"] == "GET, POST, HEAD, OPTIONS"
    not_allowed = await client.delete("/item/")
    assert not_allowed.status_code == 405
    assert (await client.post("/item/")).content == b"posted"


@override_settings(ROOT_URLCONF="tests.test_backports")
async def test_csrf_decorators_on_coroutine_views_through_the_middleware():
    client = AsyncClient(enforce_csrf_checks=True)
    assert (await client.post("/exempt/")).status_code == 200
    assert (await client.post("/protected/")).status_code == 403
    lenient = AsyncClient()
    assert (await lenient.get("/post-only/")).status_code == 405
    assert (await lenient.post("/post-only/")).content == b"post only"


@override_settings(ROOT_URLCONF="tests.test_backports")
async def test_login_required_coroutine_view_uses_request_auser(db_user):
    client = AsyncClient()
    anonymous = await client.get("/members/")
    assert anonymous.status_code == 302
    assert anonymous.url.startswith("/accounts/login/?next=/members/")
    await client.aforce_login(db_user)
    try:
        member = await client.get("/members/")
    finally:
        await client.alogout()  # deletes the session row (the database is shared)
    assert member.status_code == 200
    assert member.content == b"backport-user"


@pytest.fixture
def db_user(django_db):
    user = User.objects.create_user("backport-user", password="pw")
    yield user
    user.delete()


def test_decorated_sync_views_keep_djangos_own_wrappers():
    def view(request):
        return HttpResponse()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrapped = require_POST(view)
    assert wrapped.__wrapped__ is view
    assert wrapped.__code__.co_filename.endswith(
        os.path.join("django", "views", "decorators", "http.py")
    )


def test_assert_no_logs_fails_when_something_is_logged():
    import logging
    import unittest

    from django.test import SimpleTestCase

    class Probe(SimpleTestCase):
        def runTest(self):
            pass

    probe = Probe()
    with probe.assertNoLogs("django.request", "WARNING"):
        logging.getLogger("django.request").info("below the level")
    with pytest.raises(unittest.TestCase.failureException):
        with probe.assertNoLogs("django.request", "WARNING"):
            logging.getLogger("django.request").warning("logged")


def test_assert_warns_message_checks_the_text():
    import unittest

    from django.test import SimpleTestCase

    class Probe(SimpleTestCase):
        def runTest(self):
            pass

    probe = Probe()
    with probe.assertWarnsMessage(UserWarning, "expected text"):
        warnings.warn("the expected text here", UserWarning)
    with pytest.raises(unittest.TestCase.failureException):
        with probe.assertWarnsMessage(UserWarning, "expected text"):
            warnings.warn("something else", UserWarning)


def test_options_and_not_allowed_of_an_async_view_are_coroutines_only_on_a_loop():
    import asyncio

    from django.http import HttpResponseNotAllowed
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    view = AsyncItemView()
    # No loop (Django 1.11's stock WSGIHandler): the responses themselves.
    assert isinstance(view.options(request), HttpResponse)
    assert isinstance(view.http_method_not_allowed(request), HttpResponseNotAllowed)

    async def on_the_loop():
        options = view.options(request)
        not_allowed = view.http_method_not_allowed(request)
        assert asyncio.iscoroutine(options) and asyncio.iscoroutine(not_allowed)
        return await options, await not_allowed

    options, not_allowed = run_until_complete(on_the_loop())
    assert options["Allow"] == "GET, POST, OPTIONS"  # no setup(): no HEAD
    assert isinstance(not_allowed, HttpResponseNotAllowed)


def test_docs_examples_are_this_modules_code():
    import inspect
    import re

    with open(os.path.join(ROOT, "docs", "django5-api.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    source = inspect.getsource(sys.modules[__name__])
    assert len(blocks) == 2
    for block in blocks:
        assert block in source, block


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="asserts SQLite's EXPLAIN QUERY PLAN; the ported test_aexplain runs each format here",
)
def test_aexplain_gives_the_databases_plan():

    async def main():
        plan = await SimpleModel.objects.filter(field=1).aexplain()
        with pytest.raises(ValueError) as unknown:
            await SimpleModel.objects.aexplain(nonsense=True)
        return plan, str(unknown.value)

    plan, unknown = run_until_complete(main())
    assert connection.vendor == "sqlite"
    assert "SCAN" in plan, plan  # SQLite's EXPLAIN QUERY PLAN of a full-table filter
    assert unknown == "Unknown options: nonsense"


def test_explain_feature_flags_follow_aexplain():
    from django.db.backends.base.features import BaseDatabaseFeatures

    # Django 2.1's flags, which Django 5.2's test_aexplain reads.
    features = connection.features
    assert features.supports_explaining_query_execution is True
    formats = {"sqlite": set(), "postgresql": {"JSON", "TEXT", "XML", "YAML"}}
    assert features.supported_explain_formats == formats[connection.vendor]

    class Oracle:
        vendor = "oracle"

    assert BaseDatabaseFeatures(Oracle()).supports_explaining_query_execution is False
    assert BaseDatabaseFeatures(Oracle()).supported_explain_formats == set()


# -- Django 1.11's own sync handlers honour sync_capable/async_capable --------


def test_the_switch_leaves_djangos_base_handler_alone(run_python):
    probe = (
        "import async_app, django; django.setup(); from django.core.handlers.base import BaseHandler; "
        "print('_async_app_backport' in BaseHandler.__dict__)"
    )
    for value, expected in (("0", "False"), ("1", "True")):
        result = run_python(probe, ASYNC_APP_DJANGO5_API=value)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected


def test_stock_chain_of_sync_middleware_is_django_1_11s_own():
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.exception import convert_exception_to_response

    with override_settings(
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ]
    ):
        handler = BaseHandler()
        handler.load_middleware()
    djangos_inner = convert_exception_to_response(thread_name).__code__
    assert handler._middleware_chain.__code__ is djangos_inner
    hooks = handler._view_middleware + handler._exception_middleware
    assert [hook.__func__.__qualname__ for hook in hooks] == ["CsrfViewMiddleware.process_view"]


@override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[__name__ + ".async_header_middleware"])
def test_stock_client_adapts_an_async_only_middleware_sync_code_stays_on_its_thread():
    here = threading.current_thread().name
    response = Client().get("/thread/")
    assert (response.content.decode(), response["X-Async"]) == (here, here)
    # The view's exception became a response below the async middleware, as
    # Django 3.1's convert_exception_to_response does.
    response = Client().get("/missing/")
    assert (response.status_code, response["X-Async"]) == (404, here)


@override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[__name__ + ".CoroutineViewHookMiddleware"])
def test_stock_client_calls_an_async_def_hook_through_async_to_sync():
    assert Client().get("/thread/").content == b"from the hook"


def test_acheck_password_awaits_the_setter_when_the_hash_must_be_upgraded():
    from django.contrib.auth.hashers import acheck_password, make_password

    upgraded = []

    async def setter(raw_password):
        upgraded.append(raw_password)

    hashers = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    with override_settings(PASSWORD_HASHERS=hashers):
        old_hash = make_password("secret", hasher="md5")
        assert run_until_complete(acheck_password("wrong", old_hash, setter)) is False
        assert upgraded == []
        assert run_until_complete(acheck_password("secret", old_hash, setter)) is True
        assert upgraded == ["secret"]
        assert (
            run_until_complete(acheck_password("secret", make_password("secret"), setter)) is True
        )
    assert upgraded == ["secret"]


@override_settings(ROOT_URLCONF=__name__)
async def test_sensitive_variables_of_a_coroutine_view_are_hidden_from_its_error_report():
    """Django 5.0: ``sensitive_variables`` on an ``async def`` view (which stays one)."""
    assert asyncio.iscoroutinefunction(sensitive_view)
    with pytest.raises(ValueError) as raised:
        await AsyncClient().get("/sensitive/")
    report = technical_500_response(
        RequestFactory().get("/"), raised.type, raised.value, raised.tb
    ).content.decode()
    assert "sensitive_view" in report and "declined after" in report
    assert str(11**17) in report  # the frame's variables are shown...
    assert str(7**23) not in report  # ...but the marked one


def test_aauthenticate_hides_the_credentials_when_the_backend_runs_in_a_pool_thread():
    """The credentials cross to the view pool; no frame of either side shows them."""
    from django.contrib.auth import aauthenticate

    backends = ["tests.django5.test_auth_backends.TypeErrorBackend"]
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        with pytest.raises(TypeError) as raised:
            run_until_complete(aauthenticate(username="someone", password=str(3**41)))
    report = technical_500_response(
        RequestFactory().get("/"), raised.type, raised.value, raised.tb
    ).content.decode()
    assert "_call_in_pool_thread" in report  # the pool thread's frames are there
    assert "TypeErrorBackend" in report
    assert str(3**41) not in report  # (no local of this test holds it either)
