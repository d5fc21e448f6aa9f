"""AsyncClient, AsyncRequestFactory, the async test runner and the pytest plugin."""

import asyncio
import os
import textwrap
import threading

import pytest
from django.contrib.auth.models import Group, User
from django.test.client import RedirectCycleError

from async_app import database_sync_to_async
from async_app.testing.client import AsyncClient, AsyncRequestFactory
from async_app.testing.runner import SpawnedWorkLost, async_test, run_async
from async_app.tasks import spawn
from tests.django_project import toolkit_views

from tests.toolkit_fixtures import db  # noqa: F401

pytest_plugins = ["pytester", "async_app.testing.pytest_plugin"]


async def test_get_sync_and_coroutine_views(db, async_client):
    await database_sync_to_async(Group.objects.create)(name="alpha")
    coroutine_view = await async_client.get("/toolkit/groups/")
    sync_view = await async_client.get("/toolkit/sync-group-count/")
    assert coroutine_view.status_code == 200
    assert coroutine_view.json() == {"groups": ["alpha"]}
    assert sync_view.content == b"1"
    assert coroutine_view.wsgi_request.path == "/toolkit/groups/"
    assert coroutine_view.resolver_match.func is toolkit_views.groups


async def test_post_form_renders_template_with_context_and_follows_redirect(db, async_client):
    invalid = await async_client.post("/toolkit/groups/new/", {"name": ""})
    assert invalid.status_code == 200
    assert invalid.templates[0].name == "toolkit/group_form.html"
    assert invalid.context["form"].errors == {"name": ["This field is required."]}

    created = await async_client.post("/toolkit/groups/new/", {"name": "beta"}, follow=True)
    assert created.redirect_chain == [("/toolkit/groups/", 302)]
    assert created.json() == {"groups": ["beta"]}


async def test_follow_detects_redirect_loops(db, async_client):
    with pytest.raises(RedirectCycleError) as raised:
        await async_client.get("/toolkit/redirect-loop/", follow=True)
    assert raised.value.redirect_chain == [("/toolkit/redirect-loop/", 302)] * 2


async def test_view_exceptions_are_reraised(db, async_client):
    with pytest.raises(ValueError, match="boom"):
        await async_client.get("/async/500/")


async def test_guard_error_reaches_the_test(db, async_client):
    from async_app import SynchronousOnlyOperation

    with pytest.raises(SynchronousOnlyOperation, match="database_sync_to_async"):
        await async_client.get("/toolkit/orm-on-loop/")
    fixed = await async_client.get("/toolkit/orm-in-thread/")
    assert fixed.content == b"0"


async def test_cookies_and_session_persist_across_requests(db):
    client = AsyncClient()
    user = await database_sync_to_async(User.objects.create_user)("toolkit-ann", password="pw")
    await database_sync_to_async(client.force_login)(user)
    response = await client.get("/toolkit/whoami/")
    assert response.content == b"toolkit-ann"
    # The session cookie set by login() is sent again; a cookie set by a
    # response is kept too.
    response = await client.get("/toolkit/set-cookie/")
    assert client.cookies["flavour"].value == "lemon"
    response = await client.get("/toolkit/echo-cookie/")
    assert response.content == b"lemon"


async def test_concurrent_requests_keep_their_own_templates_and_exceptions(db, async_client):
    # The second request renders and the third fails while the first waits.
    first, second, third = await asyncio.gather(
        async_client.get("/toolkit/slow-note/?n=1&delay=0.1"),
        async_client.get("/toolkit/slow-note/?n=2&delay=0.02"),
        async_client.get("/toolkit/slow-error/?delay=0.04"),
        return_exceptions=True,
    )
    assert [t.name for t in first.templates] == ["toolkit/note.html"]
    assert first.context["n"] == "1"
    assert [t.name for t in second.templates] == ["toolkit/note.html"]
    assert second.context["n"] == "2"
    assert isinstance(third, ValueError) and str(third) == "slow boom"


async def test_head_and_streaming(db, async_client):
    head = await async_client.head("/toolkit/groups/")
    assert head.status_code == 200 and head.content == b""
    stream = await async_client.get("/toolkit/countdown/")
    assert stream["Content-Type"] == "text/event-stream"
    chunks = [chunk async for chunk in stream.streaming_content]
    assert chunks == [b"data: 3\n\n", b"data: 2\n\n", b"data: 1\n\n"]


async def test_class_based_view_methods(db, async_client):
    await database_sync_to_async(Group.objects.create)(name="gamma")
    assert (await async_client.get("/toolkit/groups/gamma/")).json() == {
        "name": "gamma",
        "exists": True,
    }
    assert (await async_client.delete("/toolkit/groups/gamma/")).status_code == 204
    assert (await async_client.get("/toolkit/groups/gamma/")).status_code == 404


async def test_request_factory_with_a_coroutine_view(db, async_rf):
    request = async_rf.get("/toolkit/groups/")
    response = await toolkit_views.groups(request)
    assert response.status_code == 200
    assert isinstance(async_rf, AsyncRequestFactory)


async def test_spawned_work_is_not_waited_for_by_the_async_client(db, async_client):
    from async_app.tasks import wait_spawned

    response = await async_client.get("/toolkit/signup/?name=delta&delay=0.05")
    assert response.status_code == 202
    assert not await database_sync_to_async(Group.objects.filter(name="delta").exists)()
    assert await wait_spawned(5)
    assert await database_sync_to_async(Group.objects.filter(name="delta").exists)()


def test_sync_client_waits_for_spawned_work(db, client_through_pipeline):
    response = client_through_pipeline.get("/toolkit/signup/?name=epsilon&delay=0.05")
    assert response.status_code == 202
    assert Group.objects.filter(name="epsilon").exists()


def test_sync_client_guard_orm_helper_and_http_session(db, client_through_pipeline):
    from async_app import SynchronousOnlyOperation
    from tests.test_http import Backend

    with pytest.raises(SynchronousOnlyOperation):
        client_through_pipeline.get("/toolkit/orm-on-loop/")
    Group.objects.create(name="zeta")
    assert client_through_pipeline.get("/toolkit/orm-in-thread/").content == b"1"

    # The backend runs on a loop of its own thread: each call of the sync
    # client runs the request on a private loop of the test's thread.
    backend_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=backend_loop.run_forever)
    thread.start()
    try:
        backend = asyncio.run_coroutine_threadsafe(Backend().start(), backend_loop).result(10)
        response = client_through_pipeline.get("/toolkit/dashboard/", {"backend": backend.url})
        assert response.json() == {"stock": {"path": "/stock"}, "prices": {"path": "/prices"}}
        asyncio.run_coroutine_threadsafe(backend.stop(), backend_loop).result(10)
    finally:
        backend_loop.call_soon_threadsafe(backend_loop.stop)
        thread.join(10)
        backend_loop.close()


@pytest.fixture
def client_through_pipeline():
    from django.test import Client

    from async_app.testing.handler import AsyncClientHandler

    client = Client()
    client.handler = AsyncClientHandler(enforce_csrf_checks=False)
    return client


# -- the runner ------------------------------------------------------------------


def test_run_async_waits_for_spawned_tasks_and_closes_the_http_session():
    from async_app.http import http_session

    done = []

    async def work():
        await asyncio.sleep(0.05)
        done.append(True)

    async def test_body():
        spawn(work())
        return http_session()

    session = run_async(test_body())
    assert done == [True]
    assert session.closed


def test_run_async_fails_a_test_whose_spawned_work_outlives_it(monkeypatch):
    from async_app.testing import runner

    monkeypatch.setattr(runner, "SPAWNED_TIMEOUT", 0.05)

    async def test_body():
        spawn(asyncio.sleep(10))

    with pytest.raises(SpawnedWorkLost):
        run_async(test_body())


class TestAsyncTestDecorator:
    @async_test
    async def test_method_runs_inline_on_the_test_thread(self, db):
        import threading

        ident = await database_sync_to_async(threading.get_ident)()
        assert ident == threading.get_ident()


# -- the pytest plugin, in a pytest of its own --------------------------------------


def test_plugin_runs_coroutine_tests_and_provides_fixtures(pytester, monkeypatch):
    # The inner pytest imports async_app from this checkout.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import asyncio
            import functools
            import pytest
            import async_app.testing
            from django.test.utils import override_settings

            pytest_plugins = ["async_app.testing.pytest_plugin"]

            async def test_passes(async_client, async_rf):
                from async_app.testing import AsyncClient, AsyncRequestFactory
                assert isinstance(async_client, AsyncClient)
                assert isinstance(async_rf, AsyncRequestFactory)
                await asyncio.sleep(0)

            async def test_fails():
                await asyncio.sleep(0)
                assert False, "seen"

            @override_settings(ALLOWED_HOSTS=["overridden"])
            async def test_override_settings_spans_the_await():
                await asyncio.sleep(0)
                from django.conf import settings
                assert settings.ALLOWED_HOSTS == ["overridden"]

            def sync_decorator(func):
                @functools.wraps(func)
                def wrapper(*args, **kwargs):
                    return func(*args, **kwargs)
                return wrapper

            @sync_decorator
            async def test_wrapped_by_a_sync_decorator():
                pass

            @pytest.mark.parametrize("n", [1, 2])
            async def test_parametrized(n):
                assert n in (1, 2)
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        ["*AssertionError: seen*", "*a sync decorator wraps this coroutine test*"]
    )
