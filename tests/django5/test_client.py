"""Django 5.2.8's tests/test_client/tests.py: AsyncClientTest and AsyncRequestFactoryTest.

Adapted: URLs from tests/django5/client_urls.py; ``response.asgi_request`` is
``response.wsgi_request`` (async_app's requests are WSGIRequests);
``request.headers[name]`` (Django 2.2's HttpHeaders) is read as the
``request.META`` key it maps to.
"""

from django.http import HttpResponse, HttpResponseNotAllowed
from django.test import (
    AsyncRequestFactory,
    SimpleTestCase,
    TestCase,
    modify_settings,
    override_settings,
)
from django.utils.decorators import async_only_middleware


@async_only_middleware
def async_middleware_urlconf(get_response):
    async def middleware(request):
        request.urlconf = "tests.django5.client_middleware_urls"
        return await get_response(request)

    return middleware


@override_settings(ROOT_URLCONF="tests.django5.client_urls")
class AsyncClientTest(TestCase):
    async def test_response_resolver_match(self):
        response = await self.async_client.get("/async_get_view/")
        self.assertTrue(hasattr(response, "resolver_match"))
        self.assertEqual(response.resolver_match.url_name, "async_get_view")

    @modify_settings(
        MIDDLEWARE={"prepend": "tests.django5.test_client.async_middleware_urlconf"},
    )
    async def test_response_resolver_match_middleware_urlconf(self):
        response = await self.async_client.get("/middleware_urlconf_view/")
        self.assertEqual(response.resolver_match.url_name, "middleware_urlconf_view")

    async def test_redirect(self):
        response = await self.async_client.get("/redirect_view/")
        self.assertEqual(response.status_code, 302)

    async def test_follow_redirect(self):
        tests = (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "trace",
        )
        for method_name in tests:
            with self.subTest(method=method_name):
                method = getattr(self.async_client, method_name)
                response = await method("/redirect_view/", follow=True)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.resolver_match.url_name, "get_view")

    async def test_follow_double_redirect(self):
        response = await self.async_client.get("/double_redirect_view/", follow=True)
        self.assertRedirects(response, "/get_view/", status_code=302, target_status_code=200)
        self.assertEqual(len(response.redirect_chain), 2)

    async def test_get_data(self):
        response = await self.async_client.get("/get_view/", {"var": "val"})
        self.assertContains(response, "This is a test. val is the value.")

    async def test_post_data(self):
        response = await self.async_client.post("/post_view/", {"value": 37})
        self.assertContains(response, "Data received: 37 is the value.")

    async def test_body_read_on_get_data(self):
        response = await self.async_client.get("/post_view/")
        self.assertContains(response, "Viewing GET page.")

    async def test_query_params(self):
        tests = (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "trace",
        )
        for method in tests:
            with self.subTest(method=method):
                client_method = getattr(self.async_client, method)
                response = await client_method("/async_get_view/", query_params={"example": "data"})
                self.assertEqual(response.wsgi_request.GET["example"], "data")


@override_settings(ROOT_URLCONF="tests.django5.client_urls")
class AsyncRequestFactoryTest(SimpleTestCase):
    request_factory = AsyncRequestFactory()

    async def test_request_factory(self):
        tests = (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "trace",
        )
        for method_name in tests:
            with self.subTest(method=method_name):

                async def async_generic_view(request):
                    if request.method.lower() != method_name:
                        return HttpResponseNotAllowed(method_name)
                    return HttpResponse(status=200)

                method = getattr(self.request_factory, method_name)
                request = method("/somewhere/")
                response = await async_generic_view(request)
                self.assertEqual(response.status_code, 200)

    async def test_request_factory_data(self):
        async def async_generic_view(request):
            return HttpResponse(status=200, content=request.body)

        request = self.request_factory.post(
            "/somewhere/",
            data={"example": "data"},
            content_type="application/json",
        )
        self.assertEqual(request.META["CONTENT_LENGTH"], "19")
        self.assertEqual(request.META["CONTENT_TYPE"], "application/json")
        response = await async_generic_view(request)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b'{"example": "data"}')

    async def test_request_limited_read(self):
        tests = ["GET", "POST"]
        for method in tests:
            with self.subTest(method=method):
                request = self.request_factory.generic(
                    method,
                    "/somewhere",
                )
                self.assertEqual(request.read(200), b"")

    def test_request_factory_sets_headers(self):
        request = self.request_factory.get(
            "/somewhere/",
            AUTHORIZATION="Bearer faketoken",
            X_ANOTHER_HEADER="some other value",
        )
        self.assertEqual(request.META["HTTP_AUTHORIZATION"], "Bearer faketoken")
        self.assertIn("HTTP_AUTHORIZATION", request.META)
        self.assertEqual(request.META["HTTP_X_ANOTHER_HEADER"], "some other value")
        self.assertIn("HTTP_X_ANOTHER_HEADER", request.META)

        request = self.request_factory.get(
            "/somewhere/",
            headers={
                "Authorization": "Bearer faketoken",
                "X-Another-Header": "some other value",
            },
        )
        self.assertEqual(request.META["HTTP_AUTHORIZATION"], "Bearer faketoken")
        self.assertIn("HTTP_AUTHORIZATION", request.META)
        self.assertEqual(request.META["HTTP_X_ANOTHER_HEADER"], "some other value")
        self.assertIn("HTTP_X_ANOTHER_HEADER", request.META)

    def test_async_request_factory_default_headers(self):
        request_factory_with_headers = AsyncRequestFactory(
            **{
                "Authorization": "Bearer faketoken",
                "X-Another-Header": "some other value",
            }
        )
        request = request_factory_with_headers.get("/somewhere/")
        self.assertEqual(request.META["HTTP_AUTHORIZATION"], "Bearer faketoken")
        self.assertIn("HTTP_AUTHORIZATION", request.META)
        self.assertEqual(request.META["HTTP_X_ANOTHER_HEADER"], "some other value")
        self.assertIn("HTTP_X_ANOTHER_HEADER", request.META)

    def test_request_factory_query_string(self):
        request = self.request_factory.get("/somewhere/", {"example": "data"})
        self.assertNotIn("HTTP_QUERY_STRING", request.META)
        self.assertEqual(request.GET["example"], "data")

    def test_request_factory_query_params(self):
        tests = (
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "trace",
        )
        for method in tests:
            with self.subTest(method=method):
                factory = getattr(self.request_factory, method)
                request = factory("/somewhere", query_params={"example": "data"})
                self.assertEqual(request.GET["example"], "data")

    def test_cannot_use_data_and_query_params_together(self):
        tests = ["get", "head"]
        msg = "query_params and data arguments are mutually exclusive."
        for method in tests:
            with self.subTest(method=method):
                factory = getattr(self.request_factory, method)
                with self.assertRaisesMessage(ValueError, msg):
                    factory(
                        "/somewhere",
                        data={"example": "data"},
                        query_params={"q": "terms"},
                    )
