"""A Django project on PostgreSQL for tests/test_db_connections.py: every kind of
thread that can hold a database connection uses one.

* ``/sync/``: a sync view (view pool) running a query;
* ``/orm/``: a coroutine view awaiting ``database_sync_to_async`` (view pool);
* ``/slow/?s=``: a coroutine view that sleeps; around it the function-style
  middleware below runs a query in its ``__call__``, so for coroutine views
  that query runs in a bridge-pool thread (held while the view sleeps);
* every request: a hook-style middleware (``process_request``) queries too;
  for coroutine views its hooks run on the event loop's thread.

Settings come from the environment: ``DB_NAME``, ``DB_USER``, ``DB_HOST``,
``DB_PORT``, ``CONN_MAX_AGE``. ``application`` is the gunicorn app.
"""

import asyncio
import os

import async_app

from django.utils.deprecation import MiddlewareMixin  # noqa: E402  (needs no settings)

os.environ["DJANGO_SETTINGS_MODULE"] = __name__

SECRET_KEY = "db-connections-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS = []
MIDDLEWARE = [__name__ + ".QueryHookMiddleware", __name__ + ".query_middleware"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", ""),
        "USER": os.environ.get("DB_USER", ""),
        "HOST": os.environ.get("DB_HOST", ""),
        "PORT": os.environ.get("DB_PORT", ""),
        "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "0")),
    }
}
USE_TZ = True


def _query():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class QueryHookMiddleware(MiddlewareMixin):
    """Hook-style middleware whose ``process_request`` queries."""

    def process_request(self, request):
        _query()


def query_middleware(get_response):
    """Function-style middleware that queries before every view."""

    def middleware(request):
        _query()
        return get_response(request)

    return middleware


def sync_view(request):
    from django.http import HttpResponse

    return HttpResponse("sync %d" % _query())


async def orm_view(request):
    from django.http import HttpResponse

    return HttpResponse("orm %d" % await async_app.database_sync_to_async(_query)())


async def slow_view(request):
    from django.http import HttpResponse

    await asyncio.sleep(float(request.GET.get("s", "0.2")))
    return HttpResponse("slow")


from django.conf.urls import url  # noqa: E402

urlpatterns = [
    url(r"^sync/$", sync_view),
    url(r"^orm/$", orm_view),
    url(r"^slow/$", slow_view),
]

application = async_app.AsyncDjangoApplication()
