"""Shared fixtures: Django configured for tests.django_project, a test database.

``ASYNC_APP_TEST_POSTGRES=1`` runs the session on PostgreSQL instead of
SQLite: a throwaway server (tests.services) is started before Django is set
up, the settings read its address from ``ASYNC_APP_TEST_PG_*``, and it is
stopped at the session's end (at exit, or on SIGTERM, at the latest).
pytest-xdist workers inherit those variables and share the server, each
with a test database of its own.
"""

import atexit
import gc
import os
import signal
import subprocess
import sys
import time

import async_app  # noqa: F401  (applies the compat layer before Django loads)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_project.settings")

import django  # noqa: E402
import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSTGRES_MODE = os.environ.get("ASYNC_APP_TEST_POSTGRES", "").lower() in ("1", "true", "yes", "on")
_owned_postgres = []


def _start_postgres():
    """Start the session's PostgreSQL and point tests.django_project.settings at it."""
    from tests.services import PostgresServer

    server = PostgresServer()
    _owned_postgres.append(server)
    atexit.register(_stop_postgres)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop_postgres_and_die)
    server.start()
    os.environ.update(
        ASYNC_APP_TEST_PG_HOST="127.0.0.1",
        ASYNC_APP_TEST_PG_PORT=str(server.port),
        ASYNC_APP_TEST_PG_USER=server.user,
        ASYNC_APP_TEST_PG_NAME=server.dbname,
    )


def _stop_postgres():
    while _owned_postgres:
        _owned_postgres.pop().stop(remove=True)


def _stop_postgres_and_die(signum, frame):
    _stop_postgres()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


# An xdist worker (or a caller with a server of its own) already has the address.
if POSTGRES_MODE and not os.environ.get("ASYNC_APP_TEST_PG_PORT"):
    _start_postgres()

django.setup()


def pytest_unconfigure(config):
    """Stop the PostgreSQL this process started, if any (PostgreSQL mode)."""
    _stop_postgres()


@pytest.fixture(scope="session")
def run_python():
    """``run_python(code, **env)``: ``python -c code`` in the project root, its result.

    With the test project's settings and ``env`` added to the environment:
    what a process that reads a switch at ``import async_app`` does.
    """

    def run(code, **env):
        environ = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.django_project.settings", **env)
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="session")
def django_test_environment():
    """Django's test environment (locmem email, template instrumentation)."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    yield
    teardown_test_environment()


@pytest.fixture(scope="session")
def django_db(django_test_environment):
    """A migrated test database for the whole session (shared in-memory SQLite;
    ``test_async_app_<worker>`` in PostgreSQL mode)."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    yield connection
    _wait_for_other_sessions(connection)
    connection.creation.destroy_test_db(old_name, verbosity=0)


def _wait_for_other_sessions(connection, timeout=10.0):
    """PostgreSQL: let the test database's other sessions end before it is dropped.

    DROP DATABASE refuses to run while another session is connected. A pool
    thread keeps the connection of ORM code a test ran there through
    ``run_sync`` (only the pipeline's hops close theirs), a finished thread
    leaves its connection to the cyclic GC (Django's connection objects hold
    cycles), and a stopped server's backend ends a moment after its process:
    the pools are shut down, garbage collected, then the sessions waited for.
    A session still there after ``timeout`` (a server left running) makes the
    drop fail, as before.
    """
    if connection.vendor != "postgresql":
        return
    from async_app.sync import shutdown_executors

    shutdown_executors(wait=True)
    gc.collect()
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0] or time.monotonic() > deadline:
                return
            time.sleep(0.05)


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (tests.services), stopped at the end."""
    from tests.services import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway Redis server for the session (tests.services), stopped at the end."""
    from tests.services import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def restartable_postgres_server():
    """A second throwaway PostgreSQL for tests that restart it mid-test (others keep theirs)."""
    from tests.services import PostgresServer

    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def restartable_redis_server():
    """A second throwaway Redis for tests that restart it mid-test."""
    from tests.services import RedisServer

    with RedisServer() as server:
        yield server
