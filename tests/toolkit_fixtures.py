"""Fixtures and helpers shared by the view-side toolkit's tests."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from urllib.request import urlopen

import pytest

from tests.gunicorn_fixture import ROOT, gunicorn_server  # noqa: F401  (re-exported fixture)


def run_on_fresh_loop(coro):
    """Run ``coro`` as the worker would: a loop in this thread, *not* inline mode."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def http_get(server, path):
    """GET ``path`` from a gunicorn test server: (status, body text)."""
    with urlopen(server.url(path), timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def db(django_db):
    """The test database, each test in a transaction rolled back at the end.

    Coroutine tests run in inline mode (async_app.testing.runner), so their
    database_sync_to_async calls and the views they request share this
    thread's connection, and this transaction.
    """
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class ServerDatabase:
    """A migrated SQLite file for gunicorn-served tests, read with sqlite3 directly."""

    def __init__(self, path):
        self.path = path

    def group_names(self):
        with sqlite3.connect(self.path) as conn:
            return sorted(name for (name,) in conn.execute("SELECT name FROM auth_group"))


@pytest.fixture(scope="session")
def server_db(tmp_path_factory):
    """The test project's tables in a file that gunicorn workers open (migrated once)."""
    path = str(tmp_path_factory.mktemp("toolkit") / "db.sqlite3")
    env = dict(
        os.environ, ASYNC_APP_TEST_DB=path, DJANGO_SETTINGS_MODULE="tests.django_project.settings"
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    subprocess.check_call(
        [
            sys.executable,
            "-c",
            "import async_app, django; django.setup(); "
            "from django.core.management import call_command; call_command('migrate', verbosity=0)",
        ],
        cwd=ROOT,
        env=env,
    )
    return ServerDatabase(path)


@pytest.fixture
def toolkit_server(gunicorn_server, server_db):  # noqa: F811
    """Factory: the test project under a real gunicorn with the aiohttp worker, on ``server_db``."""

    def start(settings_module="tests.django_project.settings", **gunicorn_settings):
        env = {"ASYNC_APP_TEST_DB": server_db.path, "DJANGO_SETTINGS_MODULE": settings_module}
        env.update(gunicorn_settings.pop("env", {}))
        gunicorn_settings.setdefault("startup_path", "/async/hello/")
        return gunicorn_server(
            "tests.django_project.toolkit_wsgi:application", env=env, **gunicorn_settings
        )

    return start
