"""The Django ORM from coroutines: a thread-pool helper and a guard.

Django 1.11 keeps one database connection per *thread*. Every coroutine
request of a worker runs on the event loop's single thread, so ORM calls made
there would share one connection: concurrent requests would interleave their
queries and transactions, and each query would block the whole loop.

* :func:`database_sync_to_async` runs ORM code in the worker's view pool with
  ``close_old_connections()`` around it, like channels' helper of the same
  name.
* :func:`install_guard` makes database access from a coroutine on the event
  loop raise :class:`SynchronousOnlyOperation`, as Django 3.0+ does, so the
  mistake shows up at once instead of as a rare interleaving bug in
  production. ``DJANGO_ALLOW_ASYNC_UNSAFE`` (any non-empty value, read at
  call time) switches it off. The request handler installs it at import.
"""

import asyncio
import functools
import os

from .sync import in_sync_code, is_inline, run_sync

__all__ = ["SynchronousOnlyOperation", "database_sync_to_async", "install_guard"]

# The entry points of BaseDatabaseWrapper that open a connection or a cursor
# (Django 3.0 decorates these, or the backend methods they call, with
# @async_unsafe). Not close(): close_old_connections() runs from the
# request_started/finished signals on the loop thread and must stay harmless.
# For the same reason ensure_connection() only raises when it would connect:
# close_old_connections() calls it (through get_autocommit()) on a connection
# that is already open, such as one a test or start-up code opened in this
# thread before the loop ran; it only reads state then.
GUARDED_METHODS = ("connect", "ensure_connection", "_cursor", "cursor", "chunked_cursor")


class SynchronousOnlyOperation(Exception):
    """Raised when a coroutine on the event loop touches the database layer.

    Same name and meaning as Django 3.0's ``django.core.exceptions``
    exception, which Django 1.11 does not have.
    """


def _check_async_unsafe(name):
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        return
    if asyncio._get_running_loop() is None or in_sync_code():
        return
    raise SynchronousOnlyOperation(
        "Database access (%s) from a coroutine running on the event loop: "
        "concurrent requests would share this thread's connection and block "
        "the loop. Wrap the ORM code in async_app.database_sync_to_async "
        "(or use a sync view). Set DJANGO_ALLOW_ASYNC_UNSAFE=1 to disable "
        "this check." % name
    )


def _guarded(method):
    name = method.__name__
    only_if_closed = name == "ensure_connection"

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        if not (only_if_closed and self.connection is not None):
            _check_async_unsafe(name)
        return method(self, *args, **kwargs)

    guarded._async_app_guarded = True
    return guarded


def install_guard():
    """Make DB connection/cursor use from a coroutine on the loop raise (idempotent).

    Sync code started through :mod:`async_app.sync` (sync views and
    middleware, :func:`database_sync_to_async`, inline mode under the test
    client) and code in threads without a running loop are unaffected.
    """
    from django.db.backends.base.base import BaseDatabaseWrapper

    for name in GUARDED_METHODS:
        method = BaseDatabaseWrapper.__dict__[name]
        if not getattr(method, "_async_app_guarded", False):
            setattr(BaseDatabaseWrapper, name, _guarded(method))


def _apply(func, args, kwargs):
    return func(*args, **kwargs)


def call_closing_connections(func, *args, **kwargs):
    """Call ``func`` between two ``close_old_connections()``, in this thread.

    What Django's request_started/request_finished do around a request, done
    around one piece of work in a pool thread that serves many requests, so
    no connection (broken, past ``CONN_MAX_AGE``, or with ``CONN_MAX_AGE=0``
    any) outlives it there. The request pipeline uses it for its hops too.
    """
    from django.db import close_old_connections

    close_old_connections()
    try:
        return func(*args, **kwargs)
    finally:
        close_old_connections()


def database_sync_to_async(func):
    """Wrap ORM code so coroutines can await it; runs in the view pool.

    ``close_old_connections()`` runs in the pool thread before and after the
    call, as Django does around each request, so a pool thread never holds on
    to a connection that is broken or past ``CONN_MAX_AGE``.

    In inline mode (the test client) the call runs on the test's own thread
    and connections are *not* closed: the test's ``TestCase`` transaction
    lives on that thread's connection, and closing it would end the
    transaction (and hide the test's data from the view). Usable as a
    decorator or as ``await database_sync_to_async(func)(*args)``.
    """

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        # args and kwargs travel packed: run_sync has keywords of its own.
        if is_inline():
            return await run_sync(_apply, func, args, kwargs)
        return await run_sync(call_closing_connections, _apply, func, args, kwargs)

    return wrapper
