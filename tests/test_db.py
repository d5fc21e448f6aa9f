"""database_sync_to_async and the guard against database access on the event loop."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import override_settings

import async_app.testing  # noqa: F401  (coroutine-aware override_settings)
from async_app import SynchronousOnlyOperation, database_sync_to_async
from async_app.db import install_guard
from async_app.sync import run_sync
from tests.toolkit_fixtures import db, gunicorn_server, server_db, toolkit_server  # noqa: F401
from tests.toolkit_fixtures import http_get, run_on_fresh_loop

pytest_plugins = ["async_app.testing.pytest_plugin"]

install_guard()  # as importing async_app.handler does


def run_in_loop_thread(coro_function):
    """Run ``coro_function()`` on a loop in a new thread, which has no connection yet
    (as the worker's loop thread); return its result or raise its exception."""
    outcome = {}

    def target():
        try:
            outcome["result"] = run_on_fresh_loop(coro_function())
        except BaseException as exc:
            outcome["exception"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "exception" in outcome:
        raise outcome["exception"]
    return outcome["result"]


# -- the guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "touch",
    [
        lambda: connection.cursor(),
        lambda: connection.chunked_cursor(),
        lambda: connection.ensure_connection(),
        lambda: connection.connect(),
        lambda: Group.objects.count(),
        lambda: list(Group.objects.all()),
    ],
    ids=["cursor", "chunked_cursor", "ensure_connection", "connect", "count", "queryset"],
)
def test_guard_raises_on_the_loop_naming_the_helper(django_db, touch):
    async def coroutine_code():
        touch()

    with pytest.raises(SynchronousOnlyOperation) as raised:
        run_in_loop_thread(coroutine_code)
    assert "async_app.database_sync_to_async" in str(raised.value)
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" in str(raised.value)


def test_guard_install_is_idempotent(django_db):
    from django.db.backends.base.base import BaseDatabaseWrapper

    before = BaseDatabaseWrapper.cursor
    install_guard()
    assert BaseDatabaseWrapper.cursor is before

    async def coroutine_code():
        connection.cursor()

    with pytest.raises(SynchronousOnlyOperation, match=r"\(cursor\)"):
        run_on_fresh_loop(coroutine_code())


def test_allow_async_unsafe_disables_the_guard_at_call_time(django_db, monkeypatch):
    async def coroutine_code():
        return Group.objects.count()

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    assert run_on_fresh_loop(coroutine_code()) == 0
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE")
    with pytest.raises(SynchronousOnlyOperation):
        run_on_fresh_loop(coroutine_code())


def test_sync_code_and_threads_are_unaffected(django_db):
    def count():
        return Group.objects.count()

    async def coroutine_code():
        in_pool = await run_sync(count)
        in_plain_thread = []
        thread = threading.Thread(target=lambda: in_plain_thread.append(count()))
        thread.start()
        thread.join()
        return in_pool, in_plain_thread

    assert count() == 0  # no loop in this thread
    assert run_on_fresh_loop(coroutine_code()) == (0, [0])


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="relies on SQLite's in-memory test database, which close_old_connections() never "
    "closes; on PostgreSQL it closes this thread's connection (CONN_MAX_AGE=0), so the next "
    "ensure_connection() would connect, and the guard stops that one instead of cursor()",
)
def test_closing_connections_on_the_loop_is_harmless(django_db):
    from django.db import close_old_connections

    async def coroutine_code():
        close_old_connections()
        connection.close()

    run_in_loop_thread(coroutine_code)
    # This thread's connection is open (the test database): checking it, as
    # close_old_connections() does, is harmless too; querying it is not.
    assert connection.connection is not None

    async def check_then_query():
        close_old_connections()
        connection.ensure_connection()
        connection.cursor()

    with pytest.raises(SynchronousOnlyOperation, match=r"\(cursor\)"):
        run_on_fresh_loop(check_then_query())


async def test_guard_under_the_async_client(db, async_client):
    with pytest.raises(SynchronousOnlyOperation):
        await async_client.get("/toolkit/orm-on-loop/")
    assert (await async_client.get("/toolkit/sync-group-count/")).content == b"0"


@override_settings(MIDDLEWARE=["tests.django_project.toolkit_views.passthrough_middleware"])
async def test_guard_in_a_coroutine_view_below_function_style_middleware(db, async_client):
    # The middleware's __call__ is sync code; the view it reaches through
    # run_coroutine() runs on the loop again and must be guarded.
    with pytest.raises(SynchronousOnlyOperation):
        await async_client.get("/toolkit/orm-on-loop/")
    assert (await async_client.get("/toolkit/orm-in-thread/")).content == b"0"


# -- database_sync_to_async ----------------------------------------------------------


def test_database_sync_to_async_closes_connections_around_the_call_in_the_pool(
    django_db, monkeypatch
):
    import django.db

    calls = []
    close_old_connections = django.db.close_old_connections

    def recording_close_old_connections():
        calls.append(("close_old_connections", threading.current_thread().name))
        close_old_connections()

    monkeypatch.setattr(django.db, "close_old_connections", recording_close_old_connections)

    @database_sync_to_async
    def count():
        calls.append(("count", threading.current_thread().name))
        return Group.objects.count()

    assert run_on_fresh_loop(count()) == 0
    assert [name for name, _ in calls] == [
        "close_old_connections",
        "count",
        "close_old_connections",
    ]
    thread_names = {thread for _, thread in calls}
    assert len(thread_names) == 1 and thread_names.pop().startswith("async_app-view")


def test_database_sync_to_async_passes_arguments_and_exceptions(django_db):
    get = database_sync_to_async(Group.objects.get)
    with pytest.raises(Group.DoesNotExist):
        run_on_fresh_loop(get(name="missing"))


async def test_database_sync_to_async_in_inline_mode_shares_the_test_transaction(db):
    from django.db import transaction

    @database_sync_to_async
    def create_and_look():
        group = Group.objects.create(name="inline")
        return threading.get_ident(), transaction.get_connection().in_atomic_block, group

    ident, in_atomic_block, group = await create_and_look()
    assert ident == threading.get_ident()
    assert in_atomic_block  # the db fixture's transaction: not closed, not committed
    assert await database_sync_to_async(Group.objects.filter(pk=group.pk).exists)()


# -- under a real gunicorn -------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_module",
    ["tests.django_project.settings", "tests.django_project.toolkit_settings"],
    ids=["hook-middleware", "function-middleware"],
)
def test_under_gunicorn_guard_raises_in_coroutine_views_while_sync_views_use_the_orm(
    toolkit_server, server_db, settings_module
):
    server = toolkit_server(settings_module, threads=2)
    count = str(len(server_db.group_names()))
    assert http_get(server, "/toolkit/guard-report/")[1].startswith(
        "guarded: Database access (cursor)"
    )
    assert http_get(server, "/toolkit/sync-group-count/") == (200, count)
    assert http_get(server, "/toolkit/orm-in-thread/") == (200, count)


def test_under_gunicorn_allow_async_unsafe_switches_the_guard_off(toolkit_server):
    server = toolkit_server(env={"DJANGO_ALLOW_ASYNC_UNSAFE": "1"})
    assert http_get(server, "/toolkit/guard-report/") == (200, "not guarded")
