"""async_app.drf.views: coroutine handlers in DRF's APIView, @api_view and viewsets.

Each coroutine view of tests/drf_app has a sync twin where it matters; the
coroutine handler must answer exactly as the sync one (status, body,
headers), under the test client (DRF's APIClient through AsyncClientHandler)
and under a real gunicorn with the aiohttp worker.
"""

import json

import pytest
from django.test import override_settings

pytest_plugins = ["async_app.testing.pytest_plugin"]

from async_app import SynchronousOnlyOperation
from async_app.handler import is_async_view
from tests.drf_fixtures import (  # noqa: F401
    SERVER_TOKEN,
    AsyncAPIClient,
    api,
    db,
    drf_db,
    drf_server,
    drf_server_db,
    gunicorn_server,
    http,
    quote_service,
    server_db,
    settings_quote_url,
    toolkit_server,
)


def _same_answer(first, second):
    assert first.status_code == second.status_code
    assert first.content == second.content
    for header in ("Content-Type", "Allow", "Vary", "WWW-Authenticate", "Retry-After"):
        assert first.get(header) == second.get(header), header


def test_async_get_on_drf_apiview_with_token_authentication(api):
    response = api.get("/drf/hello/", HTTP_AUTHORIZATION="Token " + api.token.key)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user": "ann",
        "handler": "coroutine",
        "authenticator": "TokenAuthentication",
    }
    _same_answer(response, api.get("/drf/sync-hello/", HTTP_AUTHORIZATION="Token " + api.token.key))


def test_async_get_with_session_authentication(api):
    assert api.login(username="ann", password="secret")
    response = api.get("/drf/hello/")
    assert response.json()["authenticator"] == "SessionAuthentication"
    _same_answer(response, api.get("/drf/sync-hello/"))


def test_session_authentication_enforces_csrf_for_coroutine_handlers(api):
    client = AsyncAPIClient(enforce_csrf_checks=True)
    assert client.login(username="ann", password="secret")
    response = client.post("/drf/function/", {"a": 1}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_force_authenticate_reaches_coroutine_and_sync_handlers(api):
    api.force_authenticate(user=api.user)
    response = api.get("/drf/hello/")
    assert response.json() == {
        "user": "ann",
        "handler": "coroutine",
        "authenticator": "ForcedAuthentication",
    }
    assert api.post("/drf/hello/", {"x": 1}, format="json").json() == {
        "user": "ann",
        "handler": "sync",
        "data": {"x": 1},
    }
    api.force_authenticate(user=None)
    assert api.get("/drf/hello/").status_code == 403


def test_unauthenticated_and_bad_token_answer_as_sync(api):
    _same_answer(api.get("/drf/hello/"), api.get("/drf/sync-hello/"))
    bad = api.get("/drf/hello/", HTTP_AUTHORIZATION="Token nope")
    assert bad.status_code == 403 and bad.json() == {"detail": "Invalid token."}
    _same_answer(bad, api.get("/drf/sync-hello/", HTTP_AUTHORIZATION="Token nope"))
    # TokenAuthentication first: 401 with its WWW-Authenticate header.
    response = api.get("/drf/items/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_permission_that_queries_the_database(api):
    from django.contrib.auth.models import User

    api.force_authenticate(user=api.user)
    assert api.get("/drf/group-only/").json() == {"group": True}
    api.force_authenticate(user=User.objects.create_user("bob"))
    assert api.get("/drf/group-only/").status_code == 403


def test_throttle_over_the_database_cache(api):
    api.credentials(HTTP_AUTHORIZATION="Token " + api.token.key)
    assert [api.get("/drf/throttled/").status_code for _ in range(3)] == [200, 200, 200]
    throttled = api.get("/drf/throttled/")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "throttled" in throttled.json()["detail"]


def test_asyncio_coroutine_handler_runs(api):
    assert api.get("/drf/coroutine-hello/").json() == {"handler": "generator-coroutine"}


def test_api_view_on_coroutine_functions(api):
    assert api.get("/drf/function/").json() == {"method": "GET", "data": {}, "handler": "coroutine"}
    response = api.post("/drf/function/", {"a": [1, 2]}, format="json")
    assert response.json() == {"method": "POST", "data": {"a": [1, 2]}, "handler": "coroutine"}
    assert api.get("/drf/generator-function/").json() == {"handler": "generator-coroutine"}
    refused = api.put("/drf/function/")
    assert refused.status_code == 405 and refused.json() == {"detail": 'Method "PUT" not allowed.'}
    assert sorted(refused["Allow"].split(", ")) == ["GET", "OPTIONS", "POST"]


@pytest.mark.parametrize("kind", ["notfound", "validation", "http404", "denied", "unauthenticated"])
def test_exceptions_become_the_sync_handlers_responses(api, kind):
    response = api.get("/drf/errors/%s/" % kind)
    assert response.status_code in (400, 403, 404)
    _same_answer(response, api.get("/drf/sync-errors/%s/" % kind))


def test_exception_handler_setting_applies(api):
    with override_settings(
        REST_FRAMEWORK={"EXCEPTION_HANDLER": "tests.drf_app.views.wrapping_exception_handler"}
    ):
        response = api.get("/drf/errors/notfound/")
        assert response.json() == {"error": {"detail": "no such thing"}, "view": "Errors"}
        assert api.get("/drf/sync-errors/notfound/").json()["view"] == "SyncErrors"


def test_unhandled_exception_propagates_as_from_sync(api):
    # The test client re-raises what reached got_request_exception (a 500 under a server).
    with pytest.raises(RuntimeError, match="boom"):
        api.get("/drf/errors/boom/")
    with pytest.raises(RuntimeError, match="boom"):
        api.get("/drf/sync-errors/boom/")


def test_content_negotiation_head_options_and_405_as_sync(api):
    api.force_authenticate(user=api.user)
    html = api.get("/drf/hello/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert b"ann" in html.content
    _same_answer(api.get("/drf/hello/?format=xml"), api.get("/drf/sync-hello/?format=xml"))
    head = api.head("/drf/hello/")
    assert head.status_code == 200 and head.content == b""
    options = api.options("/drf/hello/")
    assert options.status_code == 200 and options.json()["name"] == "Hello"
    _same_answer(api.delete("/drf/hello/"), api.delete("/drf/sync-hello/"))


def test_orm_on_the_loop_in_a_handler_still_trips_the_guard(api):
    with pytest.raises(SynchronousOnlyOperation):
        api.get("/drf/unguarded/")


def test_pipeline_sees_which_methods_are_coroutines():
    from django.urls import resolve

    hello = resolve("/drf/hello/").func
    assert is_async_view(hello, "GET") and is_async_view(hello, "HEAD")
    assert not is_async_view(hello, "POST")  # sync handler: sync fast path, as before
    assert not is_async_view(resolve("/drf/sync-hello/").func, "GET")
    assert is_async_view(resolve("/drf/function/").func, "POST")
    items = resolve("/drf/items/").func
    assert is_async_view(items, "GET") and is_async_view(items, "POST")
    item = resolve("/drf/items/1/").func
    assert (
        is_async_view(item, "GET")
        and not is_async_view(item, "PUT")
        and not is_async_view(item, "DELETE")
    )
    assert is_async_view(resolve("/drf/items/stats/").func, "GET")


async def test_cancelling_a_coroutine_handler_is_not_turned_into_a_response():
    import asyncio

    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    started, handled = asyncio.Event(), []

    class Slow(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        async def get(self, request):
            started.set()
            await asyncio.sleep(30)
            return Response({})

        def handle_exception(self, exc):
            handled.append(exc)
            return super().handle_exception(exc)

    task = asyncio.ensure_future(Slow.as_view()(APIRequestFactory().get("/")))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert handled == []


# --- under gunicorn -----------------------------------------------------------


def test_coroutine_handlers_under_gunicorn(drf_server):
    server = drf_server()
    status, _, body = http(server, "GET", "/drf/hello/")
    assert status == 200, server.log()
    assert json.loads(body) == {
        "user": "gus",
        "handler": "coroutine",
        "authenticator": "TokenAuthentication",
    }
    assert http(server, "GET", "/drf/hello/", token=None)[0] == 403
    assert (
        http(server, "POST", "/drf/hello/", b'{"x": 2}')[2]
        == b'{"user":"gus","handler":"sync","data":{"x":2}}'
    )
    assert json.loads(http(server, "GET", "/drf/coroutine-hello/")[2]) == {
        "handler": "generator-coroutine"
    }
    assert json.loads(http(server, "POST", "/drf/function/", b"[1]")[2])["data"] == [1]
    status, headers, body = http(server, "GET", "/drf/errors/validation/")
    assert status == 400 and json.loads(body) == {"name": ["This field is wrong."]}
    status, _, body = http(server, "GET", "/drf/errors/boom/")
    assert status == 500 and b"boom" not in body
    codes = [http(server, "GET", "/drf/throttled/")[0] for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # DRF's checks run on the loop's thread, as sync code, like middleware hooks.
    threads = json.loads(http(server, "GET", "/drf/where-checks-run/")[2])
    assert threads["checks"] == threads["handler"] and not threads["handler"].startswith(
        "async_app-"
    )
    assert "SynchronousOnlyOperation" not in server.log()


def test_checks_in_the_bridge_pool_with_middleware_in_threads(drf_server):
    server = drf_server(env={"DJANGO_SETTINGS_MODULE": "tests.drf_app.threads_settings"})
    threads = json.loads(http(server, "GET", "/drf/where-checks-run/")[2])
    assert threads["checks"].startswith("async_app-bridge") and not threads["handler"].startswith(
        "async_app-"
    )
    status, _, body = http(server, "GET", "/drf/group-only/")
    assert status == 403  # gus is in no group: the permission queried, in a bridge thread
    assert http(server, "GET", "/drf/hello/", token="bad")[0] == 403
    assert [http(server, "GET", "/drf/items/", token=None)[0]] == [401]
    assert "SynchronousOnlyOperation" not in server.log()


def test_docs_examples_are_tested_code():
    import inspect
    import os
    import re

    from tests import drf_fixtures
    from tests.drf_app import views
    from tests.gunicorn_fixture import ROOT

    with open(os.path.join(ROOT, "docs", "drf.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    sources = inspect.getsource(views) + inspect.getsource(drf_fixtures)
    assert len(blocks) >= 6
    for block in blocks:
        assert block in sources, (
            "docs/drf.md example not found verbatim in the tested code:\n" + block
        )
