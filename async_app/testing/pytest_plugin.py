"""pytest support for coroutine tests, with no extra dependency.

Enable it in the project's top-level ``conftest.py``::

    pytest_plugins = ["async_app.testing.pytest_plugin"]

(or ``pytest -p async_app.testing.pytest_plugin``). Then:

* ``async def test_...`` functions run through
  :func:`async_app.testing.runner.run_async`: a fresh event loop per test,
  sync code inline on the test's thread, spawned tasks waited for and the
  shared HTTP session closed at the end. Fixtures are ordinary sync
  fixtures. Tests marked for another async plugin (``@pytest.mark.asyncio``,
  ``@pytest.mark.anyio``) are left to it. Django's ``override_settings`` (and
  every other ``TestContextDecorator``) can decorate coroutine tests (see
  :func:`async_app.testing.runner.install`); a test wrapped by another sync
  decorator, which would return the coroutine without running it, fails.
  Write tests as ``async def``: recent pytest refuses to collect generator
  functions, ``@asyncio.coroutine`` ones included.
* fixtures ``async_client`` (an :class:`~async_app.testing.AsyncClient`) and
  ``async_rf`` (an :class:`~async_app.testing.AsyncRequestFactory`).

Django itself must be set up by the project (its conftest or pytest-django).
"""

import inspect

import pytest

from .runner import _is_coroutine_function, run_async

_OTHER_ASYNC_MARKERS = ("asyncio", "anyio", "trio")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run coroutine test functions on a fresh loop (see the module doc)."""
    func = pyfuncitem.obj
    if any(pyfuncitem.get_closest_marker(name) for name in _OTHER_ASYNC_MARKERS):
        return None
    if _is_coroutine_function(func):
        runner = run_async
    elif _is_coroutine_function(inspect.unwrap(func)):
        # A sync decorator around a coroutine test: it returns the coroutine
        # without running it. Older pytest would only skip such a test.
        runner = _fail_unawaited
    else:
        return None
    funcargs = pyfuncitem.funcargs
    runner(func(**{name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}))
    return True


def _fail_unawaited(result):
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        pytest.fail(
            "a sync decorator wraps this coroutine test and returned it un-run (its own "
            "setup and teardown ran without the test); put the decorator's effect "
            "inside the test, or use a decorator that supports coroutine functions",
            pytrace=False,
        )


@pytest.fixture
def async_client():
    """An :class:`~async_app.testing.AsyncClient`: ``response = await async_client.get('/')``."""
    from .client import AsyncClient

    return AsyncClient()


@pytest.fixture
def async_rf():
    """An :class:`~async_app.testing.AsyncRequestFactory`: ``await view(async_rf.get('/'))``."""
    from .factory import AsyncRequestFactory

    return AsyncRequestFactory()
