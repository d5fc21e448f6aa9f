"""adrf's async helpers on DRF's ``GenericAPIView`` and model mixins.

Coroutine handlers call these instead of the sync ones, under adrf's names
(``aget_object``, ``alist``, ``acreate``, ...), so the code moves to adrf's
classes unchanged. What touches the database (filter backends,
``get_object``, pagination, queryset evaluation, serializing, saving) runs
in the view pool through :func:`async_app.database_sync_to_async`, one hop
for each step an override may replace: ``alist`` and ``aretrieve`` are DRF's
own ``list`` and ``retrieve`` in a single hop.

As in adrf, ``acreate``/``aupdate``/``adestroy`` call the async hooks
``perform_acreate``/``perform_aupdate``/``perform_adestroy`` (by default
``await serializer.asave()`` and the instance's ``delete()`` in the pool),
not the sync ``perform_*`` ones.
"""

from rest_framework import mixins as drf_mixins
from rest_framework.response import Response

from ..db import database_sync_to_async
from ..sync import call_here

__all__ = ["AsyncGenericAPIViewMethods", "AsyncModelMixinMethods", "patch"]


def _in_pool(func, *args, **kwargs):
    return database_sync_to_async(func)(*args, **kwargs)


class AsyncGenericAPIViewMethods:
    """Added to ``rest_framework.generics.GenericAPIView``."""

    async def aget_object(self):
        """``get_object()`` (filtering, lookup, object permissions) in one hop."""
        return await _in_pool(self.get_object)

    async def afilter_queryset(self, queryset):
        """``filter_queryset(queryset)`` (every filter backend) in one hop."""
        return await _in_pool(self.filter_queryset, queryset)

    async def apaginate_queryset(self, queryset):
        """``paginate_queryset(queryset)``: the page, evaluated, or None."""
        return await _in_pool(self.paginate_queryset, queryset)

    async def get_apaginated_response(self, data):
        """``get_paginated_response(data)`` (DRF's paginators have counted already)."""
        return call_here(self.get_paginated_response, data)


async def _serializer_data(serializer):
    return await _in_pool(getattr, serializer, "data")


class AsyncModelMixinMethods:
    """Added to DRF's model mixins."""

    async def alist(self, request, *args, **kwargs):
        """DRF's ``list`` (filter, paginate, serialize) in one hop."""
        return await _in_pool(drf_mixins.ListModelMixin.list, self, request, *args, **kwargs)

    async def aretrieve(self, request, *args, **kwargs):
        """DRF's ``retrieve`` (get_object, serialize) in one hop."""
        return await _in_pool(
            drf_mixins.RetrieveModelMixin.retrieve, self, request, *args, **kwargs
        )

    async def acreate(self, request, *args, **kwargs):
        """DRF's ``create`` with ``await self.perform_acreate(serializer)``."""
        serializer = self.get_serializer(data=request.data)
        await _in_pool(serializer.is_valid, raise_exception=True)
        await self.perform_acreate(serializer)
        data = await _serializer_data(serializer)
        headers = self.get_success_headers(data)
        return Response(data, status=201, headers=headers)

    async def perform_acreate(self, serializer):
        """Save the new instance: ``await serializer.asave()``."""
        await serializer.asave()

    async def aupdate(self, request, *args, **kwargs):
        """DRF's ``update`` with ``await self.perform_aupdate(serializer)``."""
        partial = kwargs.pop("partial", False)
        instance = await self.aget_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        await _in_pool(serializer.is_valid, raise_exception=True)
        await self.perform_aupdate(serializer)
        if getattr(instance, "_prefetched_objects_cache", None):
            # As DRF: a prefetch cache on the instance is stale after the update.
            instance._prefetched_objects_cache = {}
        return Response(await _serializer_data(serializer))

    async def perform_aupdate(self, serializer):
        """Save the changes: ``await serializer.asave()``."""
        await serializer.asave()

    async def partial_aupdate(self, request, *args, **kwargs):
        """``aupdate`` with ``partial=True`` (PATCH)."""
        kwargs["partial"] = True
        return await self.aupdate(request, *args, **kwargs)

    async def adestroy(self, request, *args, **kwargs):
        """DRF's ``destroy`` with ``await self.perform_adestroy(instance)``."""
        instance = await self.aget_object()
        await self.perform_adestroy(instance)
        return Response(status=204)

    async def perform_adestroy(self, instance):
        """Delete the instance, in the view pool."""
        await _in_pool(instance.delete)


_MIXIN_METHODS = {
    "ListModelMixin": ("alist",),
    "RetrieveModelMixin": ("aretrieve",),
    "CreateModelMixin": ("acreate", "perform_acreate"),
    "UpdateModelMixin": ("aupdate", "perform_aupdate", "partial_aupdate"),
    "DestroyModelMixin": ("adestroy", "perform_adestroy"),
}


def _add_methods(cls, source, names):
    for name in names:
        if name not in cls.__dict__:
            setattr(cls, name, source.__dict__[name])


def patch(module):
    """Adapt ``rest_framework.generics`` or ``rest_framework.mixins``."""
    if module.__name__ == "rest_framework.generics":
        names = [
            name for name in AsyncGenericAPIViewMethods.__dict__ if name.startswith(("a", "get_a"))
        ]
        _add_methods(module.GenericAPIView, AsyncGenericAPIViewMethods, names)
    elif module.__name__ == "rest_framework.mixins":
        for class_name, names in _MIXIN_METHODS.items():
            _add_methods(getattr(module, class_name), AsyncModelMixinMethods, names)
