"""URLs of the test API (mounted at /drf/ by tests.django_project.urls)."""

from django.conf.urls import url
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register(r"items", views.ItemViewSet, basename="item")

urlpatterns = [
    url(r"^hello/$", views.Hello.as_view()),
    url(r"^sync-hello/$", views.SyncHello.as_view()),
    url(r"^group-only/$", views.GroupOnly.as_view()),
    url(r"^throttled/$", views.Throttled.as_view()),
    url(r"^coroutine-hello/$", views.CoroutineHello.as_view()),
    url(r"^errors/(?P<kind>\w+)/$", views.Errors.as_view()),
    url(r"^sync-errors/(?P<kind>\w+)/$", views.SyncErrors.as_view()),
    url(r"^where-checks-run/$", views.WhereChecksRun.as_view()),
    url(r"^unguarded/$", views.Unguarded.as_view()),
    url(r"^function/$", views.function_view),
    url(r"^generator-function/$", views.generator_function_view),
    url(r"^generic/items/$", views.AsyncItemList.as_view()),
    url(r"^sync-generic/items/$", views.SyncItemList.as_view()),
    url(r"^generic/items/(?P<pk>\d+)/$", views.AsyncItemDetail.as_view()),
    url(r"^serializer/(?P<shout>shout|plain)/$", views.SerializerHelpers.as_view()),
] + router.urls
