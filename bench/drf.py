"""What DRF's coroutine handlers cost: ``python -m bench.drf`` (not part of CI).

In one process, on the test project (tests/drf_app) over a temporary SQLite
file, with token authentication (a query per request):

1. ``APIView.dispatch`` of a sync handler, called directly, against DRF's own
   dispatch (``sync_dispatch``): what the per-request choice costs a sync API.
2. Requests through ``AsyncDjangoApplication.get_response`` on an event loop
   (as the worker runs them, minus HTTP): the sync handler (sync fast path, a
   hop to the view pool) against the coroutine handler (on the loop).

Times are process CPU time (all threads), not wall time, so that other load
on a shared machine counts less. Each measurement is the best of ``BENCH_ROUNDS`` (default 5) alternating
rounds of ``BENCH_REQUESTS`` (default 1000) requests.
"""

import asyncio
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["ASYNC_APP_TEST_DB"] = os.path.join(tempfile.mkdtemp(prefix="bench-drf-"), "db.sqlite3")
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django_project.settings"

import async_app  # noqa: E402,F401
import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.client import RequestFactory  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def prepare():
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=User.objects.create_user("bench")).key


def per_request(func, count=REQUESTS):
    func()  # warm up
    started = time.process_time()
    for _ in range(count):
        func()
    return (time.process_time() - started) / count * 1e6


def direct_dispatch(token):
    from rest_framework.views import APIView

    from tests.drf_app.views import SyncHello

    factory = RequestFactory()

    def call(dispatch):
        view = SyncHello()
        view.headers = {}
        request = factory.get("/drf/sync-hello/", HTTP_AUTHORIZATION="Token " + token)
        return dispatch(view, request)

    ours, drfs = [], []
    for _ in range(ROUNDS):  # alternating, best of each: a shared machine is noisy
        ours.append(per_request(lambda: call(APIView.dispatch)))
        drfs.append(per_request(lambda: call(APIView.sync_dispatch)))
    ours, drfs = min(ours), min(drfs)
    from async_app.drf.views import _handler
    from async_app.middleware import is_coroutine_function

    view = SyncHello()
    choice = per_request(lambda: is_coroutine_function(_handler(view, "GET")), count=100 * REQUESTS)
    print(
        "the per-request choice alone (the handler, is it a coroutine function): %.2f us" % choice
    )
    print(
        "sync handler, direct dispatch: async_app.drf %.1f us, DRF's own %.1f us (%+.1f us)"
        % (ours, drfs, ours - drfs)
    )


async def pipeline(token):
    from async_app import AsyncDjangoApplication

    application = AsyncDjangoApplication()
    factory = RequestFactory()

    async def one(path):
        environ = factory.get(path, HTTP_AUTHORIZATION="Token " + token).environ
        response = await application.get_response(WSGIRequest(environ))
        assert response.status_code == 200, response.content
        response.close()

    paths = (
        ("/drf/sync-hello/", "sync handler (view pool)"),
        ("/drf/hello/", "coroutine handler (loop)"),
    )
    best = {}
    for _ in range(ROUNDS):
        for path, label in paths:
            await one(path)
            started = time.process_time()
            for _ in range(REQUESTS):
                await one(path)
            took = (time.process_time() - started) / REQUESTS * 1e6
            best[label] = min(best.get(label, took), took)
    for _, label in paths:
        print("%s through the pipeline: %.1f us/request" % (label, best[label]))


def main():
    token = prepare()
    direct_dispatch(token)
    asyncio.new_event_loop().run_until_complete(pipeline(token))


if __name__ == "__main__":
    main()
