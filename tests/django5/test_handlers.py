"""Django 5.2.8's tests/handlers/tests.py: its async tests.

Adapted: URLs from tests/django5/handler_urls.py (so the views' dotted paths
in messages are ``tests.django5.handler_urls.*``); the sync test client of
HandlerRequestTests serves through async_app's AsyncClientHandler
(docs/testing.md), Django 1.11's own ClientHandler knowing nothing of
coroutine views.
"""

from django.db import connection
from django.test import Client, SimpleTestCase, override_settings

from async_app.testing import AsyncClientHandler


class PipelineClient(Client):
    """Django's test Client through AsyncDjangoApplication (docs/testing.md)."""

    def __init__(self, enforce_csrf_checks=False, **defaults):
        super().__init__(enforce_csrf_checks, **defaults)
        self.handler = AsyncClientHandler(enforce_csrf_checks)


# A TransactionTestCase with available_apps = [] in Django; here a
# SimpleTestCase (the refusal comes before any query, and the shared test
# settings' middleware needs the auth app).
@override_settings(ROOT_URLCONF="tests.django5.handler_urls")
class TransactionsPerRequestTests(SimpleTestCase):
    async def test_auto_transaction_async_view(self):
        old_atomic_requests = connection.settings_dict["ATOMIC_REQUESTS"]
        try:
            connection.settings_dict["ATOMIC_REQUESTS"] = True
            msg = "You cannot use ATOMIC_REQUESTS with async views."
            with self.assertRaisesMessage(RuntimeError, msg):
                await self.async_client.get("/async_regular/")
        finally:
            connection.settings_dict["ATOMIC_REQUESTS"] = old_atomic_requests


@override_settings(ROOT_URLCONF="tests.django5.handler_urls")
class HandlerRequestTests(SimpleTestCase):
    client_class = PipelineClient

    def test_async_view(self):
        """Calling an async view down the normal synchronous path."""
        response = self.client.get("/async_regular/")
        self.assertEqual(response.status_code, 200)

    def test_async_streaming(self):
        response = self.client.get("/async_streaming/")
        self.assertEqual(response.status_code, 200)
        msg = (
            "StreamingHttpResponse must consume asynchronous iterators in order to "
            "serve them synchronously. Use a synchronous iterator instead."
        )
        with self.assertWarnsMessage(Warning, msg) as ctx:
            self.assertEqual(b"".join(list(response)), b"streaming content")
        self.assertEqual(ctx.filename, __file__)


@override_settings(ROOT_URLCONF="tests.django5.handler_urls")
class AsyncHandlerRequestTests(SimpleTestCase):
    """Async variants of the normal handler request tests."""

    async def test_sync_view(self):
        """Calling a sync view down the asynchronous path."""
        response = await self.async_client.get("/regular/")
        self.assertEqual(response.status_code, 200)

    async def test_async_view(self):
        """Calling an async view down the asynchronous path."""
        response = await self.async_client.get("/async_regular/")
        self.assertEqual(response.status_code, 200)

    async def test_suspiciousop_in_view_returns_400(self):
        response = await self.async_client.get("/suspicious/")
        self.assertEqual(response.status_code, 400)

    # Not ported: test_bad_request_in_view_returns_400: BadRequest is Django 3.2's.

    async def test_no_response(self):
        msg = (
            "The view tests.django5.handler_urls.no_response didn't return an "
            "HttpResponse object. It returned None instead."
        )
        with self.assertRaisesMessage(ValueError, msg):
            await self.async_client.get("/no_response_fbv/")

    async def test_unawaited_response(self):
        msg = (
            "The view tests.django5.handler_urls.CoroutineClearingView.__call__ didn't"
            " return an HttpResponse object. It returned an unawaited"
            " coroutine instead. You may need to add an 'await'"
            " into your view."
        )
        with self.assertRaisesMessage(ValueError, msg):
            await self.async_client.get("/unawaited/")

    # Not ported: test_root_path, test_force_script_name: they build requests
    # from ASGI scope keys (path, root_path); async_app's AsyncRequestFactory
    # builds WSGI environs (script name and path come from SCRIPT_NAME and
    # PATH_INFO, as Django 1.11's RequestFactory's).

    async def test_sync_streaming(self):
        response = await self.async_client.get("/streaming/")
        self.assertEqual(response.status_code, 200)
        msg = (
            "StreamingHttpResponse must consume synchronous iterators in order to "
            "serve them asynchronously. Use an asynchronous iterator instead."
        )
        with self.assertWarnsMessage(Warning, msg) as ctx:
            self.assertEqual(b"".join([chunk async for chunk in response]), b"streaming content")
        self.assertEqual(ctx.filename, __file__)

    async def test_async_streaming(self):
        response = await self.async_client.get("/async_streaming/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join([chunk async for chunk in response]), b"streaming content")
