"""Fixtures shared by the view-side toolkit's tests."""
import pytest


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
