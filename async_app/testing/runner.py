"""Run coroutine tests: :func:`run_async` and the :func:`async_test` decorator.

A coroutine test runs on a fresh event loop in the test's thread, in inline
mode (:func:`async_app.sync.inline_mode`): sync code reached from it
(``database_sync_to_async``, sync views and middleware under
:class:`~async_app.testing.AsyncClient`) runs on the test's thread, so it
shares the test's database connection and ``TestCase`` transaction. When the
test coroutine is done, the runner does what the worker does at shutdown:
it waits for the work started with :func:`async_app.spawn` and closes the
shared :func:`async_app.http_session`, so nothing is left running when the
loop closes.

Importing this module also teaches Django's test decorators
(``override_settings``, ``modify_settings``, ... every
``TestContextDecorator``) to wrap coroutine functions, as Django 3.1 does:
Django 1.11's wrapper would leave the ``with`` block as soon as the coroutine
is *created*, so the test body would run without the override.
"""

import asyncio
import functools
import inspect

from ..http import close_http_session
from ..sync import inline_mode, run_until_complete
from ..tasks import wait_spawned

__all__ = ["SPAWNED_TIMEOUT", "SpawnedWorkLost", "async_test", "install", "run_async"]

# How long run_async() waits for spawned tasks after the test coroutine.
SPAWNED_TIMEOUT = 10.0


class SpawnedWorkLost(AssertionError):
    """A test left spawned tasks running past :data:`SPAWNED_TIMEOUT` (they were cancelled)."""


async def _main(coro):
    try:
        result = await coro
    except BaseException:
        await _finish()
        raise
    if not await _finish():
        raise SpawnedWorkLost(
            "tasks started with async_app.spawn() were still running %ss after the "
            "test and were cancelled (see the async_app.tasks log)" % SPAWNED_TIMEOUT
        )
    return result


async def _finish():
    try:
        return await wait_spawned(SPAWNED_TIMEOUT)
    finally:
        await close_http_session()


def run_async(coro):
    """Run test coroutine ``coro`` to completion (see the module doc) and return its result.

    Works even where an event loop is already running in this thread (a
    nested test client call).
    """
    with inline_mode():
        return run_until_complete(_main(coro))


def async_test(func):
    """Make a coroutine test function or method runnable by any test runner.

    For ``unittest`` / Django ``TestCase`` methods (pytest's plugin runs bare
    ``async def`` test functions by itself)::

        class OrdersTests(TestCase):
            @async_test
            async def test_list(self):
                response = await AsyncClient().get('/orders/')
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return run_async(func(*args, **kwargs))

    return wrapper


def _is_coroutine_function(func):
    return inspect.iscoroutinefunction(func) or asyncio.iscoroutinefunction(func)


def install():
    """Let ``TestContextDecorator`` subclasses decorate coroutine functions (idempotent).

    Django 3.1's ``decorate_callable`` (see
    :func:`async_app.backports.testcases.install_test_utils`, which ``import
    async_app`` also applies when Django's test utilities load).
    """
    import django.test.utils

    from ..backports.testcases import install_test_utils

    install_test_utils(django.test.utils)


install()
