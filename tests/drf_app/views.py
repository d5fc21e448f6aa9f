"""Every coroutine handler kind of DRF 3.11, with their sync twins for comparison."""

import asyncio
import os
import threading

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, generics, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView, exception_handler

from async_app import database_sync_to_async, http_session

from .models import Item
from .serializers import ItemSerializer, ShoutingItemSerializer

AUTHENTICATION = [SessionAuthentication, TokenAuthentication]


async def fetch_quote(name):
    """The outbound call: GET the quote service the test started."""
    url = getattr(settings, "DRF_QUOTE_URL", None) or os.environ["DRF_QUOTE_URL"]
    async with http_session().get("%s/%s" % (url, name)) as response:
        return (await response.json())["quote"]


class InGroup(BasePermission):
    """Members of the 'api' group only: a query in ``has_permission``."""

    def has_permission(self, request, view):
        return request.user.groups.filter(name="api").exists()


class DatabaseCacheThrottle(UserRateThrottle):
    """Three requests a minute per user, counted in the database cache."""

    cache = caches["drf_db"]
    scope = "user-db"
    rate = "3/min"


class ItemThrottle(DatabaseCacheThrottle):
    """Eight requests a minute per user (the viewset's)."""

    scope = "items"
    rate = "8/min"


class Hello(APIView):
    """``async def get`` on DRF's own APIView; ``post`` stays sync."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    async def get(self, request):
        await asyncio.sleep(0)
        return Response(
            {
                "user": request.user.username,
                "handler": "coroutine",
                "authenticator": type(request.successful_authenticator).__name__,
            }
        )

    def post(self, request):
        return Response({"user": request.user.username, "handler": "sync", "data": request.data})


class SyncHello(APIView):
    """Hello's sync twin."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(
            {
                "user": request.user.username,
                "handler": "coroutine",
                "authenticator": type(request.successful_authenticator).__name__,
            }
        )

    post = Hello.post


class GroupOnly(APIView):
    """A permission that queries the database."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated, InGroup]

    async def get(self, request):
        return Response({"group": True})


class Throttled(APIView):
    """A throttle over the database cache."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    throttle_classes = [DatabaseCacheThrottle]

    async def get(self, request):
        return Response({"throttled": False})


class CoroutineHello(APIView):
    """An ``@asyncio.coroutine`` handler."""

    permission_classes = [AllowAny]

    @asyncio.coroutine
    def get(self, request):
        yield from asyncio.sleep(0)
        return Response({"handler": "generator-coroutine"})


def _raise(kind):
    if kind == "notfound":
        raise exceptions.NotFound("no such thing")
    if kind == "validation":
        raise exceptions.ValidationError({"name": ["This field is wrong."]})
    if kind == "http404":
        raise Http404
    if kind == "denied":
        raise exceptions.PermissionDenied()
    if kind == "unauthenticated":
        raise exceptions.NotAuthenticated()
    raise RuntimeError("boom")


class Errors(APIView):
    """Exceptions from a coroutine handler."""

    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]

    async def get(self, request, kind):
        await asyncio.sleep(0)
        _raise(kind)


class SyncErrors(APIView):
    """Errors' sync twin."""

    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]

    def get(self, request, kind):
        _raise(kind)


class ThreadNotingTokenAuthentication(TokenAuthentication):
    """TokenAuthentication that notes the thread it ran in on the request."""

    def authenticate(self, request):
        request.checks_thread = threading.current_thread().name
        return super().authenticate(request)


class WhereChecksRun(APIView):
    """Answers the threads of the authentication and of the coroutine handler."""

    authentication_classes = [ThreadNotingTokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def get(self, request):
        return Response(
            {"checks": request.checks_thread, "handler": threading.current_thread().name}
        )


def wrapping_exception_handler(exc, context):
    """An ``EXCEPTION_HANDLER``: DRF's answer, wrapped, naming the view."""
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"error": response.data, "view": type(context["view"]).__name__}
    return response


class Unguarded(APIView):
    """A coroutine handler that queries the ORM on the loop itself: the guard still stops it."""

    permission_classes = [AllowAny]

    async def get(self, request):
        return Response({"users": User.objects.count()})


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
async def function_view(request):
    """``@api_view`` on an ``async def``."""
    await asyncio.sleep(0)
    return Response({"method": request.method, "data": request.data, "handler": "coroutine"})


@api_view(["GET"])
@permission_classes([AllowAny])
@asyncio.coroutine
def generator_function_view(request):
    """``@api_view`` on an ``@asyncio.coroutine``."""
    yield from asyncio.sleep(0)
    return Response({"handler": "generator-coroutine"})


class TwoPerPage(PageNumberPagination):
    """Pages of two."""

    page_size = 2


class ItemViewSet(viewsets.ModelViewSet):
    """list/retrieve/create are ``async def`` and await an outbound HTTP call; the rest is DRF's."""

    queryset = Item.objects.order_by("id")
    serializer_class = ItemSerializer
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ItemThrottle]
    pagination_class = TwoPerPage
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["name"]

    async def list(self, request, *args, **kwargs):
        quote = await fetch_quote("list")
        response = await self.alist(request, *args, **kwargs)
        response["X-Quote"] = quote
        return response

    async def retrieve(self, request, *args, **kwargs):
        quote = await fetch_quote("retrieve")
        response = await self.aretrieve(request, *args, **kwargs)
        response["X-Quote"] = quote
        return response

    async def create(self, request, *args, **kwargs):
        self.quote = await fetch_quote("create")
        return await self.acreate(request, *args, **kwargs)

    async def perform_acreate(self, serializer):
        await serializer.asave(owner=self.request.user, note=self.quote)

    @action(detail=False)
    async def stats(self, request):
        count = await database_sync_to_async(self.get_queryset().count)()
        return Response({"count": count})


class AsyncItemList(generics.ListCreateAPIView):
    """Generic views with coroutine handlers over adrf's helpers (no throttle, no auth)."""

    queryset = Item.objects.order_by("id")
    serializer_class = ItemSerializer
    permission_classes = [AllowAny]
    pagination_class = TwoPerPage
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["name", "price"]

    async def get(self, request, *args, **kwargs):
        return await self.alist(request, *args, **kwargs)

    async def post(self, request, *args, **kwargs):
        return await self.acreate(request, *args, **kwargs)


class SyncItemList(AsyncItemList):
    """AsyncItemList's sync twin (DRF's own get/post)."""

    get = generics.ListCreateAPIView.get
    post = generics.ListCreateAPIView.post


class AsyncItemDetail(generics.RetrieveUpdateDestroyAPIView):
    """Retrieve, update, destroy as coroutines (``aget_object`` underneath)."""

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    permission_classes = [AllowAny]

    async def get(self, request, *args, **kwargs):
        return await self.aretrieve(request, *args, **kwargs)

    async def put(self, request, *args, **kwargs):
        return await self.aupdate(request, *args, **kwargs)

    async def patch(self, request, *args, **kwargs):
        return await self.partial_aupdate(request, *args, **kwargs)

    async def delete(self, request, *args, **kwargs):
        return await self.adestroy(request, *args, **kwargs)


class SerializerHelpers(APIView):
    """The serializer helpers by hand: ais_valid, asave, adata; adrf-style acreate/aupdate."""

    permission_classes = [AllowAny]

    async def post(self, request, shout):
        serializer_class = ShoutingItemSerializer if shout == "shout" else ItemSerializer
        serializer = serializer_class(data=request.data)
        await serializer.ais_valid(raise_exception=True)
        await serializer.asave(price=99)
        return Response(await serializer.adata, status=201)

    async def put(self, request, shout):
        instance = await database_sync_to_async(Item.objects.get)(pk=request.data["id"])
        serializer = ShoutingItemSerializer(instance, data=request.data, partial=True)
        if not await serializer.ais_valid():
            return Response(serializer.errors, status=400)
        await serializer.asave()
        return Response(await serializer.adata)
