"""A function-style middleware, as 2017 projects write them (opaque to the pipeline).

tests.apps.worker_django_settings adds it when ``WORKER_DJANGO_FUNCTION_MIDDLEWARE``
is set in the server's environment.
"""


def timing_middleware(get_response):
    """Wraps every request; adds a header so tests can see it ran."""

    def middleware(request):
        response = get_response(request)
        response["X-Function-Middleware"] = "ran"
        return response

    return middleware
