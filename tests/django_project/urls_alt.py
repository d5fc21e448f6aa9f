"""Another urlconf: the same path, another view (tests of urlconf changes)."""

from django.conf.urls import url

from . import views

urlpatterns = [url(r"^async/hello/$", views.alt_hello)]
