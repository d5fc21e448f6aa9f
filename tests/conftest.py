"""Shared fixtures: Django configured for tests.django_project, a test database."""

import os

import async_app  # noqa: F401  (applies the compat layer before Django loads)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_project.settings")

import django  # noqa: E402
import pytest  # noqa: E402

django.setup()


@pytest.fixture(scope="session")
def django_test_environment():
    """Django's test environment (locmem email, template instrumentation)."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    yield
    teardown_test_environment()


@pytest.fixture(scope="session")
def django_db(django_test_environment):
    """A migrated test database for the whole session (shared in-memory SQLite)."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    yield connection
    connection.creation.destroy_test_db(old_name, verbosity=0)


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
