"""The function-style middleware the benchmark adds: an in-house timing middleware."""

import time


def timing_middleware(get_response):
    """Stamp each response with the time the inner chain took (as most in-house ones do)."""

    def middleware(request):
        started = time.perf_counter()
        response = get_response(request)
        response["X-Elapsed-Ms"] = "%.3f" % ((time.perf_counter() - started) * 1000.0)
        return response

    return middleware


class TimingMiddleware:
    """The same as a class with its own ``__call__`` (opaque too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Elapsed-Ms"] = "%.3f" % ((time.perf_counter() - started) * 1000.0)
        return response
