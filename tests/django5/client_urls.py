"""The views and URLs of Django 5.2.8's tests/test_client that its async tests use."""

from urllib.parse import urlencode

from django.conf.urls import url
from django.http import HttpResponse, HttpResponseRedirect
from django.template import Context, Template
from django.views.generic import RedirectView


def get_view(request):
    "A simple view that expects a GET request, and returns a rendered template"
    t = Template("This is a test. {{ var }} is the value.", name="GET Template")
    c = Context({"var": request.GET.get("var", 42)})

    return HttpResponse(t.render(c))


async def async_get_view(request):
    return HttpResponse(b"GET content.")


def post_view(request):
    """A view that expects a POST, and returns a different template depending
    on whether any POST data is available
    """
    if request.method == "POST":
        if request.POST:
            t = Template("Data received: {{ data }} is the value.", name="POST Template")
            c = Context({"data": request.POST["value"]})
        else:
            t = Template("Viewing POST page.", name="Empty POST Template")
            c = Context()
    else:
        t = Template("Viewing GET page.", name="Empty GET Template")
        # Used by test_body_read_on_get_data.
        request.read(200)
        c = Context()
    return HttpResponse(t.render(c))


def redirect_view(request):
    "A view that redirects all requests to the GET view"
    if request.GET:
        query = "?" + urlencode(request.GET, True)
    else:
        query = ""
    return HttpResponseRedirect("/get_view/" + query)


def double_redirect_view(request):
    "A view that redirects all requests to a redirection view"
    return HttpResponseRedirect("/permanent_redirect_view/")


def empty_response(request):
    return HttpResponse()


urlpatterns = [
    url(r"^get_view/$", get_view, name="get_view"),
    url(r"^post_view/$", post_view),
    url(r"^redirect_view/$", redirect_view),
    url(r"^permanent_redirect_view/$", RedirectView.as_view(url="/get_view/", permanent=True)),
    url(r"^double_redirect_view/$", double_redirect_view),
    url(r"^async_get_view/$", async_get_view, name="async_get_view"),
]

# test_client/urls_middleware_urlconf.py
middleware_urlpatterns = [
    url(r"^middleware_urlconf_view/$", empty_response, name="middleware_urlconf_view"),
]
