"""``RemoteUserMiddleware.aprocess_request`` (Django 5.1) and what async_app's pipeline runs.

In its async mode (built with a coroutine ``get_response``, as Django 5.2's
ASGI handler builds it) the middleware reads ``META["HTTP_" + header]``, as
5.1's does. async_app's pipeline keeps running Django 1.11's sync
``process_request``, which reads ``META[header]``: a client's
``Remote-User:`` header logs nobody in there.
"""

import pytest
from django.conf.urls import url
from django.contrib.auth.middleware import (
    AuthenticationMiddleware,
    PersistentRemoteUserMiddleware,
    RemoteUserMiddleware,
)
from django.contrib.auth.models import User
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, TestCase, modify_settings, override_settings

from async_app.backports.coroutines import iscoroutinefunction
from async_app.testing.client import AsyncClient

pytestmark = pytest.mark.usefixtures("django_db")

REMOTE_USER_BACKEND = "django.contrib.auth.backends.RemoteUserBackend"


async def whoami(request):
    return HttpResponse((await request.auser()).get_username())


urlpatterns = [url(r"^whoami/$", whoami)]


async def ok(request):
    return HttpResponse("ok")


def request_with_session(**meta):
    request = RequestFactory().get("/", **meta)
    SessionMiddleware().process_request(request)
    AuthenticationMiddleware().process_request(request)
    return request


class OnlyProcessRequest(RemoteUserMiddleware):
    def process_request(self, request):
        request.seen_by = "process_request"


@modify_settings(AUTHENTICATION_BACKENDS={"append": REMOTE_USER_BACKEND})
class AsyncModeTests(TestCase):
    async def test_header_logs_the_user_in_and_creates_them(self):
        middleware = RemoteUserMiddleware(ok)
        self.assertTrue(iscoroutinefunction(middleware))
        request = request_with_session(HTTP_REMOTE_USER="remote-newuser")
        response = await middleware(request)
        self.assertEqual(response.content, b"ok")
        self.assertEqual(request.user.username, "remote-newuser")
        self.assertTrue(await User.objects.filter(username="remote-newuser").aexists())
        self.assertEqual(await request.session.aget("_auth_user_id"), str(request.user.pk))

    async def test_remote_user_environ_key_is_not_read_in_async_mode(self):
        request = request_with_session(REMOTE_USER="remote-newuser")
        await RemoteUserMiddleware(ok)(request)
        self.assertFalse((await request.auser()).is_authenticated)
        self.assertFalse(await User.objects.filter(username="remote-newuser").aexists())

    async def test_header_disappearing_logs_out_unless_persistent(self):
        for factory, still_logged_in in (
            (RemoteUserMiddleware, False),
            (PersistentRemoteUserMiddleware, True),
        ):
            first = request_with_session(HTTP_REMOTE_USER="remote-known")
            await factory(ok)(first)
            await first.session.asave()
            second = request_with_session()
            second.COOKIES["sessionid"] = first.session.session_key
            SessionMiddleware().process_request(second)
            AuthenticationMiddleware().process_request(second)
            self.assertTrue((await second.auser()).is_authenticated)
            await factory(ok)(second)
            user = await second.auser() if still_logged_in else second.user
            self.assertEqual(bool(user.is_authenticated), still_logged_in, factory.__name__)

    async def test_a_subclass_with_its_own_process_request_only_runs_it(self):
        request = request_with_session(HTTP_REMOTE_USER="remote-newuser")
        await OnlyProcessRequest(ok)(request)
        self.assertEqual(request.seen_by, "process_request")
        self.assertFalse((await request.auser()).is_authenticated)


@override_settings(ROOT_URLCONF=__name__)
@modify_settings(
    AUTHENTICATION_BACKENDS={"append": REMOTE_USER_BACKEND},
    MIDDLEWARE={"append": "django.contrib.auth.middleware.RemoteUserMiddleware"},
)
class PipelineTests(TestCase):
    async def test_a_clients_remote_user_header_is_not_what_the_pipeline_reads(self):
        user = await User.objects.acreate(username="remote-known")
        client = AsyncClient()
        await client.aforce_login(user, backend=REMOTE_USER_BACKEND)
        self.assertEqual((await client.get("/whoami/")).content, b"")  # no REMOTE_USER: logged out
        await client.aforce_login(user, backend=REMOTE_USER_BACKEND)
        response = await client.get("/whoami/", REMOTE_USER="remote-known")
        self.assertEqual(response.content, b"")  # 5.1's aprocess_request would keep them
        response = await client.get("/whoami/", REMOTE_USER="remote-intruder")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")  # AnonymousUser
        self.assertFalse(await User.objects.filter(username="remote-intruder").aexists())
