"""Run Django REST framework 3.11.2's own test suite through async_app.

Usage: python tools/drf_suite.py DRF_SOURCE_DIR [--coroutine-dispatch] [pytest arguments...]

DRF_SOURCE_DIR holds DRF's ``tests/`` (``make drf-suite`` unpacks
tools/drf-3.11.2-tests.tar.gz, the tag's ``tests`` folder, which the PyPI
sdist does not ship). Before DRF's ``rest_framework.test`` is imported,
``django.test.client.ClientHandler = AsyncClientHandler``, so every
``APIClient``/``Client`` request of DRF's tests runs through
``AsyncDjangoApplication.get_response``, and DRF's ``ForceAuthClientHandler``
(``force_authenticate()``) is a subclass of ``AsyncClientHandler``.

With ``--coroutine-dispatch`` every ``APIView.dispatch`` goes through
``async_dispatch`` (the path of coroutine handlers; sync handlers then run
through it too), so DRF's whole suite checks that this path answers as DRF's
own dispatch: awaited by the pipeline under the test client, run to
completion on a private loop (inline) when a test calls a view directly.

Needs pytest < 8 (DRF 3.11's tests use nose-style ``setup``) and
pytest-django 3.x (4.x expects Django 2.2's ``TestCase.databases``).
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import async_app  # noqa: E402,F401  (compat layer and the DRF hook first)
import django.test.client  # noqa: E402
import pytest  # noqa: E402

from async_app.sync import inline_mode, run_until_complete  # noqa: E402
from async_app.testing import AsyncClientHandler  # noqa: E402


def _coroutine_dispatch(self, request, *args, **kwargs):
    """``APIView.dispatch`` that always takes ``async_dispatch``."""
    coroutine = self.async_dispatch(request, *args, **kwargs)
    if asyncio._get_running_loop() is None:  # a test calling the view itself
        with inline_mode():
            return run_until_complete(coroutine)
    return coroutine


class AsyncAppPlugin:
    """Checks that the suite really runs through async_app, and counts its requests."""

    def __init__(self, coroutine_dispatch):
        self.coroutine_dispatch = coroutine_dispatch
        self.requests = 0
        self.dispatches = 0

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config):
        # After DRF's conftest configured settings: DRF may be imported now.
        from rest_framework import test, views

        assert issubclass(test.ForceAuthClientHandler, AsyncClientHandler)
        assert views.APIView.async_dispatch, "async_app.drf did not adapt APIView"
        handle_async = AsyncClientHandler.handle_async
        async_dispatch = views.APIView.async_dispatch
        plugin = self

        async def counted_handle_async(handler, environ):
            plugin.requests += 1
            return await handle_async(handler, environ)

        async def counted_async_dispatch(view, request, *args, **kwargs):
            plugin.dispatches += 1
            return await async_dispatch(view, request, *args, **kwargs)

        AsyncClientHandler.handle_async = counted_handle_async
        views.APIView.async_dispatch = counted_async_dispatch
        if self.coroutine_dispatch:
            views.APIView.dispatch = _coroutine_dispatch

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            "async_app: %d test-client requests through AsyncClientHandler, %d async_dispatch calls"
            % (self.requests, self.dispatches)
        )


def main(argv):
    source_dir = os.path.abspath(argv[1])
    args = argv[2:]
    coroutine_dispatch = "--coroutine-dispatch" in args
    if coroutine_dispatch:
        args.remove("--coroutine-dispatch")
    django.test.client.ClientHandler = AsyncClientHandler
    sys.path.insert(0, source_dir)
    os.chdir(source_dir)
    ini = os.path.join(source_dir, "pytest.ini")
    if not os.path.exists(ini):  # so pytest does not take async_app's own
        with open(ini, "w") as f:
            f.write("[pytest]\naddopts = --tb=short -ra\n")
    plugin = AsyncAppPlugin(coroutine_dispatch)
    status = pytest.main(
        ["-p", "no:cacheprovider", "--rootdir", source_dir, "tests"] + args, plugins=[plugin]
    )
    if status == 0 and plugin.requests == 0:
        print("async_app: no request went through AsyncClientHandler")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
