"""Run Django 1.11's own test suite with the test client going through async_app.

Usage: python tools/django_suite.py DJANGO_TESTS_DIR [runtests.py arguments...]

Assigns ``django.test.client.ClientHandler = AsyncClientHandler`` before
Django's ``tests/runtests.py`` creates any test client, so every
``self.client`` request in Django's tests runs through
``AsyncDjangoApplication.get_response``. With ``ASYNC_APP_SYNC_FAST_PATH=0``
even requests for sync views take the coroutine pipeline (hooks awaited on the
loop, sync code inline), instead of Django's own sync pipeline. With
``ASYNC_APP_ALL_OPAQUE=1`` every middleware is also treated as opaque (its
``__call__`` runs on the greenlet bridge, its ``get_response`` suspends it
while the chain below is awaited), so Django's middleware and client suites
run through that bridge.
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import async_app  # noqa: F401  (compat layer first)
import django.test.client

from async_app.testing import AsyncClientHandler


class CoroutinePipelineClientHandler(AsyncClientHandler):
    """AsyncClientHandler whose application never takes the sync fast path."""

    @property
    def application(self):
        application = AsyncClientHandler.application.fget(self)
        application.sync_fast_path = False
        return application


class AllOpaqueClientHandler(AsyncClientHandler):
    """AsyncClientHandler whose application runs every middleware as opaque, never the fast path."""

    @property
    def application(self):
        if self._application is None:
            # async_app.handler needs configured settings: import it at the
            # first request; class-wide, before the application loads its
            # middleware.
            from async_app.handler import AsyncDjangoApplication

            AsyncDjangoApplication.split_middleware = False
            AsyncDjangoApplication.sync_fast_path = False
        return AsyncClientHandler.application.fget(self)


def main(argv):
    tests_dir = os.path.abspath(argv[1])
    if os.environ.get("ASYNC_APP_ALL_OPAQUE", "0") == "1":
        django.test.client.ClientHandler = AllOpaqueClientHandler
    elif os.environ.get("ASYNC_APP_SYNC_FAST_PATH", "1") == "0":
        django.test.client.ClientHandler = CoroutinePipelineClientHandler
    else:
        django.test.client.ClientHandler = AsyncClientHandler
    sys.path.insert(0, tests_dir)
    os.chdir(tests_dir)
    sys.argv = [os.path.join(tests_dir, "runtests.py")] + argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv)
