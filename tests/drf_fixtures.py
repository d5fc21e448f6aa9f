"""Fixtures for the DRF integration's tests (tests/test_drf_*.py): the test API in tests/drf_app."""

import asyncio
import os
import subprocess
import sys
import threading
from urllib.request import Request, urlopen

import pytest
from aiohttp import web

from tests.gunicorn_fixture import ROOT
from tests.toolkit_fixtures import db, gunicorn_server, server_db, toolkit_server  # noqa: F401

# The token of the user the gunicorn-served tests authenticate as.
SERVER_TOKEN = "0123456789abcdef0123456789abcdef01234567"


class QuoteService:
    """The outbound HTTP service the test API's handlers await: an aiohttp app in a thread."""

    def __init__(self):
        self.calls = []
        self.url = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _quote(self, request):
        name = request.match_info["name"]
        self.calls.append(name)
        await asyncio.sleep(0.01)
        return web.json_response({"quote": "quote-for-" + name})

    def _serve(self):
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{name}", self._quote)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.url = "http://127.0.0.1:%d" % self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self):
        self._thread.start()
        assert self._ready.wait(10), "quote service did not start"
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="session")
def quote_service():
    """The outbound service (session-wide), stopped at the end."""
    service = QuoteService().start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def drf_db(django_db):
    """The session test database plus the database cache's table (throttles)."""
    from django.core.management import call_command

    call_command("createcachetable", verbosity=0)
    return django_db


@pytest.fixture
def api(drf_db, db, quote_service, settings_quote_url):  # noqa: F811
    """An APIClient through AsyncClientHandler and a user 'ann' (in group 'api') with a token."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_user("ann", password="secret")
    user.groups.add(Group.objects.create(name="api"))
    token = Token.objects.create(user=user)
    client = AsyncAPIClient()
    client.user, client.token = user, token
    return client


@pytest.fixture
def settings_quote_url(quote_service):
    """``settings.DRF_QUOTE_URL`` points at the quote service for the test."""
    from django.test import override_settings

    with override_settings(DRF_QUOTE_URL=quote_service.url):
        yield quote_service.url


def _async_api_client_class():
    from rest_framework.test import APIClient, ForceAuthClientHandler

    from async_app.testing import AsyncClientHandler

    class AsyncForceAuthClientHandler(ForceAuthClientHandler, AsyncClientHandler):
        """DRF's handler over AsyncClientHandler, as after ``ClientHandler = AsyncClientHandler``."""

    class Client(APIClient):
        def __init__(self, enforce_csrf_checks=False, **defaults):
            super().__init__(enforce_csrf_checks, **defaults)
            self.handler = AsyncForceAuthClientHandler(enforce_csrf_checks)

    return Client


def AsyncAPIClient(*args, **kwargs):
    """DRF's ``APIClient`` whose requests go through the coroutine pipeline."""
    return _async_api_client_class()(*args, **kwargs)


@pytest.fixture(scope="session")
def drf_server_db(server_db):  # noqa: F811
    """``server_db`` plus the cache table and user 'gus' with ``SERVER_TOKEN``, for gunicorn."""
    env = dict(
        os.environ,
        ASYNC_APP_TEST_DB=server_db.path,
        DJANGO_SETTINGS_MODULE="tests.django_project.settings",
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    subprocess.check_call(
        [
            sys.executable,
            "-c",
            "import async_app, django; django.setup(); "
            "from django.core.management import call_command; call_command('createcachetable', verbosity=0); "
            "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
            "Token.objects.create(user=User.objects.create_user('gus', password='secret'), key=%r)"
            % SERVER_TOKEN,
        ],
        cwd=ROOT,
        env=env,
    )
    return server_db


@pytest.fixture
def drf_server(toolkit_server, drf_server_db, quote_service):  # noqa: F811
    """Factory: the test project (with the DRF API) under gunicorn and the aiohttp worker."""

    def start(**gunicorn_settings):
        gunicorn_settings.setdefault("env", {})["DRF_QUOTE_URL"] = quote_service.url
        return toolkit_server(**gunicorn_settings)

    return start


def http(server, method, path, body=None, token=SERVER_TOKEN, headers=None):
    """One request to a gunicorn test server: (status, headers, body bytes); errors are answers too."""
    from urllib.error import HTTPError

    all_headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        all_headers["Authorization"] = "Token " + token
    all_headers.update(headers or {})
    request = Request(server.url(path), data=body, method=method, headers=all_headers)
    try:
        with urlopen(request, timeout=15) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()
