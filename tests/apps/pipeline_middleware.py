"""Middleware for tests/test_core.py: a function-style one, one with an async hook, one that routes."""

from django.utils.deprecation import MiddlewareMixin


def stamp_middleware(get_response):
    """A function-style (opaque) middleware, as most in-house ones are written."""

    def middleware(request):
        response = get_response(request)
        response["X-Stamp"] = "function"
        return response

    return middleware


class RoutingMiddleware(MiddlewareMixin):
    """Send ``/routed/...`` to another urlconf (``request.urlconf``), as multi-tenant projects do."""

    def process_request(self, request):
        if request.path_info.startswith("/routed/"):
            request.urlconf = "tests.apps.pipeline_routed_urls"


class AsyncStampMiddleware(MiddlewareMixin):
    """A ``MiddlewareMixin`` with an ``async def`` hook (a layer of its own on the coroutine pipeline)."""

    async def process_response(self, request, response):
        response["X-Stamp"] = "async hook"
        return response
