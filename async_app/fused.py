"""The common case, fused: one run of ``MiddlewareMixin`` right around the view.

The innermost run of plain ``MiddlewareMixin`` middleware and the view make
one :class:`FusedLayer`: one piece of sync code before the view (every
process_request, resolving, every process_view), the view awaited, one piece
after (template hooks, rendering, every process_response). At the top of the
chain the request is made and finished in those same two pieces. Under opaque
middleware the layer is entered from sync code on the bridge
(:meth:`FusedLayer.from_sync`): its sync pieces then run right there, and only
the view is awaited.

Exceptions become responses where Django's nested
``convert_exception_to_response`` wrappers would.
"""

from django.conf import settings
from django.urls import set_urlconf

from .exception import convert_exception, convert_unless_cancelled
from .middleware import wait_from_sync
from .modes import is_awaitable

__all__ = ["FusedLayer"]


class FusedLayer:
    """The innermost run of ``MiddlewareMixin`` (a ``HookSegment``) and the view, as one layer."""

    __slots__ = ("handler", "segment")

    def __init__(self, handler, segment):
        self.handler = handler
        self.segment = segment

    async def __call__(self, request):
        request, response = await self.run(request)
        return response

    async def run(self, request, make_request=None, args=(), top=False):
        """Returns ``(request, response)``; ``top``: the segment is the whole chain.

        Then the request is made (``make_request(*args)`` when ``request`` is
        None) and finished in the same two pieces of sync code.
        """
        handler = self.handler
        runner = handler._runner
        request, response, depth, step = await runner.run_sync_code(
            self._before_view, request, make_request, args, top
        )
        view_ran = False
        if response is None:
            try:
                response, view_ran = await handler._await_view(request, step)
            except Exception as exc:
                response = await runner.convert_exception(request, exc)
        after = self._after_view
        step = step if view_ran else None
        result = await runner.run_sync_code(after, request, response, depth, step, top)
        if is_awaitable(result):  # an async def render()
            try:
                response = await handler._awaited_render(request, result)
            except Exception as exc:
                response = await runner.convert_exception(request, exc)
            result = await runner.run_sync_code(after, request, response, depth, None, top)
        return request, result

    def from_sync(self, request):
        """:meth:`run` from sync code on the bridge (below opaque middleware): only the view awaited."""
        handler = self.handler
        request, response, depth, step = self._before_view(request, None, (), False)
        view_ran = False
        if response is None:
            try:
                response, view_ran = wait_from_sync(handler._await_view(request, step))
            except Exception as exc:
                response = convert_unless_cancelled(request, exc)
        result = self._after_view(request, response, depth, step if view_ran else None, False)
        if is_awaitable(result):  # an async def render()
            try:
                response = wait_from_sync(handler._awaited_render(request, result))
            except Exception as exc:
                response = convert_unless_cancelled(request, exc)
            result = self._after_view(request, response, depth, None, False)
        return result

    def _before_view(self, request, make_request, args, top):
        if request is None:
            request = make_request(*args)
        if top:
            set_urlconf(settings.ROOT_URLCONF)
        response, depth = self.segment.process_requests(request)
        if response is not None:
            return request, response, depth, None
        try:
            step = self.handler._before_view(request)
        except Exception as exc:
            return request, convert_exception(request, exc), depth, None
        return request, None, depth, step

    def _after_view(self, request, response, depth, step, top):
        if step is not None:
            try:
                response = self.handler._after_view(request, response, step)
            except Exception as exc:
                response = convert_exception(request, exc)
            if is_awaitable(response):
                return response  # awaited, then back here without a step
        response = self.segment.process_responses(request, response, depth)
        return self.handler._finish_response(request, response) if top else response
