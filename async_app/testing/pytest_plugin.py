"""pytest support for coroutine tests, with no extra dependency.

Enable it in the project's top-level ``conftest.py``::

    pytest_plugins = ["async_app.testing.pytest_plugin"]

(or ``pytest -p async_app.testing.pytest_plugin``). Then:

* ``async def test_...`` functions (and ``@asyncio.coroutine`` ones) run
  through :func:`async_app.testing.runner.run_async`: a fresh event loop per
  test, sync code inline on the test's thread, spawned tasks waited for and
  the shared HTTP session closed at the end. Fixtures are ordinary sync
  fixtures. Tests marked for another async plugin (``@pytest.mark.asyncio``,
  ``@pytest.mark.anyio``) are left to it.
* fixtures ``async_client`` (an :class:`~async_app.testing.AsyncClient`) and
  ``async_rf`` (an :class:`~async_app.testing.AsyncRequestFactory`).

Django itself must be set up by the project (its conftest or pytest-django).
"""
import asyncio
import inspect

import pytest

from .runner import run_async

_OTHER_ASYNC_MARKERS = ("asyncio", "anyio", "trio")


def _is_coroutine_test(pyfuncitem):
    func = pyfuncitem.obj
    if not (inspect.iscoroutinefunction(func) or asyncio.iscoroutinefunction(func)):
        return False
    return not any(pyfuncitem.get_closest_marker(name) for name in _OTHER_ASYNC_MARKERS)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run coroutine test functions on a fresh loop (see the module doc)."""
    if not _is_coroutine_test(pyfuncitem):
        return None
    funcargs = pyfuncitem.funcargs
    kwargs = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run_async(pyfuncitem.obj(**kwargs))
    return True


@pytest.fixture
def async_client():
    """An :class:`~async_app.testing.AsyncClient`: ``response = await async_client.get('/')``."""
    from .client import AsyncClient

    return AsyncClient()


@pytest.fixture
def async_rf():
    """An :class:`~async_app.testing.AsyncRequestFactory`: ``await view(async_rf.get('/'))``."""
    from .client import AsyncRequestFactory

    return AsyncRequestFactory()
