"""URLs of the soak project."""

from django.conf.urls import url

from . import views

urlpatterns = [
    url(r"^coro/$", views.coro_hello),
    url(r"^sync/$", views.sync_hello),
    url(r"^db/sync/$", views.db_sync),
    url(r"^db/coro/$", views.db_coro),
    url(r"^stream/sync/$", views.stream_sync),
    url(r"^stream/async/$", views.stream_async),
    url(r"^upload/$", views.upload),
    url(r"^stats/$", views.stats),
]
