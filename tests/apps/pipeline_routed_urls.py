"""The urlconf ``RoutingMiddleware`` sets for ``/routed/...``: a coroutine view."""

from django.conf.urls import url

from tests.apps.pipeline_urls import async_cancel, async_render

urlpatterns = [
    url(r"^routed/cancel/$", async_cancel),
    url(r"^routed/render/$", async_render),
]
