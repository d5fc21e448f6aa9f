"""montage's URLs plus the benchmark's views (``bench/views.py``)."""

from django.conf.urls import include, url

from bench.views import sync_hello, trivial_coroutine_hello, trivial_hello


urlpatterns = [
    url(r"^sync-hello/$", sync_hello),
    url(r"^trivial-hello/$", trivial_hello),
    url(r"^trivial-coroutine-hello/$", trivial_coroutine_hello),
    url(r"^", include("montage.urls")),
]
