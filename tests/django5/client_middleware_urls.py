"""Django 5.2.8's tests/test_client/urls_middleware_urlconf.py."""

from .client_urls import middleware_urlpatterns as urlpatterns  # noqa: F401
