"""``aget_object_or_404`` and ``aget_list_or_404`` in ``django.shortcuts`` (Django 5.0)."""

from django.http import Http404

__all__ = ["aget_list_or_404", "aget_object_or_404", "install_shortcuts"]


def _queryset(klass):
    from django.shortcuts import _get_queryset

    return _get_queryset(klass)


def _name(klass):
    return klass.__name__ if isinstance(klass, type) else klass.__class__.__name__


async def aget_object_or_404(klass, *args, **kwargs):
    """Async ``get_object_or_404()``."""
    queryset = _queryset(klass)
    if not hasattr(queryset, "aget"):
        raise ValueError(
            "First argument to aget_object_or_404() must be a Model, Manager, or "
            "QuerySet, not '%s'." % _name(klass)
        )
    try:
        return await queryset.aget(*args, **kwargs)
    except queryset.model.DoesNotExist:
        raise Http404("No %s matches the given query." % queryset.model._meta.object_name)


async def aget_list_or_404(klass, *args, **kwargs):
    """Async ``get_list_or_404()``."""
    queryset = _queryset(klass)
    if not hasattr(queryset, "filter"):
        raise ValueError(
            "First argument to aget_list_or_404() must be a Model, Manager, or "
            "QuerySet, not '%s'." % _name(klass)
        )
    obj_list = [obj async for obj in queryset.filter(*args, **kwargs)]
    if not obj_list:
        raise Http404("No %s matches the given query." % queryset.model._meta.object_name)
    return obj_list


def install_shortcuts(shortcuts):
    """Add the two functions to ``django.shortcuts``."""
    for func in (aget_object_or_404, aget_list_or_404):
        if not hasattr(shortcuts, func.__name__):
            setattr(shortcuts, func.__name__, func)
