"""The ported Django tests are Django TestCases: they need the test database."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _django5_db(django_db):
    """The session's migrated test database (tests/conftest.py), for every test here."""
    return django_db
